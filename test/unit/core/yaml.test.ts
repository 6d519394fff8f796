import { describe, expect, it } from 'vitest';
import { parseYamlDocument } from '../../../src/core/yaml.js';

/** Each level multiplies the expansions by ten: 10^6 leaves from a few hundred bytes. */
const ALIAS_BOMB = [
  'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]',
].join('\n');

describe('parseYamlDocument', () => {
  it.each([
    ['a: 1\nb: [x, y]\n', { a: 1, b: ['x', 'y'] }],
    ['{"a": {"b": true}}', { a: { b: true } }],
    ['', null],
    ['base: &v 1\ncopy: *v\n', { base: 1, copy: 1 }],
  ])('%j', (text, want) => {
    expect(parseYamlDocument(text)).toEqual({ ok: true, value: want });
  });

  it.each(['a: [1, 2', 'a: 1\n  b: 2\n', 'a: 1\na: 2\n'])('reports %j as errors', (text) => {
    const result = parseYamlDocument(text);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).not.toHaveLength(0);
  });

  it('accepts a repeated key, the last one winning, when asked', () => {
    expect(parseYamlDocument('a: 1\na: 2\n', { uniqueKeys: false })).toEqual({
      ok: true,
      value: { a: 2 },
    });
  });

  it('turns an alias bomb into an error instead of expanding it', () => {
    const result = parseYamlDocument(ALIAS_BOMB);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.errors.join(' ')).toMatch(/alias/i);
  });
});
