/**
 * Typed reads of the generic `values` map and of pod annotations, with the truthiness and
 * printing rules of the Go templates the built-in renderers reproduce: a value is "set" unless it
 * is absent, null, false, 0, "" or an empty list/map; numbers print as written (`1.12`, `15020`).
 */
import { getPath, isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import type { StringMap } from '../pod-types.js';

/** Go-template truthiness (`{{ if .Values.x }}`). */
export function truthy(value: JsonValue | undefined): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  return Object.keys(value).length > 0;
}

/** Prints a scalar the way a template does; objects and lists are not printable here. */
export function printScalar(value: JsonValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function valueString(values: JsonObject, path: string, fallback = ''): string {
  return printScalar(getPath(values, path)) ?? fallback;
}

/** The value when it is set (truthy), else the fallback (sprig `default`). */
export function valueOr(values: JsonObject, path: string, fallback: string): string {
  const value = getPath(values, path);
  return truthy(value) ? (printScalar(value) ?? fallback) : fallback;
}

export function valueSet(values: JsonObject, path: string): boolean {
  return truthy(getPath(values, path));
}

export function valueNumber(values: JsonObject, path: string, fallback: number): number {
  const value = getPath(values, path);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    if (Number.isFinite(parsed)) return parsed;
  }
  return fallback;
}

export function valueObject(values: JsonObject, path: string): JsonObject | undefined {
  const value = getPath(values, path);
  return isJsonObject(value) ? value : undefined;
}

/** The map at `path` when it is set (non-empty), as `{{ if .Values.x }}` lets it through. */
export function valueSetObject(values: JsonObject, path: string): JsonObject | undefined {
  const value = valueObject(values, path);
  return value !== undefined && Object.keys(value).length > 0 ? value : undefined;
}

/** `true` only for the boolean true or the string "true" (Helm `--set` may give either). */
export function valueIsTrue(values: JsonObject, path: string): boolean {
  const value = getPath(values, path);
  return value === true || value === 'true';
}

/**
 * The annotation value if the key is present (even when empty), else the fallback: presence,
 * not emptiness, decides (an empty `includeOutboundIPRanges` annotation yields `-i ""`).
 */
export function annotationOr(annotations: StringMap, key: string, fallback: string): string {
  return Object.hasOwn(annotations, key) ? (annotations[key] ?? '') : fallback;
}

export function hasKey(map: StringMap, key: string): boolean {
  return Object.hasOwn(map, key);
}

/** Drops null leaves recursively, and maps that become empty (Istio's `omitNil`). */
export function omitNil(value: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === null || child === undefined) continue;
    if (isJsonObject(child)) {
      const cleaned = omitNil(child);
      if (Object.keys(cleaned).length > 0) out[key] = cleaned;
      continue;
    }
    out[key] = child;
  }
  return out;
}
