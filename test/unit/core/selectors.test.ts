import { describe, expect, it } from 'vitest';
import { isInjectorError } from '../../../src/errors.js';
import type { LabelSelector } from '../../../src/core/config/types.js';
import {
  isEmptySelector,
  matchesSelector,
  parseSelectorString,
} from '../../../src/core/selectors.js';

describe('matchesSelector', () => {
  const cases: [string, LabelSelector, Record<string, string>, boolean][] = [
    ['empty selector matches nothing', {}, { a: 'b' }, false],
    ['empty lists match nothing', { matchLabels: {}, matchExpressions: [] }, {}, false],
    ['matchLabels equal', { matchLabels: { a: 'b' } }, { a: 'b', c: 'd' }, true],
    ['matchLabels different value', { matchLabels: { a: 'b' } }, { a: 'x' }, false],
    ['matchLabels missing key', { matchLabels: { a: 'b' } }, {}, false],
    ['matchLabels empty value', { matchLabels: { a: '' } }, { a: '' }, true],
    [
      'In hit',
      { matchExpressions: [{ key: 'a', operator: 'In', values: ['x', 'y'] }] },
      { a: 'y' },
      true,
    ],
    [
      'In miss',
      { matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }] },
      { a: 'z' },
      false,
    ],
    ['In absent', { matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }] }, {}, false],
    [
      'NotIn absent key matches',
      { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] },
      {},
      true,
    ],
    [
      'NotIn other value',
      { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] },
      { a: 'y' },
      true,
    ],
    [
      'NotIn listed value',
      { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] },
      { a: 'x' },
      false,
    ],
    [
      'Exists with empty value',
      { matchExpressions: [{ key: 'a', operator: 'Exists' }] },
      { a: '' },
      true,
    ],
    ['Exists absent', { matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { b: '' }, false],
    [
      'DoesNotExist absent',
      { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] },
      {},
      true,
    ],
    [
      'DoesNotExist present',
      { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] },
      { a: 'x' },
      false,
    ],
    [
      'labels and expressions are ANDed',
      { matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'Exists' }] },
      { a: 'b' },
      false,
    ],
  ];
  it.each(cases)('%s', (_name, selector, labels, want) => {
    expect(matchesSelector(selector, labels)).toBe(want);
  });

  it('does not match inherited object properties as labels', () => {
    expect(
      matchesSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {}),
    ).toBe(false);
  });

  it('isEmptySelector', () => {
    expect(isEmptySelector({})).toBe(true);
    expect(isEmptySelector({ matchLabels: { a: 'b' } })).toBe(false);
  });
});

describe('parseSelectorString', () => {
  const cases: [string, LabelSelector][] = [
    ['', {}],
    ['foo', { matchExpressions: [{ key: 'foo', operator: 'Exists' }] }],
    ['!foo', { matchExpressions: [{ key: 'foo', operator: 'DoesNotExist' }] }],
    ['a=b', { matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }],
    ['a==b', { matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }],
    ['a!=b', { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['b'] }] }],
    ['a=', { matchExpressions: [{ key: 'a', operator: 'In', values: [''] }] }],
    ['env in (a,b)', { matchExpressions: [{ key: 'env', operator: 'In', values: ['a', 'b'] }] }],
    [
      'env notin (a, b)',
      { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['a', 'b'] }] },
    ],
    [
      'foo,bar=baz,env in (a,b),!x',
      {
        matchExpressions: [
          { key: 'foo', operator: 'Exists' },
          { key: 'bar', operator: 'In', values: ['baz'] },
          { key: 'env', operator: 'In', values: ['a', 'b'] },
          { key: 'x', operator: 'DoesNotExist' },
        ],
      },
    ],
    [
      ' app.kubernetes.io/name = web ',
      { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['web'] }] },
    ],
  ];
  it.each(cases)('parses %j', (input, want) => {
    expect(parseSelectorString(input)).toEqual(want);
  });

  it.each([
    'a b',
    'a=b=c',
    'a in b',
    'a in (b',
    ',',
    'a,',
    'x>1',
    '!',
    'in (a)x',
    '-bad=1',
    'a=-b-',
  ])('rejects %j with INJ_ERR_CONFIG_INVALID', (input) => {
    let caught: unknown;
    try {
      parseSelectorString(input);
    } catch (error) {
      caught = error;
    }
    expect(isInjectorError(caught) && caught.code).toBe('INJ_ERR_CONFIG_INVALID');
  });

  it('round-trips through matchesSelector', () => {
    const selector = parseSelectorString('tier in (web,api),!canary');
    expect(matchesSelector(selector, { tier: 'web' })).toBe(true);
    expect(matchesSelector(selector, { tier: 'web', canary: '' })).toBe(false);
    expect(matchesSelector(selector, { tier: 'db' })).toBe(false);
  });
});
