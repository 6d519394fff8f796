/**
 * The pod's annotations and labels as the templates read them, and the annotation values that hold
 * JSON.
 */
import { invalidAnnotationError } from '../annotations/validate.js';
import { isJsonObject, type JsonObject } from '../json.js';
import type { StringMap } from '../pod-types.js';
import type { RenderContext } from '../contracts.js';
import { hasKey } from './values.js';
import { KEY } from '../annotations/keys.js';

export function podAnnotations(ctx: RenderContext): StringMap {
  return ctx.pod.metadata?.annotations ?? {};
}

export function podLabels(ctx: RenderContext): StringMap {
  return ctx.pod.metadata?.labels ?? {};
}

/** Parses an annotation that must hold a JSON object; bad JSON is reported, never ignored. */
export function jsonObjectAnnotation(annotations: StringMap, key: string): JsonObject | undefined {
  if (!hasKey(annotations, key)) return undefined;
  const text = annotations[key] ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidAnnotationError(key, text, `not valid JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(parsed)) throw invalidAnnotationError(key, text, 'expected a JSON object');
  return parsed;
}

/** `{name: fields}` annotation entries as named objects, e.g. user volumes and their mounts. */
export function namedEntries(annotations: StringMap, key: string): JsonObject[] {
  const parsed = jsonObjectAnnotation(annotations, key);
  if (parsed === undefined) return [];
  const out: JsonObject[] = [];
  for (const [name, fields] of Object.entries(parsed)) {
    if (!isJsonObject(fields)) {
      throw invalidAnnotationError(
        key,
        annotations[key] ?? '',
        `entry '${name}' must be a JSON object`,
      );
    }
    // A VolumeMount needs its path (k8s.io/api/core/v1 VolumeMount.mountPath): without it the
    // patched pod fails validation.
    if (key === KEY.userVolumeMount && typeof fields['mountPath'] !== 'string') {
      throw invalidAnnotationError(
        key,
        annotations[key] ?? '',
        `entry '${name}' needs a string mountPath`,
      );
    }
    out.push({ name, ...fields });
  }
  return out;
}
