import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInjectorError } from '../../../src/errors.js';
import {
  MAX_JSON_CONTAINERS,
  MAX_JSON_DEPTH,
  MAX_JSON_KEYS,
  parseJsonBody,
} from '../../../src/core/json-parse.js';

function refusal(text: string): string {
  try {
    parseJsonBody(text);
  } catch (error) {
    expect(isInjectorError(error)).toBe(true);
    if (isInjectorError(error)) {
      expect(error.code).toBe('INJ_ERR_REVIEW_MALFORMED');
      expect(error.httpStatus).toBe(400);
    }
    return (error as Error).message;
  }
  throw new Error(`accepted: ${text.slice(0, 80)}`);
}

/** Spells `word` with each character escaped as \\uXXXX where `mask` has a bit set. */
function escaped(word: string, mask: number, upper: boolean): string {
  return [...word]
    .map((ch, i) => {
      if ((mask & (1 << i)) === 0) return ch;
      const hex = ch.charCodeAt(0).toString(16).padStart(4, '0');
      return `\\u${upper ? hex.toUpperCase() : hex}`;
    })
    .join('');
}

describe('parseJsonBody', () => {
  it('gives what JSON.parse gives for any JSON without poisoning keys', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'medium' }), fc.boolean(), (text, pretty) => {
        const value = JSON.parse(text) as unknown;
        const body = pretty ? JSON.stringify(value, null, 2) : text;
        if (/__proto__/.test(body)) return;
        expect(parseJsonBody(body)).toStrictEqual(JSON.parse(body));
      }),
      { numRuns: 600 },
    );
  });

  it('keeps keys named like Object.prototype members as plain own data', () => {
    const body = JSON.stringify({
      metadata: {
        annotations: { constructor: 'a', valueOf: 'b', toString: 'c', hasOwnProperty: 'd' },
      },
    });
    const value = parseJsonBody(body) as { metadata: { annotations: Record<string, string> } };
    expect(value.metadata.annotations['constructor']).toBe('a');
    expect(Object.keys(value.metadata.annotations)).toEqual([
      'constructor',
      'valueOf',
      'toString',
      'hasOwnProperty',
    ]);
  });

  it('accepts "__proto__" and "constructor" as string values', () => {
    expect(parseJsonBody('["__proto__", {"a": "constructor"}]')).toEqual([
      '__proto__',
      { a: 'constructor' },
    ]);
  });

  it('refuses a __proto__ key in every escaped spelling, at any position', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 511 }),
        fc.boolean(),
        fc.constantFrom('', ' ', '\n\t '),
        fc.nat(5),
        (mask, upper, space, nesting) => {
          const key = `"${escaped('__proto__', mask, upper)}"${space}:`;
          const text = `${'{"a":['.repeat(nesting)}{${key}{"x":1}}${']}'.repeat(nesting)}`;
          expect(refusal(text)).toMatch(/__proto__/);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('refuses a constructor object carrying prototype, escaped or not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2047 }), fc.boolean(), (mask, upper) => {
        const text = `{"a":[{"${escaped('constructor', mask, upper)}": {"prototype": {"x": 1}}}]}`;
        expect(refusal(text)).toMatch(/constructor/);
      }),
      { numRuns: 300 },
    );
    // A constructor object without prototype, and a string constructor, are ordinary data.
    expect(parseJsonBody('{"constructor": {"name": "x"}}')).toEqual({ constructor: { name: 'x' } });
    expect(parseJsonBody('{"constructor": "x", "prototype": {}}')).toEqual({
      constructor: 'x',
      prototype: {},
    });
  });

  it('refuses nesting past the bound without parsing, and accepts it at the bound', () => {
    const at = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(parseJsonBody(at)).toBeInstanceOf(Array);
    const over = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
    expect(refusal(over)).toMatch(/nested deeper than 64/);
    // Mixed objects and arrays count alike; brackets inside strings do not count.
    const strings = `{"a":"${'['.repeat(500)}","b":[${'"{{{{",'.repeat(100)}1]}`;
    expect(parseJsonBody(strings)).toMatchObject({ b: expect.any(Array) as unknown });
    const mixed = '{"a":['.repeat(40) + '1' + ']}'.repeat(40);
    expect(refusal(mixed)).toMatch(/nested deeper/);
  });

  it('refuses a 6 MiB nesting bomb after reading only its first levels', () => {
    const half = 3 * 1024 * 1024;
    const bomb = '['.repeat(half) + ']'.repeat(half);
    // Unbounded, JSON.parse of this takes seconds; the refusal reads 65 characters.
    expect(refusal(bomb)).toMatch(/nested deeper/);
  });

  it('handles escaped quotes and backslashes when skipping strings', () => {
    const text = String.raw`{"a":"x\"[[[[","b":"y\\","c":[["\\\"]]]]"]]}`;
    expect(parseJsonBody(text)).toEqual(JSON.parse(text));
  });

  it('bounds objects and arrays in all and keys per object', () => {
    const wide = `[${Array(MAX_JSON_CONTAINERS).fill('{}').join(',')}]`;
    expect(refusal(wide)).toMatch(/objects and arrays/);
    const fits = `[${Array(MAX_JSON_CONTAINERS - 1)
      .fill('[]')
      .join(',')}]`;
    expect((parseJsonBody(fits) as unknown[]).length).toBe(MAX_JSON_CONTAINERS - 1);
    const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`;
    expect(Object.keys(parseJsonBody(keys(MAX_JSON_KEYS)) as object)).toHaveLength(MAX_JSON_KEYS);
    expect(refusal(keys(MAX_JSON_KEYS + 1))).toMatch(/more than 16384 keys/);
    // Long arrays are not bounded by the key count.
    expect(
      parseJsonBody(
        `[${Array(MAX_JSON_KEYS * 2)
          .fill('0')
          .join(',')}]`,
      ),
    ).toHaveLength(MAX_JSON_KEYS * 2);
  });

  it('reports invalid JSON as a malformed review', () => {
    for (const text of ['', '{', '{"a":}', '[1,]', '"unterminated', '{"a":1}x', 'nul']) {
      expect(refusal(text)).toMatch(/not valid JSON|refused/);
    }
  });
});
