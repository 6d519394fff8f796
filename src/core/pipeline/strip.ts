/**
 * Re-injection support: the copy of the pod the templates see, with what a previous injection
 * added removed (containers named in the status annotation, the Prometheus annotations it
 * pointed at the agent, the status annotation) and recorded user overrides put back.
 */
import type { Pod } from '../pod-types.js';
import { clearPrometheusAnnotations, prometheusPort } from './prometheus.js';
import { reinsertOverrides, type ParsedContainers } from './overrides.js';
import { type InjectionStatus } from './status.js';
import { KEY } from '../annotations/keys.js';

export function stripPod(
  pod: Pod,
  status: InjectionStatus | undefined,
  agentPort: number,
  overrides: ParsedContainers,
): Pod {
  let stripped = pod;
  if (status) {
    const spec = { ...(pod.spec ?? {}) };
    if (spec.containers)
      spec.containers = spec.containers.filter((c) => !status.containers.includes(c.name));
    if (spec.initContainers) {
      spec.initContainers = spec.initContainers.filter(
        (c) => !status.initContainers.includes(c.name),
      );
    }
    const annotations = { ...(pod.metadata?.annotations ?? {}) };
    if (prometheusPort(annotations) === String(agentPort)) clearPrometheusAnnotations(annotations);
    delete annotations[KEY.status];
    stripped = { ...pod, metadata: { ...(pod.metadata ?? {}), annotations }, spec };
  }
  return reinsertOverrides(stripped, overrides);
}
