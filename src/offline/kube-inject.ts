/**
 * The `inject` command's pod injector: the kube-inject decision of spec §2.5 (host network,
 * per-pod opt-out), then the webhook's own pipeline, so `inject` prints what the webhook patches in.
 */
import type { InjectionConfig } from '../core/config/types.js';
import type { ClusterFacts } from '../core/contracts.js';
import { decide } from '../core/decide.js';
import { inject } from '../core/inject.js';
import { checkPodShape } from '../core/pod-shape.js';
import type { PodInjector } from './manifest.js';

/** Namespace kube-inject assumes for objects that do not set one (their pods land there). */
const DEFAULT_NAMESPACE = 'default';

export function kubeInjector(config: InjectionConfig, cluster: ClusterFacts): PodInjector {
  return (pod, ref) => {
    const namespace = ref.namespace === '' ? DEFAULT_NAMESPACE : ref.namespace;
    const shapeError = checkPodShape(pod, '');
    if (shapeError) throw shapeError;
    const decision = decide({ pod, namespace, injector: config.injector, mode: 'kube-inject' });
    if (!decision.inject) return { injected: false, reason: decision.message };
    const output = inject({
      pod,
      namespace,
      config,
      cluster,
      mode: 'kube-inject',
      // A bare Pod derives its identity from itself (spec §4.1.1); templates from their owner.
      ...(ref.kind === 'Pod' ? {} : { workload: { ...ref, namespace } }),
    });
    return {
      injected: true,
      pod: output.pod,
      warnings: [...decision.warnings, ...output.warnings],
    };
  };
}
