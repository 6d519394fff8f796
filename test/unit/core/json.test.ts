import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getPath, jsonEqual, sortedObject, type JsonObject } from '../../../src/core/json.js';

describe('sortedObject', () => {
  it('copies the map with its keys sorted and undefined entries dropped', () => {
    const value: JsonObject = { b: 1, a: null, c: undefined, B: 'x' };
    const sorted = sortedObject(value);
    expect(Object.keys(sorted)).toEqual(['B', 'a', 'b']);
    expect(sorted).toEqual({ B: 'x', a: null, b: 1 });
    expect(value).toEqual({ b: 1, a: null, c: undefined, B: 'x' });
  });

  it('converts each value when asked', () => {
    expect(sortedObject({ y: 2, x: 1 }, (v) => (typeof v === 'number' ? v * 10 : v))).toEqual({
      x: 10,
      y: 20,
    });
  });
});

describe('getPath', () => {
  it.each([
    ['a.b', 1],
    ['a', { b: 1 }],
    ['a.b.c', undefined],
    ['x.y', undefined],
  ])('%s', (path, want) => {
    expect(getPath({ a: { b: 1 } }, path)).toEqual(want);
  });
});

/** One change somewhere in a JSON value: a leaf replaced, a key added or removed, keys reordered. */
function mutate(value: unknown, choice: number, leaf: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value as unknown[];
    if (items.length === 0 || choice % 5 === 0) return [...items, leaf];
    const at = choice % items.length;
    return items.map((item, i) => (i === at ? mutate(item, Math.floor(choice / 7), leaf) : item));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0 || choice % 5 === 0) return { ...value, ['k' + String(choice)]: leaf };
    if (choice % 5 === 1 && entries.length > 1) return Object.fromEntries(entries.reverse());
    if (choice % 5 === 2) return Object.fromEntries(entries.slice(1));
    const at = choice % entries.length;
    return Object.fromEntries(
      entries.map(([k, v], i) => [k, i === at ? mutate(v, Math.floor(choice / 7), leaf) : v]),
    );
  }
  return value === leaf ? [leaf] : leaf;
}

describe('jsonEqual', () => {
  it('is true exactly when two parsed JSON values have the same text (generated)', () => {
    let changed = 0;
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 5 }),
        fc.nat(),
        fc.jsonValue({ maxDepth: 1 }),
        (v, choice, leaf) => {
          const text = JSON.stringify(v);
          const copy: unknown = JSON.parse(text);
          expect(jsonEqual(v, copy)).toBe(true);
          const other: unknown = JSON.parse(JSON.stringify(mutate(copy, choice, leaf)));
          const same = JSON.stringify(other) === text;
          if (!same) changed++;
          expect(jsonEqual(copy, other)).toBe(same);
        },
      ),
      { numRuns: 3000 },
    );
    expect(changed).toBeGreaterThan(1500);
  });

  it('is never true for values JSON writes differently from their properties', () => {
    class Box {
      constructor(readonly a: number) {}
    }
    expect(jsonEqual({ a: 1 }, new Box(1))).toBe(false);
    expect(jsonEqual({ d: new Date(0) }, { d: new Date(1) })).toBe(false);
    expect(jsonEqual({ a: { toJSON: () => 2 } }, { a: { toJSON: () => 3 } })).toBe(false);
    // Equal texts it may call different: an undefined entry, NaN.
    expect(jsonEqual({ a: undefined }, {})).toBe(false);
    expect(jsonEqual([Number.NaN], [Number.NaN])).toBe(false);
    expect(jsonEqual([0], [-0])).toBe(true);
  });
});
