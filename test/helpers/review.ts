/** AdmissionReview bodies for the review, admission and HTTP tests, answered by the real core. */
import type { Pod } from '../../src/core/pod-types.js';

/**
 * An annotation the real pipeline rejects with INJ_ERR_INVALID_ANNOTATION (a CIDR list that is
 * not one), naming the annotation and the value.
 */
export const BAD_ANNOTATION = 'traffic.sidecar.istio.io/includeOutboundIPRanges';

/** A v1 (or v1beta1) AdmissionReview for a pod CREATE; `patch` tweaks the request. */
export function makeReview(
  overrides: { apiVersion?: string; request?: Record<string, unknown>; pod?: Pod } = {},
): Record<string, unknown> {
  const pod: Pod = overrides.pod ?? {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'app-', labels: { app: 'x' } },
    spec: { containers: [{ name: 'app', image: 'app:1' }] },
  };
  return {
    apiVersion: overrides.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: pod,
      oldObject: null,
      dryRun: false,
      ...overrides.request,
    },
  };
}
