import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneJson, mergeValues } from '../../../../src/core/config/merge.js';
import type { JsonObject } from '../../../../src/core/json.js';

// Keys an object with a prototype answers for, mixed with ordinary ones.
const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'),
  fc.string({ maxLength: 6 }),
);
const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean());
const tree = fc.letrec((tie) => ({
  node: fc.dictionary(key, fc.oneof(leaf, tie('node')), { maxKeys: 4 }),
})).node as fc.Arbitrary<JsonObject>;

/** The data as JSON.parse reads it: `__proto__` is an own key there too. */
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('cloneJson / mergeValues with user keys', () => {
  it('keep a __proto__ key as data and never change a prototype', () => {
    const base = JSON.parse('{"a":{"__proto__":{"polluted":1},"b":2}}') as JsonObject;
    const copy = cloneJson(base);
    const a = copy.a as JsonObject;
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
    expect(Object.hasOwn(a, '__proto__')).toBe(true);
    expect(roundTrip(copy)).toEqual(roundTrip(base));
    const merged = mergeValues(base, JSON.parse('{"a":{"__proto__":{"x":3}}}') as JsonObject);
    expect(roundTrip(merged)).toEqual({ a: { ['__proto__']: { polluted: 1, x: 3 }, b: 2 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a clone serialises as its source for any keys (generated)', () => {
    fc.assert(
      fc.property(tree, (input) => {
        const source = JSON.parse(JSON.stringify(input)) as JsonObject;
        expect(JSON.stringify(cloneJson(source))).toBe(JSON.stringify(source));
      }),
      { numRuns: 500 },
    );
  });

  it('a merge of an overlay over itself serialises as the overlay (generated)', () => {
    fc.assert(
      fc.property(tree, (input) => {
        const source = JSON.parse(JSON.stringify(input)) as JsonObject;
        expect(JSON.stringify(mergeValues(source, source))).toBe(JSON.stringify(source));
        expect(Object.getPrototypeOf(mergeValues({}, source))).toBe(Object.prototype);
      }),
      { numRuns: 500 },
    );
  });
});
