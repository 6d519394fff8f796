/**
 * Validates a pod against the Kubernetes Pod schema (OpenAPI, via the kubernetes-models package).
 * Throws with the schema errors when the pod is invalid.
 */
import { Pod } from 'kubernetes-models/v1';

/**
 * Container string enums whose empty value the API server reads as unset (the Go field is
 * `omitempty`, and defaulting fills it in), though the OpenAPI enum lists only the set values.
 */
const DEFAULTED_ENUMS = ['imagePullPolicy', 'terminationMessagePolicy'] as const;

function withoutEmptyEnums(pod: Record<string, unknown>): Record<string, unknown> {
  const spec = pod.spec as Record<string, unknown> | undefined;
  if (spec === undefined || spec === null || typeof spec !== 'object') return pod;
  const clean = (list: unknown): unknown =>
    Array.isArray(list)
      ? list.map((c: unknown) => {
          if (c === null || typeof c !== 'object') return c;
          const out = { ...(c as Record<string, unknown>) };
          for (const k of DEFAULTED_ENUMS) if (out[k] === '') delete out[k];
          return out;
        })
      : list;
  return {
    ...pod,
    spec: {
      ...spec,
      containers: clean(spec.containers),
      initContainers: clean(spec.initContainers),
    },
  };
}

export function validatePod(pod: unknown): void {
  const candidate = withoutEmptyEnums({
    apiVersion: 'v1',
    kind: 'Pod',
    ...(pod as Record<string, unknown>),
  });
  new Pod(candidate).validate();
}
