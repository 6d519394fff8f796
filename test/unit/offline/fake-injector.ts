/**
 * A deterministic stand-in for the real pipeline, so the document handling can be tested on its
 * own: it adds a native `istio-proxy`, a label and a status annotation, is idempotent, skips
 * host-network and opted-out pods, and rejects a marker annotation the way the core rejects bad input.
 */
import { InjectorError } from '../../../src/errors.js';
import type { Pod } from '../../../src/core/pod-types.js';
import type { InjectOutcome, PodInjector, WorkloadRef } from '../../../src/offline/manifest.js';

export const BAD_ANNOTATION = 'test.example/bad';

export interface FakeCall {
  pod: Pod;
  workload: WorkloadRef;
}

export function fakeInjector(calls: FakeCall[] = []): PodInjector {
  return (pod, workload): InjectOutcome => {
    calls.push({ pod: structuredClone(pod), workload });
    if (pod.spec?.hostNetwork === true) {
      return { injected: false, reason: 'host networking is enabled' };
    }
    const annotations = pod.metadata?.annotations ?? {};
    if (annotations['sidecar.istio.io/inject'] === 'false') {
      return { injected: false, reason: 'sidecar injection is disabled' };
    }
    const bad = annotations[BAD_ANNOTATION];
    if (bad !== undefined) {
      throw new InjectorError('INJ_ERR_INVALID_ANNOTATION', `invalid value '${bad}'`, {
        details: [{ field: `metadata.annotations[${BAD_ANNOTATION}]`, value: bad, reason: 'bad' }],
      });
    }
    const out = structuredClone(pod);
    out.metadata = {
      ...out.metadata,
      labels: { ...out.metadata?.labels, 'security.istio.io/tlsMode': 'istio' },
      annotations: { ...annotations, 'sidecar.istio.io/status': `{"owner":"${workload.name}"}` },
    };
    const spec = out.spec ?? {};
    const others = (spec.initContainers ?? []).filter((c) => c.name !== 'istio-proxy');
    spec.initContainers = [
      { name: 'istio-proxy', image: 'proxyv2', restartPolicy: 'Always' },
      ...others,
    ];
    out.spec = spec;
    return { injected: true, pod: out, warnings: [] };
  };
}
