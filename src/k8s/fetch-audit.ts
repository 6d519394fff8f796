/**
 * One-shot reads for `check --cluster`: every pod (paged and trimmed as the informer does), every
 * namespace's labels (metadata only) and the MutatingWebhookConfigurations. Same RBAC as the
 * informers: list on pods, namespaces and mutatingwebhookconfigurations.
 */
import { AdmissionregistrationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import type { NamespaceInfo } from '../core/contracts.js';
import type { Pod } from '../core/pod-types.js';
import type { WebhookConfiguration } from '../core/audit/webhooks.js';
import { InjectorError } from '../errors.js';
import { FETCH_TIMEOUT_MS } from './fetch-config.js';
import {
  ACCEPT_PARTIAL_METADATA_LIST,
  loadKubeConfig,
  requestOptions,
  statusCodeOf,
} from './kubeconfig.js';
import { toNamespaceInfo } from './namespace-cache.js';
import { createV1PodTrimmer, PAGE_SIZE, pagedPodList } from './pod-audit.js';
import { toWebhookConfiguration } from './webhook-audit.js';

export interface ClusterSnapshot {
  pods: Pod[];
  namespaces: Map<string, NamespaceInfo>;
  webhooks: WebhookConfiguration[];
}

async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err: unknown) {
    const status = statusCodeOf(err);
    throw new InjectorError(
      'INJ_ERR_KUBERNETES_API',
      `could not list ${what}: ${status === undefined ? String(err) : `HTTP ${status}`}`,
      { cause: err, details: [{ field: what, reason: String(err) }] },
    );
  }
}

/** Reads the cluster once; `namespace` limits the pods (namespaces and webhooks stay cluster-wide). */
export async function fetchClusterSnapshot(opts: {
  kubeconfigPath?: string;
  namespace?: string;
}): Promise<ClusterSnapshot> {
  const kubeConfig = loadKubeConfig(opts.kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const signal = () => requestOptions({ signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  const page = (token: string | undefined) => {
    const paging = { limit: PAGE_SIZE, ...(token === undefined ? {} : { _continue: token }) };
    return opts.namespace === undefined
      ? core.listPodForAllNamespaces(paging, signal())
      : core.listNamespacedPod({ namespace: opts.namespace, ...paging }, signal());
  };
  const [pods, namespaces, webhooks] = await Promise.all([
    read('pods', pagedPodList(page, createV1PodTrimmer())),
    read('namespaces', () =>
      core.listNamespace(
        {},
        requestOptions({
          accept: ACCEPT_PARTIAL_METADATA_LIST,
          signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        }),
      ),
    ),
    read('mutatingwebhookconfigurations', () =>
      admission.listMutatingWebhookConfiguration({}, signal()),
    ),
  ]);
  const byName = new Map<string, NamespaceInfo>();
  for (const ns of namespaces.items) {
    const name = ns.metadata?.name;
    if (name !== undefined) byName.set(name, toNamespaceInfo(ns, name));
  }
  return {
    pods: pods.items.map((p: V1Pod) => p as unknown as Pod),
    namespaces: byName,
    webhooks: webhooks.items.map(toWebhookConfiguration),
  };
}
