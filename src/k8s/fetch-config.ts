/**
 * One-shot reads for the offline commands (`inject`, `check` with `--kubeconfig`): the configuration
 * ConfigMaps and a namespace's labels, without informers. A missing ConfigMap or namespace is an
 * answer (defaults / unknown), anything else is an INJ_ERR_KUBERNETES_API error naming what was read.
 */
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { ConfigSources, NamespaceInfo } from '../core/contracts.js';
import type { StringMap } from '../core/pod-types.js';
import { InjectorError } from '../errors.js';
import { configMapNames, sourcesFromConfigMaps } from './configmap-provider.js';
import {
  ACCEPT_PARTIAL_METADATA,
  loadKubeConfig,
  requestOptions,
  statusCodeOf,
} from './kubeconfig.js';
import { toNamespaceInfo } from './namespace-cache.js';
import { nodeVersion } from './node-facts.js';
import type { NodeVersion } from '../core/native-sidecars.js';

/** Bound on each one-shot request, so a CLI run against an unreachable cluster fails promptly. */
export const FETCH_TIMEOUT_MS = 10_000;

export interface FetchConfigOptions {
  /** Kubeconfig file; the in-cluster service account when absent. */
  kubeconfigPath?: string;
  istioNamespace: string;
  revision: string;
}

async function readOrMissing<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err: unknown) {
    if (statusCodeOf(err) === 404) return undefined;
    const status = statusCodeOf(err);
    throw new InjectorError(
      'INJ_ERR_KUBERNETES_API',
      `could not read ${what}: ${status === undefined ? String(err) : `HTTP ${status}`}`,
      { cause: err, details: [{ field: what, reason: String(err) }] },
    );
  }
}

/** The `config`/`values` and `mesh` texts of the revision's ConfigMaps (absent ones stay absent). */
export async function fetchConfigSources(opts: FetchConfigOptions): Promise<ConfigSources> {
  const api = loadKubeConfig(opts.kubeconfigPath).makeApiClient(CoreV1Api);
  const names = configMapNames(opts.revision);
  const namespace = opts.istioNamespace;
  const read = (name: string) =>
    readOrMissing(`ConfigMap ${namespace}/${name}`, () =>
      api.readNamespacedConfigMap(
        { name, namespace },
        requestOptions({ signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) }),
      ),
    );
  const [injector, mesh] = await Promise.all([read(names.injector), read(names.mesh)]);
  return sourcesFromConfigMaps(injector, mesh);
}

/** Labels and annotations of one namespace; `undefined` when it does not exist. */
export async function fetchNamespace(opts: {
  kubeconfigPath?: string;
  name: string;
}): Promise<NamespaceInfo | undefined> {
  const api = loadKubeConfig(opts.kubeconfigPath).makeApiClient(CoreV1Api);
  const ns = await readOrMissing(`Namespace ${opts.name}`, () =>
    api.readNamespace(
      { name: opts.name },
      requestOptions({
        accept: ACCEPT_PARTIAL_METADATA,
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      }),
    ),
  );
  return ns === undefined ? undefined : toNamespaceInfo(ns, opts.name);
}

/** Name and kubelet version of every node, for the native-sidecar decision of `inject --kubeconfig`. */
export async function fetchNodeVersions(opts: { kubeconfigPath?: string }): Promise<NodeVersion[]> {
  const api = loadKubeConfig(opts.kubeconfigPath).makeApiClient(CoreV1Api);
  const list = await readOrMissing('the Node list', () =>
    api.listNode({}, requestOptions({ signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })),
  );
  return (list?.items ?? []).map(nodeVersion);
}

/**
 * The labels of every MutatingWebhookConfiguration, for the revision tags `check --kubeconfig`
 * learns as the server does. `undefined` when they cannot be listed (403 without the RBAC the
 * chart grants the server, 404 without the API): the caller then says so and goes on without.
 */
export async function fetchWebhookConfigurationLabels(opts: {
  kubeconfigPath?: string;
}): Promise<StringMap[] | undefined> {
  const api = loadKubeConfig(opts.kubeconfigPath).makeApiClient(AdmissionregistrationV1Api);
  try {
    const list = await api.listMutatingWebhookConfiguration(
      {},
      requestOptions({ signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) }),
    );
    return list.items.map((c) => c.metadata?.labels ?? {});
  } catch (err: unknown) {
    const status = statusCodeOf(err);
    if (status === 403 || status === 404) return undefined;
    throw new InjectorError(
      'INJ_ERR_KUBERNETES_API',
      `could not list MutatingWebhookConfigurations: ${status === undefined ? String(err) : `HTTP ${status}`}`,
      { cause: err, details: [{ field: 'mutatingwebhookconfigurations', reason: String(err) }] },
    );
  }
}
