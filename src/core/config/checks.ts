/**
 * Small type checkers for configuration fields. Each checker pushes every problem it finds (with
 * the field's path) and may return a normalised value (e.g. the number behind `"15020"`).
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { ipAddressError } from '../annotations/value-formats.js';
import type { ConfigIssue } from './types.js';

export type Checker = (value: JsonValue, path: string, issues: ConfigIssue[]) => JsonValue | void;

/** A short, quoted description of a found value for messages (`"abc"`, `true`, `a list`). */
export function describeValue(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return Array.isArray(value) ? 'a list' : 'a map';
}

function issue(issues: ConfigIssue[], path: string, expected: string, value: JsonValue): void {
  issues.push({ path, message: `expected ${expected}, got ${describeValue(value)}` });
}

export const str: Checker = (value, path, issues) => {
  if (typeof value !== 'string') issue(issues, path, 'a string', value);
};

export const bool: Checker = (value, path, issues) => {
  if (typeof value !== 'boolean') issue(issues, path, 'a boolean (true or false)', value);
};

/** `bool` that also accepts `null` (an unset protobuf BoolValue). */
export const optionalBool: Checker = (value, path, issues) => {
  if (value !== null && typeof value !== 'boolean') {
    issue(issues, path, 'a boolean (true or false)', value);
  }
};

/** An integer in [min, max]; a decimal string is accepted and normalised to a number. */
export function int(min: number, max: number, expected = `an integer ${min}-${max}`): Checker {
  return (value, path, issues) => {
    let n: number | undefined;
    if (typeof value === 'number' && Number.isInteger(value)) n = value;
    else if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) n = Number(value.trim());
    if (n === undefined || n < min || n > max) {
      issue(issues, path, expected, value);
      return;
    }
    return n;
  };
}

export const port = int(0, 65535);
export const uint32 = int(0, 4294967295);
export const int32 = int(-2147483648, 2147483647, 'a 32-bit integer');

/** Image tags may be written as numbers in YAML (`tag: 1.32`). */
export const stringOrNumber: Checker = (value, path, issues) => {
  if (typeof value !== 'string' && typeof value !== 'number') {
    issue(issues, path, 'a string', value);
  }
};

export function oneOf(allowed: readonly string[]): Checker {
  return (value, path, issues) => {
    if (typeof value !== 'string' || !allowed.includes(value)) {
      issue(issues, path, `one of ${allowed.join(', ')}`, value);
    }
  };
}

export const object: Checker = (value, path, issues) => {
  if (!isJsonObject(value)) issue(issues, path, 'a map', value);
};

/** `object` that also accepts `null`. */
export const optionalObject: Checker = (value, path, issues) => {
  if (value !== null && !isJsonObject(value)) issue(issues, path, 'a map', value);
};

export const stringMap: Checker = (value, path, issues) => {
  if (!isJsonObject(value)) {
    issue(issues, path, 'a map of strings', value);
    return;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (entry !== undefined && typeof entry !== 'string') {
      issue(issues, `${path}.${key}`, 'a string', entry);
    }
  }
};

/** Environment-like maps: scalar values only (YAML may type `true` or `1`). */
export const scalarMap: Checker = (value, path, issues) => {
  if (!isJsonObject(value)) {
    issue(issues, path, 'a map', value);
    return;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (entry !== undefined && (typeof entry === 'object' || entry === null)) {
      issue(issues, `${path}.${key}`, 'a string, number or boolean', entry);
    }
  }
};

export const stringList: Checker = (value, path, issues) => {
  if (!Array.isArray(value)) {
    issue(issues, path, 'a list of strings', value);
    return;
  }
  value.forEach((entry, index) => {
    if (typeof entry !== 'string') issue(issues, `${path}[${index}]`, 'a string', entry);
  });
};

/** A list of objects (each checked as a map only). */
export const objectList: Checker = (value, path, issues) => {
  if (!Array.isArray(value)) {
    issue(issues, path, 'a list', value);
    return;
  }
  value.forEach((entry, index) => {
    if (!isJsonObject(entry)) issue(issues, `${path}[${index}]`, 'a map', entry);
  });
};

const DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ['ns', 1],
  ['us', 1e3],
  ['µs', 1e3],
  ['μs', 1e3],
  ['ms', 1e6],
  ['s', 1e9],
  ['m', 60e9],
  ['h', 3600e9],
]);

/** Go's time.ParseDuration: nanoseconds, or undefined where Go refuses the text. */
export function goParseDuration(text: string): bigint | undefined {
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  const part = /^([0-9]*)(?:\.([0-9]*))?([^0-9.]+)/;
  while (s !== '') {
    const m = part.exec(s);
    const whole = m?.[1] ?? '';
    const frac = m?.[2] ?? '';
    if (!m || (whole === '' && frac === '')) return undefined;
    const unit = DURATION_UNITS.get(m[3] ?? '');
    if (unit === undefined) return undefined;
    let v = BigInt(whole === '' ? '0' : whole) * BigInt(unit);
    if (frac !== '') {
      // Go keeps at most the digits an int64 holds and scales the fraction in float64.
      const digits = frac.slice(0, 18);
      v += BigInt(Math.trunc(Number(digits) * (unit / 10 ** digits.length)));
    }
    total += v;
    if (total > 2n ** 63n - 1n) return undefined;
    s = s.slice(m[0].length);
  }
  return negative ? -total : total;
}

/** A google.protobuf.Duration as jsonpb writes it: seconds with 0, 3, 6 or 9 decimals. */
export function protoDurationText(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  let text = `${abs / 1_000_000_000n}.${String(abs % 1_000_000_000n).padStart(9, '0')}`;
  for (const suffix of ['000', '000', '.000'])
    if (text.endsWith(suffix)) text = text.slice(0, -suffix.length);
  return `${sign}${text}s`;
}

/**
 * A google.protobuf.Duration as jsonpb reads it (time.ParseDuration: `45s`, `1m`, `1h30m`,
 * `500ms`), normalised to the form jsonpb writes back (`1m` -> `60s`).
 * golang/protobuf jsonpb/decode.go and encode.go, case "Duration".
 */
export const duration: Checker = (value, path, issues) => {
  const ns = typeof value === 'string' ? goParseDuration(value) : undefined;
  if (ns === undefined) {
    issue(issues, path, 'a duration such as "45s" or "1m"', value);
    return;
  }
  return protoDurationText(ns);
};

/** `host:port` with a non-empty host and a numeric port. */
export const hostPort: Checker = (value, path, issues) => {
  if (typeof value !== 'string' || !isHostPort(value)) {
    issue(issues, path, 'an address "host:port"', value);
  }
};

export function isHostPort(text: string): boolean {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return false;
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return false;
  if (host.startsWith('[')) return host.endsWith(']') && host.length > 2;
  return !host.includes(':') && host.trim() === host;
}

/** Go's net.SplitHostPort: host and port, or the error text Go gives. */
function splitHostPort(text: string): { host: string; port: string } | string {
  const last = text.lastIndexOf(':');
  if (last < 0) return 'missing port in address';
  let host: string;
  let from = 0;
  let after = 0;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return "missing ']' in address";
    if (end + 1 !== last) {
      return end + 1 < text.length && text[end + 1] === ':'
        ? 'too many colons in address'
        : 'missing port in address';
    }
    host = text.slice(1, end);
    from = 1;
    after = end + 1;
  } else {
    host = text.slice(0, last);
    if (host.includes(':')) return 'too many colons in address';
  }
  if (text.slice(from).includes('[')) return "unexpected '[' in address";
  if (text.slice(after).includes(']')) return "unexpected ']' in address";
  return { host, port: text.slice(last + 1) };
}

/** Go's strconv.Atoi (an optional sign, decimal digits, within int64), or undefined. */
function goAtoi(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = BigInt(text);
  return n > 2n ** 63n - 1n || n < -(2n ** 63n) ? undefined : Number(n);
}

const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** Istio's ValidateFQDN: at most 255 characters, DNS-1123 labels, a top-level label not all-numeric. */
function fqdnError(name: string): string | undefined {
  if (name.length > 255) return `domain name ${JSON.stringify(name)} too long (max 255)`;
  if (name === '') return 'empty domain name not allowed';
  const labels = name.split('.');
  const top = labels[labels.length - 1] ?? '';
  if (goAtoi(top) !== undefined) return `top level domain ${JSON.stringify(top)} is all-numeric`;
  for (const [i, label] of labels.entries()) {
    // A trailing dot (`istiod.istio-system.`) is allowed.
    if (i === labels.length - 1 && label === '') return undefined;
    if (label.length > 63 || !DNS1123_LABEL.test(label))
      return `label ${JSON.stringify(label)} invalid`;
  }
  return undefined;
}

/**
 * Why `text` is not a proxy address as Istio's ValidateProxyAddress accepts it (`host:port`, the
 * host a DNS-1123 name or an IP address, the port 1-65535), or undefined when it is.
 * istio/pkg/config/validation/agent/validation.go ValidateProxyAddress.
 */
export function proxyAddressError(text: string): string | undefined {
  const split = splitHostPort(text);
  if (typeof split === 'string') return `expected "host:port" (${split})`;
  const port = goAtoi(split.port);
  if (port === undefined)
    return `expected "host:port" (port ${JSON.stringify(split.port)} is not a number)`;
  if (port < 1 || port > 65535) return `port number ${port} must be in the range 1..65535`;
  if (fqdnError(split.host) !== undefined && ipAddressError(split.host) !== undefined)
    return `${JSON.stringify(split.host)} is not a valid hostname or an IP address`;
  return undefined;
}

const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** One Kubernetes LabelSelector (matchLabels + matchExpressions). */
export const labelSelector: Checker = (value, path, issues) => {
  if (!isJsonObject(value)) {
    issue(issues, path, 'a label selector (matchLabels/matchExpressions)', value);
    return;
  }
  const { matchLabels, matchExpressions } = value;
  if (matchLabels !== undefined && matchLabels !== null) {
    stringMap(matchLabels, `${path}.matchLabels`, issues);
  }
  if (matchExpressions === undefined || matchExpressions === null) return;
  if (!Array.isArray(matchExpressions)) {
    issue(issues, `${path}.matchExpressions`, 'a list', matchExpressions);
    return;
  }
  matchExpressions.forEach((expr, index) => {
    const at = `${path}.matchExpressions[${index}]`;
    if (!isJsonObject(expr)) {
      issue(issues, at, 'a map with key, operator and values', expr);
      return;
    }
    const key = expr['key'];
    const operator = expr['operator'];
    const values = expr['values'];
    if (typeof key !== 'string' || key === '') {
      issue(issues, `${at}.key`, 'a non-empty string', key ?? null);
    }
    if (
      typeof operator !== 'string' ||
      !(SELECTOR_OPERATORS as readonly string[]).includes(operator)
    ) {
      issue(issues, `${at}.operator`, `one of ${SELECTOR_OPERATORS.join(', ')}`, operator ?? null);
      return;
    }
    const needsValues = operator === 'In' || operator === 'NotIn';
    if (values !== undefined && values !== null) stringList(values, `${at}.values`, issues);
    const count = Array.isArray(values) ? values.length : 0;
    if (needsValues && count === 0) {
      issues.push({
        path: `${at}.values`,
        message: `operator ${operator} needs at least one value`,
      });
    } else if (!needsValues && count > 0) {
      issues.push({ path: `${at}.values`, message: `operator ${operator} takes no values` });
    }
  });
};

export const labelSelectorList: Checker = (value, path, issues) => {
  if (!Array.isArray(value)) {
    issue(issues, path, 'a list of label selectors', value);
    return;
  }
  value.forEach((entry, index) => labelSelector(entry, `${path}[${index}]`, issues));
};

/** Lifts a string-level validator (returns an error text or undefined) into a Checker. */
export function stringFormat(validate: (text: string) => string | undefined): Checker {
  return (value, path, issues) => {
    if (typeof value !== 'string') {
      issue(issues, path, 'a string', value);
      return;
    }
    const problem = validate(value);
    if (problem !== undefined) issues.push({ path, message: problem });
  };
}

/**
 * Container resources (`requests` / `limits`): each entry a Kubernetes quantity (string or
 * number) or null (an unset entry).
 */
export function quantityMap(quantityError: (text: string) => string | undefined): Checker {
  return (value, path, issues) => {
    if (!isJsonObject(value)) {
      issue(issues, path, 'a map of resource quantities', value);
      return;
    }
    for (const [key, entry] of Object.entries(value)) {
      if (entry === undefined || entry === null) continue;
      const text = typeof entry === 'number' ? String(entry) : entry;
      if (typeof text !== 'string') {
        issue(issues, `${path}.${key}`, 'a resource quantity such as "100m" or "1Gi"', entry);
        continue;
      }
      const problem = quantityError(text);
      if (problem !== undefined) {
        issues.push({ path: `${path}.${key}`, message: `${problem}, got ${describeValue(entry)}` });
      }
    }
  };
}

/** A rule: the checker runs when the dotted path is present (and not null unless `nullable`). */
export interface FieldRule {
  readonly path: string;
  readonly check: Checker;
}

/**
 * Runs every rule against `root` (mutating it only to store normalised values) and records
 * problems under `prefix.path`. Absent fields are fine: defaults fill them.
 */
export function checkFields(
  root: JsonObject,
  rules: readonly FieldRule[],
  prefix: string,
  issues: ConfigIssue[],
): void {
  for (const rule of rules) {
    const segments = rule.path.split('.');
    let parent: JsonObject | undefined = root;
    for (const segment of segments.slice(0, -1)) {
      const next: JsonValue | undefined = parent[segment];
      parent = isJsonObject(next) ? next : undefined;
      if (parent === undefined) break;
    }
    const leaf = segments[segments.length - 1] ?? '';
    const value = parent?.[leaf];
    if (parent === undefined || value === undefined) continue;
    const fullPath = prefix === '' ? rule.path : `${prefix}.${rule.path}`;
    const normalised = rule.check(value, fullPath, issues);
    if (normalised !== undefined) parent[leaf] = normalised;
  }
}

/** Reports intermediate path segments that are present but are not maps (e.g. `global: 3`). */
export function checkMaps(
  root: JsonObject,
  paths: readonly string[],
  prefix: string,
  issues: ConfigIssue[],
): void {
  for (const path of paths) {
    let current: JsonValue | undefined = root;
    const walked: string[] = [];
    for (const segment of path.split('.')) {
      if (!isJsonObject(current)) break;
      current = current[segment];
      walked.push(segment);
      if (current !== undefined && current !== null && !isJsonObject(current)) {
        issue(issues, `${prefix}.${walked.join('.')}`, 'a map', current);
        break;
      }
    }
  }
}
