/**
 * Annotations whose unrecognised values Istio silently falls back on. We keep Istio's fallback (the
 * pod is still injected exactly as Istio would) but tell the user, through AdmissionResponse
 * warnings and the offline commands, that the value was not understood.
 */
import type { StringMap } from '../k8s.js';
import { ANNOTATION_FALLBACKS } from './registry.js';

/** Kubernetes asks for warnings of at most 120 characters (admission/v1 `AdmissionResponse.warnings`). */
const MAX_WARNING_LENGTH = 120;
const MAX_VALUE_LENGTH = 24;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** One warning per present annotation whose value is not understood, each <= 120 characters. */
export function annotationWarnings(annotations: StringMap): string[] {
  const warnings: string[] = [];
  for (const [key, { accepts, note }] of ANNOTATION_FALLBACKS) {
    const value = annotations[key];
    if (typeof value !== 'string' || accepts(value)) continue;
    const shown = JSON.stringify(clip(value, MAX_VALUE_LENGTH));
    warnings.push(clip(`annotation ${key}=${shown} not understood: ${note}`, MAX_WARNING_LENGTH));
  }
  return warnings;
}
