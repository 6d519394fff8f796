/**
 * Annotations whose unrecognised values Istio silently falls back on. We keep Istio's fallback (the
 * pod is still injected exactly as Istio would) but tell the user, through AdmissionResponse
 * warnings and the offline commands, that the value was not understood.
 */
import type { StringMap } from '../k8s.js';
import { parseGoBool } from './net.js';

/** Kubernetes asks for warnings of at most 120 characters (admission/v1 `AdmissionResponse.warnings`). */
const MAX_WARNING_LENGTH = 120;
const MAX_VALUE_LENGTH = 24;

interface Fallback {
  key: string;
  accepts: (value: string) => boolean;
  /** What happens instead, and what would have been understood. */
  note: string;
}

const TRUE_OR_FALSE = (value: string): boolean => value === 'true' || value === 'false';
const GO_BOOL = (value: string): boolean => parseGoBool(value) !== undefined;

const FALLBACKS: readonly Fallback[] = [
  {
    key: 'sidecar.istio.io/nativeSidecar',
    accepts: TRUE_OR_FALSE,
    note: 'want "true" or "false"; using the cluster default',
  },
  {
    key: 'sidecar.istio.io/capNetBindService',
    accepts: TRUE_OR_FALSE,
    note: 'want "true" or "false"; treated as "false"',
  },
  {
    key: 'sidecar.istio.io/rewriteAppHTTPProbers',
    accepts: GO_BOOL,
    note: 'want a boolean; using the configured default',
  },
  {
    key: 'prometheus.io/scrape',
    accepts: GO_BOOL,
    note: 'want a boolean; treated as "true"',
  },
  {
    key: 'sidecar.istio.io/proxyImage',
    accepts: (value) => value.includes('/'),
    note: 'want a full image reference; using the configured image',
  },
];

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** One warning per present annotation whose value is not understood, each <= 120 characters. */
export function annotationWarnings(annotations: StringMap): string[] {
  const warnings: string[] = [];
  for (const { key, accepts, note } of FALLBACKS) {
    const value = annotations[key];
    if (typeof value !== 'string' || accepts(value)) continue;
    const shown = JSON.stringify(clip(value, MAX_VALUE_LENGTH));
    warnings.push(clip(`annotation ${key}=${shown} not understood: ${note}`, MAX_WARNING_LENGTH));
  }
  return warnings;
}
