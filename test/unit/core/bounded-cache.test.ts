import { describe, expect, it } from 'vitest';
import {
  boundedCache,
  boundedMatchCache,
  memoByIdentity,
} from '../../../src/core/bounded-cache.js';

describe('boundedCache', () => {
  it('computes a key once while it is remembered', () => {
    const cache = boundedCache<number>(4);
    let calls = 0;
    const compute = (key: string) => {
      calls += 1;
      return key.length;
    };
    expect(cache.get('abc', compute)).toBe(3);
    expect(cache.get('abc', compute)).toBe(3);
    expect(calls).toBe(1);
  });

  it('remembers undefined values too', () => {
    const cache = boundedCache<undefined>(4);
    let calls = 0;
    cache.get('x', () => void (calls += 1));
    cache.get('x', () => void (calls += 1));
    expect(calls).toBe(1);
  });

  it('never holds more than max entries: a full cache starts over', () => {
    const cache = boundedCache<string>(2);
    const seen: string[] = [];
    const compute = (key: string) => {
      seen.push(key);
      return key;
    };
    for (const key of ['a', 'b', 'c', 'a', 'b']) cache.get(key, compute);
    // a, b fill it; c clears it; a then fills it again; b is computed once more after the clear.
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b']);
    expect(cache.get('b', compute)).toBe('b');
    expect(seen).toHaveLength(5);
  });
});

describe('memoByIdentity', () => {
  it('computes once per key object, and apart for an equal but distinct object', () => {
    const seen: object[] = [];
    const size = memoByIdentity((key: { items: number[] }) => {
      seen.push(key);
      return { size: key.items.length };
    });
    const a = { items: [1, 2] };
    const b = { items: [1, 2] };
    const first = size(a);
    expect(first).toEqual({ size: 2 });
    expect(size(a)).toBe(first);
    expect(size(b)).not.toBe(first);
    expect(seen).toEqual([a, b]);
    expect(seen[0]).toBe(a);
    expect(seen[1]).toBe(b);
  });
});

describe('boundedMatchCache', () => {
  const counting = () => {
    let calls = 0;
    return {
      compute: () => ++calls,
      calls: () => calls,
    };
  };

  it('answers a value of the same JSON text from memory, any other value anew', () => {
    const cache = boundedMatchCache<number>(16, { perBucket: 4, maxChars: 1 << 20 });
    const { compute, calls } = counting();
    const pod = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c' }] } };
    expect(cache.get('b', pod, compute)).toBe(1);
    expect(cache.get('b', JSON.parse(JSON.stringify(pod)) as unknown, compute)).toBe(1);
    // Another bucket, another value, the same keys in another order: computed.
    expect(cache.get('c', pod, compute)).toBe(2);
    expect(cache.get('b', { ...pod, spec: { containers: [{ name: 'd' }] } }, compute)).toBe(3);
    expect(cache.get('b', { spec: pod.spec, metadata: pod.metadata }, compute)).toBe(4);
    expect(calls()).toBe(4);
  });

  it('keeps a snapshot: changing the value afterwards changes nothing remembered', () => {
    const cache = boundedMatchCache<number>(16, { perBucket: 4, maxChars: 1 << 20 });
    const { compute } = counting();
    const value = { a: [1, 2] };
    cache.get('b', value, compute);
    value.a.push(3);
    expect(cache.get('b', value, compute)).toBe(2);
    expect(cache.get('b', { a: [1, 2] }, compute)).toBe(1);
  });

  it('holds at most perBucket values in a bucket, max in all, maxChars of text', () => {
    const cache = boundedMatchCache<number>(3, { perBucket: 2, maxChars: 40 });
    const { compute, calls } = counting();
    cache.get('b', 1, compute);
    cache.get('b', 2, compute);
    cache.get('b', 3, compute); // the bucket drops 1
    expect(cache.get('b', 2, compute)).toBe(2);
    expect(cache.get('b', 1, compute)).toBe(4);
    expect(calls()).toBe(4);
    // A value larger than all the text allowed is computed every time.
    const big = 'x'.repeat(50);
    cache.get('b', big, compute);
    cache.get('b', big, compute);
    expect(calls()).toBe(6);
    // Past max entries, the cache starts over.
    cache.get('c', 1, compute);
    cache.get('d', 1, compute);
    expect(calls()).toBe(8);
    cache.get('b', 1, compute);
    expect(calls()).toBe(9);
  });

  it('never remembers what is not JSON data', () => {
    const cache = boundedMatchCache<number>(4, { perBucket: 4, maxChars: 1 << 20 });
    const { compute, calls } = counting();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    cache.get('b', cyclic, compute);
    cache.get('b', cyclic, compute);
    expect(calls()).toBe(2);
  });
});
