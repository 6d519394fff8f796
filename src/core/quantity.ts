/**
 * Kubernetes resource quantities: parsing and the canonical text form the API server (and Go's
 * typed serialisation) prints, e.g. `2000m` -> `2`, `1024Mi` -> `1Gi`, `0.5` -> `500m`.
 * Rules: https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 * (values are rounded up to nano precision; BinarySI is kept only for whole values >= 1024;
 * a decimal value beyond the `E` suffix is printed with an exponent, as in kubernetes#140459).
 */
import { isJsonObject, type JsonValue } from './json.js';

export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

export interface Quantity {
  /** The value in units of 10^-9, rounded away from zero. */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

const BINARY_SUFFIXES: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIXES: Record<string, number> = {
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
const DECIMAL_SUFFIX_BY_EXPONENT = new Map(
  Object.entries(DECIMAL_SUFFIXES).map(([suffix, exp]) => [exp, suffix]),
);
const BINARY_SUFFIX_BY_POWER = new Map(
  Object.entries(BINARY_SUFFIXES).map(([suffix, power]) => [power, suffix]),
);

const QUANTITY_RE = /^([+-]?)(\d+\.?\d*|\.\d+)(.*)$/;
const NANO_DIGITS = 9;

/** Parses a quantity; returns an error text (Kubernetes' wording) instead of throwing. */
export function parseQuantity(text: string): Quantity | { error: string } {
  const match = QUANTITY_RE.exec(text);
  if (!match) return { error: 'quantities must match the regular expression' };
  const sign = match[1] === '-' ? -1n : 1n;
  const number = match[2] ?? '';
  const suffix = match[3] ?? '';

  let format: QuantityFormat;
  let exponent10 = 0;
  let power1024 = 0;
  if (Object.hasOwn(BINARY_SUFFIXES, suffix)) {
    format = 'BinarySI';
    power1024 = BINARY_SUFFIXES[suffix] ?? 0;
  } else if (Object.hasOwn(DECIMAL_SUFFIXES, suffix)) {
    format = 'DecimalSI';
    exponent10 = DECIMAL_SUFFIXES[suffix] ?? 0;
  } else if (/^[eE][+-]?\d+$/.test(suffix)) {
    format = 'DecimalExponent';
    exponent10 = Number(suffix.slice(1));
    if (!Number.isSafeInteger(exponent10) || Math.abs(exponent10) > 1000) {
      return { error: "unable to parse quantity's suffix" };
    }
  } else {
    return { error: "unable to parse quantity's suffix" };
  }

  const [intPart = '', fracPart = ''] = number.split('.');
  // value = digits * 10^(exponent10 - fracLen) * 1024^power ; expressed in nanos.
  let numerator = BigInt((intPart + fracPart).replace(/^0+(?=\d)/, '') || '0');
  numerator *= 1024n ** BigInt(power1024);
  const scale = exponent10 - fracPart.length + NANO_DIGITS;
  let nanos: bigint;
  if (scale >= 0) {
    nanos = numerator * 10n ** BigInt(scale);
  } else {
    const divisor = 10n ** BigInt(-scale);
    nanos = numerator / divisor;
    if (numerator % divisor !== 0n) nanos += 1n; // round up (away from zero) to nano precision
  }
  return { nanos: sign * nanos, format };
}

export function isQuantityError(q: Quantity | { error: string }): q is { error: string } {
  return Object.hasOwn(q, 'error');
}

/** The canonical text of a parsed quantity. */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  const negative = q.nanos < 0n;
  const abs = negative ? -q.nanos : q.nanos;
  const sign = negative ? '-' : '';
  const nanosPerUnit = 10n ** BigInt(NANO_DIGITS);

  let format = q.format;
  if (format === 'BinarySI' && (abs < 1024n * nanosPerUnit || abs % nanosPerUnit !== 0n)) {
    // Small or fractional binary values are shown in decimal to avoid rounding.
    format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let whole = abs / nanosPerUnit;
    let power = 0;
    while (power < 6 && whole % 1024n === 0n) {
      whole /= 1024n;
      power += 1;
    }
    return `${sign}${whole}${BINARY_SUFFIX_BY_POWER.get(power) ?? ''}`;
  }

  // Decimal: strip factors of ten, then move down to an exponent that is a multiple of three.
  let mantissa = abs;
  let exponent = -NANO_DIGITS;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent += 1;
  }
  const remainder = ((exponent % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(remainder);
  exponent -= remainder;
  if (format === 'DecimalSI') {
    const suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exponent);
    if (suffix !== undefined) return `${sign}${mantissa}${suffix}`;
  }
  return exponent === 0 ? `${sign}${mantissa}` : `${sign}${mantissa}e${exponent}`;
}

/**
 * Canonical form of a quantity string (`2000m` -> `2`, `1024Mi` -> `1Gi`). Surrounding
 * whitespace is ignored, as the API server's JSON decoding of a quantity does.
 * Returns the input unchanged when it is not a valid quantity (validation reports it elsewhere).
 */
export function canonicalQuantity(text: string): string {
  const parsed = parseQuantity(text.trim());
  return isQuantityError(parsed) ? text : formatQuantity(parsed);
}

/** A JSON quantity (string or number) in canonical form; any other value is returned as is. */
export function canonicalQuantityValue(value: JsonValue): JsonValue {
  return typeof value === 'string' || typeof value === 'number'
    ? canonicalQuantity(String(value))
    : value;
}

/** Canonicalises every quantity of a `resources` block (`limits`, `requests`), in place. */
export function canonicalResources(resources: JsonValue | undefined): void {
  if (!isJsonObject(resources)) return;
  for (const section of ['limits', 'requests']) {
    const map = resources[section];
    if (!isJsonObject(map)) continue;
    for (const [name, value] of Object.entries(map)) {
      if (value !== undefined) map[name] = canonicalQuantityValue(value);
    }
  }
}
