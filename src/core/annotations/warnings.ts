/**
 * Annotations whose unrecognised values Istio silently falls back on. We keep Istio's fallback (the
 * pod is still injected exactly as Istio would) but tell the user, through AdmissionResponse
 * warnings and the offline commands, that the value was not understood.
 */
import type { StringMap } from '../pod-types.js';
import { ANNOTATION_FALLBACKS } from './registry.js';
import { clip, clipWarning } from '../text.js';

const MAX_VALUE_LENGTH = 24;

/** One warning per present annotation whose value is not understood, each <= 120 characters. */
export function annotationWarnings(annotations: StringMap): string[] {
  const warnings: string[] = [];
  for (const [key, { accepts, note }] of ANNOTATION_FALLBACKS) {
    const value = annotations[key];
    if (typeof value !== 'string' || accepts(value)) continue;
    const shown = JSON.stringify(clip(value, MAX_VALUE_LENGTH));
    warnings.push(clipWarning(`annotation ${key}=${shown} not understood: ${note}`));
  }
  return warnings;
}
