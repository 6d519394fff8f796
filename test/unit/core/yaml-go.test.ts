import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatGoFloat32 } from '../../../src/core/yaml-go.js';

describe("formatGoFloat32 (strconv.FormatFloat(v, 'g', -1, 32), the text of a float map key)", () => {
  it.each([
    // 200000.125 is a float32 exactly halfway between 200000.12 and 200000.13, both of which read
    // back as it: Go rounds the tie to the even digit (go-yaml through sigs.k8s.io/yaml gives
    // "200000.12" for the key 20000.012E1).
    [200000.125, '200000.12'],
    [200000.13, '200000.12'],
    [3.4028234663852886e38, '3.4028235e+38'],
    [1e-7, '1e-07'],
    [16777216, '1.6777216e+07'],
    [123456789, '1.2345679e+08'],
    [999999.94, '999999.94'],
    [1e6, '1e+06'],
    [0.1, '0.1'],
    [-2.5, '-2.5'],
    [7e-45, '7e-45'],
    [-0, '-0'],
  ])('%s -> %s', (value, text) => {
    expect(formatGoFloat32(value)).toBe(text);
  });

  it('reads back as the same float32, and no text with fewer digits does', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
        fc.pre(v !== 0);
        const text = formatGoFloat32(v);
        expect(Math.fround(Number(text))).toBe(Math.fround(v));
        const digits = text
          .replace(/^-/, '')
          .replace(/e.*$/, '')
          .replace('.', '')
          .replace(/^0+/, '');
        const shorter = digits.replace(/0+$/, '').length - 1;
        if (shorter >= 1)
          expect(Math.fround(Number(Math.fround(v).toPrecision(shorter)))).not.toBe(Math.fround(v));
      }),
      { numRuns: 5000 },
    );
  });
});
