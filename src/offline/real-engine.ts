/**
 * The offline commands wired to the webhook's own core: the same configuration loader, decision
 * and injection pipeline, so `inject` prints exactly what the webhook would patch in.
 */
import { readConfigOnce } from '../config-sources/choose.js';
import { loadInjectionConfigOrThrow } from '../core/config/load.js';
import type { InjectionConfig } from '../core/config/types.js';
import type { ClusterFacts, NamespaceInfo } from '../core/contracts.js';
import type { Pod } from '../core/k8s.js';
import { isInjectorError } from '../errors.js';
import { decide } from '../core/decide.js';
import { checkPodShape } from '../core/pod-shape.js';
import type { NodeVersion } from '../core/native-sidecars.js';
import { inject } from '../core/inject.js';
import { evaluateWebhookSelectors, webhookEntriesOptionsOf } from '../core/webhook-selectors.js';
import type { CheckStep, ConfigRequest, OfflineEngine } from './engine.js';
import type { PodInjector } from './manifest.js';

/** Namespace kube-inject assumes for objects that do not set one (their pods land there). */
const DEFAULT_NAMESPACE = 'default';

async function fetchNamespace(
  kubeconfig: string,
  name: string,
): Promise<NamespaceInfo | undefined> {
  const k8s = await import('../k8s/fetch-config.js');
  return k8s.fetchNamespace({ kubeconfigPath: kubeconfig, name });
}

async function fetchNodeVersions(kubeconfig: string): Promise<NodeVersion[]> {
  const k8s = await import('../k8s/fetch-config.js');
  return k8s.fetchNodeVersions({ kubeconfigPath: kubeconfig });
}

async function loadConfig(request: ConfigRequest): Promise<InjectionConfig> {
  const sources = await readConfigOnce(request);
  return loadInjectionConfigOrThrow(
    { ...sources, set: request.set },
    request.revision === '' ? {} : { revision: request.revision },
  );
}

/** kube-inject: the decision of spec §2.5 (host network, per-pod opt-out), then the pipeline. */
function injector(config: InjectionConfig, cluster: ClusterFacts): PodInjector {
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

/** `check`: the API server's selectors (when the namespace labels are known), then the server's decision. */
function explain(input: Parameters<OfflineEngine['explain']>[0]): CheckStep[] {
  const { pod, namespace, namespaceName, config } = input;
  const steps: CheckStep[] = [];
  if (namespace === undefined) {
    steps.push({
      stage: 'webhook',
      pass: true,
      reason: 'namespace-labels-unknown',
      message: `labels of namespace ${namespaceName} unknown (pass --namespace-labels or --kubeconfig): selectors not evaluated`,
    });
  } else {
    const verdict = evaluateWebhookSelectors({
      ...webhookEntriesOptionsOf(config),
      namespaceName,
      namespaceLabels: namespace.labels,
      podLabels: pod.metadata?.labels ?? {},
    });
    steps.push({
      stage: 'webhook',
      pass: verdict.matched,
      reason: verdict.reason,
      message: verdict.message,
    });
  }
  const decision = decide({
    pod,
    namespace: namespaceName,
    injector: config.injector,
    mode: 'webhook',
  });
  steps.push({
    stage: 'policy',
    pass: decision.inject,
    reason: decision.reason,
    message: decision.message,
  });
  if (decision.inject) {
    const refusal = injectionRefusal(pod, namespaceName, config);
    if (refusal !== undefined) steps.push(refusal);
  }
  return steps;
}

/**
 * Runs the webhook's pipeline on the pod as `inject` and the server do: a pod they reject (a bad
 * annotation, an unknown template, an unreadable pod) is reported as rejected with the code.
 */
function injectionRefusal(
  pod: Pod,
  namespace: string,
  config: InjectionConfig,
): CheckStep | undefined {
  try {
    const shapeError = checkPodShape(pod, '');
    if (shapeError) throw shapeError;
    inject({ pod, namespace, config, cluster: { nativeSidecars: true }, mode: 'webhook' });
    return undefined;
  } catch (error) {
    if (!isInjectorError(error)) throw error;
    return {
      stage: 'injection',
      pass: false,
      reason: error.code,
      message: `the webhook would deny the pod: ${error.message}`,
    };
  }
}

export const realEngine: OfflineEngine = {
  loadConfig,
  injector,
  fetchNodeVersions,
  fetchNamespace,
  explain,
};
