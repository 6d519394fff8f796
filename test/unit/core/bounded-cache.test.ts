import { describe, expect, it } from 'vitest';
import { boundedCache, memoByIdentity } from '../../../src/core/bounded-cache.js';

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
