/** Plain JSON data: everything the core handles is plain data, never class instances. */
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True when `a` and `b` have the same JSON text, proven without writing it: the same plain
 * objects with the same keys in the same order, the same arrays, equal primitives. Anything JSON
 * would write differently from its properties (a class instance, a `toJSON`) makes it false,
 * so true always means equal texts; false may also be said of equal ones (`{a: undefined}` and
 * `{}`, two NaNs).
 * Comparing a pod this way is ~40× cheaper than stringifying it (docs/performance.md).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  // The same value has the same text (0 and -0 too, both written `0`).
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || !isPlain(a) || !isPlain(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  for (let i = 0; i < keysA.length; i++) {
    const key = keysA[i] as string;
    if (key !== keysB[i]) return false;
    if (!jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) {
      return false;
    }
  }
  return true;
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `obj[key]` for a key that may come from user input: only the object's own entry, never a member
 * of Object.prototype (`valueOf`, `constructor`, ...) that a plain object also answers for.
 */
export function own<T>(obj: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * `obj[key] = value` for a key that may come from user input: `__proto__` becomes an own entry
 * (as JSON.parse makes it) instead of replacing the object's prototype.
 */
export function setOwn(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

/**
 * Split dotted paths, remembered: callers pass a small, fixed set of literal paths on every
 * injection, so splitting once each keeps `getPath` off the hot path. Bounded all the same.
 */
import { boundedCache } from './bounded-cache.js';
const splitPaths = boundedCache<readonly string[]>(1024);

function segmentsOf(path: string): readonly string[] {
  return splitPaths.get(path, (p) => p.split('.'));
}

/** Reads a dotted path (`global.proxy.statusPort`) from a generic map; undefined when absent. */
export function getPath(root: JsonValue | undefined, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = root;
  for (const segment of segmentsOf(path)) {
    if (!isJsonObject(current)) return undefined;
    current = own(current, segment);
  }
  return current;
}

/**
 * A copy of a map with its keys in sorted order, as Go's JSON encoding prints a map; undefined
 * entries are dropped and `mapValue` may convert each value.
 */
export function sortedObject(
  value: JsonObject,
  mapValue: (entry: JsonValue) => JsonValue = (entry) => entry,
): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) {
    const entry = value[key];
    if (entry !== undefined) out[key] = mapValue(entry);
  }
  return out;
}
