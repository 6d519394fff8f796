/**
 * The request-body JSON parser: one linear, allocation-free pre-scan, then the engine's native
 * `JSON.parse`.
 *
 * The pre-scan refuses, before any parsing work:
 * - nesting deeper than `maxDepth` (default 64). The deepest Pod path is about 20 levels counting
 *   the AdmissionReview envelope (managedFields' fieldsV1 mirror the pod's own paths, e.g.
 *   `request.object.metadata.managedFields[].fieldsV1.f:spec.f:volumes.k:{…}.f:ephemeral…`), so
 *   64 leaves a wide margin while a 10⁶-deep array bomb is refused after 65 characters;
 * - a `__proto__` key, in any escaped spelling (`"\u005f_proto__"` decodes to the same key);
 * - more than `maxContainers` objects and arrays in all (default 262 144) or more than
 *   `maxKeys` keys in one object (default 16 384). A realistic 5.5 MiB pod (4 000 containers)
 *   holds ~105 000 objects and arrays; a 10 000-env container's managedFields entry has ~10 000
 *   keys in one object. Past those bounds `JSON.parse` time grows faster than the body: a 6 MiB
 *   `[{},{},…]` costs 5–7× a real pod of that size, and one object of 500 000 keys ~10× (V8's
 *   dictionary-mode objects), so such bodies are refused before they are built.
 * A `constructor` key whose value is an object with a `prototype` key is refused too, after
 * parsing (a rare walk, done only when the scan saw a `constructor` key followed by an object).
 * These are the two cases fastify's default parser (secure-json-parse, `onProtoPoisoning` and
 * `onConstructorPoisoning` set to `error`) refuses, without its two regular-expression scans.
 *
 * A `constructor` annotation with a string value, or keys such as `valueOf` and `toString`, are
 * valid Kubernetes keys and are accepted.
 */
import { InjectorError } from '../errors.js';
import type { JsonValue } from './json.js';

export const MAX_JSON_DEPTH = 64;
export const MAX_JSON_CONTAINERS = 262_144;
export const MAX_JSON_KEYS = 16_384;

export interface JsonParseLimits {
  maxDepth?: number;
  maxContainers?: number;
  maxKeys?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const UNDERSCORE = 0x5f;
const LOWER_C = 0x63;

function refused(message: string): InjectorError {
  return new InjectorError('INJ_ERR_REVIEW_MALFORMED', `request body is refused: ${message}`, {
    details: [{ field: 'body', reason: message }],
  });
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** True when the raw string content text[start, end) decodes to exactly `word` (ASCII). */
function rawEquals(text: string, start: number, end: number, word: string): boolean {
  let pos = start;
  for (let k = 0; k < word.length; k++) {
    if (pos >= end) return false;
    const want = word.charCodeAt(k);
    const c = text.charCodeAt(pos);
    if (c === want) {
      pos++;
      continue;
    }
    // The only JSON escape that can spell a letter or `_` is \uXXXX.
    if (c !== BACKSLASH || text.charCodeAt(pos + 1) !== 0x75 || pos + 6 > end) return false;
    let code = 0;
    for (let h = 2; h < 6; h++) {
      const v = hexValue(text.charCodeAt(pos + h));
      if (v < 0) return false;
      code = code * 16 + v;
    }
    if (code !== want) return false;
    pos += 6;
  }
  return pos === end;
}

/**
 * For a string text[start, end) that may be a key: throws for `__proto__`; true for a
 * `constructor` key whose value is an object.
 */
function checkKey(text: string, start: number, end: number): boolean {
  const next = skipSpace(text, end + 1);
  if (text.charCodeAt(next) !== COLON) return false;
  if (rawEquals(text, start, end, '__proto__')) {
    throw refused('an object has a "__proto__" key (prototype poisoning)');
  }
  return (
    rawEquals(text, start, end, 'constructor') &&
    text.charCodeAt(skipSpace(text, next + 1)) === LBRACE
  );
}

/** Index of the first non-whitespace character at or after `from`. */
function skipSpace(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** A `constructor` object with a `prototype` key, anywhere below `value`. */
/** Recursion is bounded: the scan has already refused anything nested deeper than `maxDepth`. */
function hasConstructorPrototype(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some((item) => hasConstructorPrototype(item));
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, 'constructor')) {
    const ctor = record['constructor'];
    if (typeof ctor === 'object' && ctor !== null && Object.hasOwn(ctor, 'prototype')) return true;
  }
  for (const key of Object.keys(record)) {
    if (hasConstructorPrototype(record[key])) return true;
  }
  return false;
}

/**
 * Parses a request body. Throws `INJ_ERR_REVIEW_MALFORMED` (HTTP 400) for invalid JSON, a body
 * nested or sized beyond the limits, or a prototype-poisoning key.
 */
export function parseJsonBody(text: string, limits: JsonParseLimits = {}): JsonValue {
  const constructorObject = scanJsonBody(text, limits);
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new InjectorError(
      'INJ_ERR_REVIEW_MALFORMED',
      `request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      { details: [{ field: 'body', reason: 'invalid JSON' }] },
    );
  }
  if (constructorObject && hasConstructorPrototype(value)) {
    throw refused('a "constructor" object has a "prototype" key (prototype poisoning)');
  }
  return value;
}

/**
 * The closing quote of the string opening at `open`: the next one not preceded by an odd run of
 * backslashes; -1 when there is none.
 */
function closingQuote(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  while (end !== -1 && text.charCodeAt(end - 1) === BACKSLASH) {
    let k = end - 2;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((end - 1 - k) % 2 === 0) break;
    end = text.indexOf('"', end + 1);
  }
  return end;
}

/**
 * checkKey for the string between the quotes at `open` and `end`, when it can spell one of the
 * two keys (`__proto__` is 9 characters, `constructor` 11, each at most 6 when escaped): the
 * other strings are not looked at.
 */
function checkString(text: string, open: number, end: number): boolean {
  const len = end - open - 1;
  if (len < 9 || len > 66) return false;
  const first = text.charCodeAt(open + 1);
  if (first !== UNDERSCORE && first !== LOWER_C && first !== BACKSLASH) return false;
  return checkKey(text, open + 1, end);
}

function withDefaults(limits: JsonParseLimits): Required<JsonParseLimits> {
  return {
    maxDepth: limits.maxDepth ?? MAX_JSON_DEPTH,
    maxContainers: limits.maxContainers ?? MAX_JSON_CONTAINERS,
    maxKeys: limits.maxKeys ?? MAX_JSON_KEYS,
  };
}

/**
 * The pre-scan alone: throws for the refusals above; returns true when a `constructor` key with
 * an object value was seen (the parsed value must then be checked for `constructor.prototype`).
 */
export function scanJsonBody(text: string, limits: JsonParseLimits = {}): boolean {
  const { maxDepth, maxContainers, maxKeys } = withDefaults(limits);
  const n = text.length;
  // Per open level: 1 for an object (its commas count its keys), 0 for an array.
  const isObject = new Uint8Array(maxDepth + 2);
  const commas = new Int32Array(maxDepth + 2);
  let depth = 0;
  let containers = 0;
  let constructorObject = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      // Unterminated: JSON.parse reports it.
      if (end === -1) break;
      constructorObject = checkString(text, i, end) || constructorObject;
      i = end;
    } else if (c === COMMA) {
      if (isObject[depth] === 1) {
        const keys = (commas[depth] ?? 0) + 1;
        if (keys >= maxKeys) throw refused(`an object has more than ${maxKeys} keys`);
        commas[depth] = keys;
      }
    } else if (c === LBRACE || c === LBRACKET) {
      if (++depth > maxDepth) {
        throw refused(`JSON nested deeper than ${maxDepth} levels (no Pod is nested that deep)`);
      }
      if (++containers > maxContainers) {
        throw refused(`more than ${maxContainers} JSON objects and arrays`);
      }
      isObject[depth] = c === LBRACE ? 1 : 0;
      commas[depth] = 0;
    } else if (c === RBRACE || c === RBRACKET) {
      if (depth > 0) depth--;
    }
  }
  return constructorObject;
}
