/**
 * Kubernetes resource quantities in canonical form, as `resource.Quantity` serialises them
 * (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/):
 * `2000m` -> `2`, `1024Mi` -> `1Gi`, `0.5` -> `500m`. The suffix family of the input
 * (binary, decimal SI, decimal exponent) is kept; values below 1024 or not whole in binary
 * form are printed in decimal SI. Precision below a nano unit is rounded up, as Kubernetes does.
 */
import type { JsonValue } from '../json.js';
import { isJsonObject } from '../json.js';

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const DECIMAL_SUFFIX = new Map<number, string>(Object.entries(DECIMAL).map(([s, e]) => [e, s]));
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** Exact rational value as `numerator * 10^exp10 * 2^exp2`, numerator a bigint. */
interface Parsed {
  negative: boolean;
  digits: bigint;
  exp10: number;
  exp2: number;
  format: 'binary' | 'decimal' | 'exponent';
}

function parse(text: string): Parsed | undefined {
  const m = QUANTITY.exec(text.trim());
  if (!m) return undefined;
  const [, sign = '', number = '', suffix = ''] = m;
  const [intPart = '', fracPart = ''] = number.split('.');
  const digits = BigInt((intPart + fracPart).replace(/^0+(?=\d)/, '') || '0');
  let exp10 = -fracPart.length;
  let exp2 = 0;
  let format: Parsed['format'] = 'decimal';
  if (suffix in BINARY) {
    exp2 = BINARY[suffix] ?? 0;
    format = 'binary';
  } else if (suffix in DECIMAL) {
    exp10 += DECIMAL[suffix] ?? 0;
  } else {
    exp10 += Number(suffix.slice(1));
    format = 'exponent';
  }
  return { negative: sign === '-', digits, exp10, exp2, format };
}

/** Returns the canonical text of a quantity, or the input unchanged when it does not parse. */
export function canonicalQuantity(text: string): string {
  const q = parse(text);
  if (!q) return text;
  // Scale to an integer number of nano units (rounding up), then reduce.
  let nanos = q.digits * 2n ** BigInt(q.exp2);
  const shift = q.exp10 + 9;
  if (shift >= 0) nanos *= 10n ** BigInt(shift);
  else {
    const div = 10n ** BigInt(-shift);
    nanos = nanos / div + (nanos % div === 0n ? 0n : 1n);
  }
  if (nanos === 0n) return '0';
  const sign = q.negative ? '-' : '';
  const oneUnit = 10n ** 9n;
  if (q.format === 'binary' && nanos % oneUnit === 0n && nanos / oneUnit >= 1024n) {
    let value = nanos / oneUnit;
    let power = 0;
    while (power < 60 && value % 1024n === 0n) {
      value /= 1024n;
      power += 10;
    }
    const suffix = Object.entries(BINARY).find(([, p]) => p === power)?.[0] ?? '';
    return `${sign}${value}${suffix}`;
  }
  let mantissa = nanos;
  let exponent = -9;
  while (mantissa % 1000n === 0n && exponent < 18) {
    mantissa /= 1000n;
    exponent += 3;
  }
  if (q.format === 'exponent') return `${sign}${mantissa}${exponent === 0 ? '' : `e${exponent}`}`;
  return `${sign}${mantissa}${DECIMAL_SUFFIX.get(exponent) ?? ''}`;
}

/** Canonicalises every quantity of a `resources` block (`limits`, `requests`), in place. */
export function canonicalResources(resources: JsonValue | undefined): void {
  if (!isJsonObject(resources)) return;
  for (const section of ['limits', 'requests']) {
    const map = resources[section];
    if (!isJsonObject(map)) continue;
    for (const [name, value] of Object.entries(map)) {
      if (typeof value === 'string') map[name] = canonicalQuantity(value);
      else if (typeof value === 'number') map[name] = canonicalQuantity(String(value));
    }
  }
}
