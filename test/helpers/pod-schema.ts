/**
 * Validates a pod against the Kubernetes Pod schema (OpenAPI, via the kubernetes-models package).
 * Throws with the schema errors when the pod is invalid.
 */
import { Pod } from 'kubernetes-models/v1';

export function validatePod(pod: unknown): void {
  const candidate = { apiVersion: 'v1', kind: 'Pod', ...(pod as Record<string, unknown>) };
  new Pod(candidate as ConstructorParameters<typeof Pod>[0]).validate();
}
