import { describe, expect, it } from 'vitest';
import { getPath, sortedObject, type JsonObject } from '../../../src/core/json.js';

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
