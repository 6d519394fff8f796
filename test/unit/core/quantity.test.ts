import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/core/json.js';
import {
  canonicalQuantity,
  canonicalQuantityValue,
  canonicalResources,
  isQuantityError,
  parseQuantity,
} from '../../../src/core/quantity.js';

describe('canonicalQuantity', () => {
  // Expected forms follow Kubernetes' canonical quantity serialisation rules.
  it.each([
    ['2000m', '2'],
    ['1000m', '1'],
    ['4000m', '4'],
    ['1024Mi', '1Gi'],
    ['2048Ki', '2Mi'],
    ['0.5Gi', '512Mi'],
    ['1.5Gi', '1536Mi'],
    ['1536', '1536'],
    ['512', '512'],
    ['1000Ki', '1000Ki'],
    ['500Mi', '500Mi'],
    ['128Mi', '128Mi'],
    ['1Ki', '1Ki'],
    ['0.1Ki', '102400m'],
    ['512Ki', '512Ki'],
    ['100m', '100m'],
    ['0.5', '500m'],
    ['1.5', '1500m'],
    ['1.0', '1'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['1000000', '1M'],
    ['5G', '5G'],
    ['1e3', '1e3'],
    ['1E3', '1e3'],
    ['12e6', '12e6'],
    ['1n', '1n'],
    ['0.1n', '1n'],
    ['0', '0'],
    ['0Mi', '0'],
    ['0.000m', '0'],
    ['-100m', '-100m'],
    ['+2', '2'],
    ['.5', '500m'],
    ['007', '7'],
    // Beyond the largest decimal suffix the exponent form keeps the magnitude (kubernetes#140459).
    ['1000E', '1e21'],
    ['5000000P', '5e21'],
    ['1000Ei', '1000Ei'],
    // The API server's JSON decoding trims a quantity before parsing it.
    [' 1 ', '1'],
    ['\t2000m', '2'],
  ])('%s -> %s', (input, want) => {
    expect(canonicalQuantity(input)).toBe(want);
  });

  it.each(['lots', 'not-a-quantity', '1 Mi', '1e1001'])('returns invalid %j unchanged', (input) => {
    expect(canonicalQuantity(input)).toBe(input);
  });
});

describe('canonicalQuantityValue', () => {
  it.each<[JsonObject[string], JsonObject[string]]>([
    ['2000m', '2'],
    [1000, '1k'],
    [0.5, '500m'],
    [true, true],
    [null, null],
    [{ cpu: '2000m' }, { cpu: '2000m' }],
  ])('%j -> %j', (input, want) => {
    expect(canonicalQuantityValue(input ?? null)).toEqual(want);
  });
});

describe('canonicalResources', () => {
  it('canonicalises limits and requests in place and leaves other keys alone', () => {
    const resources: JsonObject = {
      limits: { cpu: '2000m', memory: '1024Mi', 'example.com/gpu': 1 },
      requests: { cpu: 0.5, memory: 'lots' },
      claims: [{ name: '1000m' }],
    };
    canonicalResources(resources);
    expect(resources).toEqual({
      limits: { cpu: '2', memory: '1Gi', 'example.com/gpu': '1' },
      requests: { cpu: '500m', memory: 'lots' },
      claims: [{ name: '1000m' }],
    });
  });

  it.each([undefined, null, 'x', []])('ignores a %j resources value', (value) => {
    expect(() => {
      canonicalResources(value);
    }).not.toThrow();
  });
});

describe('parseQuantity', () => {
  it.each(['', 'abc', '1X', '1 Mi', ' 1', '1.2.3', 'Mi', '--1', '+', '1e', '1Mii', '1ki'])(
    'rejects %j',
    (input) => {
      expect(isQuantityError(parseQuantity(input))).toBe(true);
    },
  );

  it.each([
    ['1Gi', 'BinarySI'],
    ['1G', 'DecimalSI'],
    ['1', 'DecimalSI'],
    ['1e9', 'DecimalExponent'],
  ])('%s has format %s', (input, format) => {
    const q = parseQuantity(input);
    expect(isQuantityError(q) ? q.error : q.format).toBe(format);
  });

  it('keeps large binary values exact', () => {
    const q = parseQuantity('3Ei');
    expect(isQuantityError(q) ? 0n : q.nanos).toBe(3n * 1024n ** 6n * 10n ** 9n);
  });
});
