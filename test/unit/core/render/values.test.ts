import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../../src/core/json.js';
import { valueSetObject } from '../../../../src/core/render/values.js';

describe('valueSetObject', () => {
  it.each<[string, JsonObject, JsonObject | undefined]>([
    ['absent', {}, undefined],
    ['null', { a: { b: null } }, undefined],
    ['an empty map', { a: { b: {} } }, undefined],
    ['a string', { a: { b: 'x' } }, undefined],
    ['a list', { a: { b: [{ c: 1 }] } }, undefined],
    ['a map', { a: { b: { type: 'RuntimeDefault' } } }, { type: 'RuntimeDefault' }],
  ])('%s', (_name, values, want) => {
    expect(valueSetObject(values, 'a.b')).toEqual(want);
  });
});
