/**
 * What the offline commands (`inject`, `check`, `check --cluster`) read from a cluster given by
 * `--kubeconfig`: one GET each, no informers (src/k8s/fetch-config.ts). The Kubernetes client is
 * loaded only when one of these is called.
 */
import type { ConfigSources, NamespaceInfo } from '../core/contracts.js';
import type { NodeVersion } from '../core/native-sidecars.js';
import type { StringMap } from '../core/pod-types.js';
import type { FetchConfigOptions } from './fetch-config.js';

export interface ClusterReader {
  /** The `config`/`values` and `mesh` texts of the revision's ConfigMaps. */
  configSources(options: FetchConfigOptions): Promise<ConfigSources>;
  /** Labels and annotations of a namespace; `undefined` when it does not exist. */
  namespace(kubeconfigPath: string, name: string): Promise<NamespaceInfo | undefined>;
  /** Name and kubelet version of every node (the native-sidecar decision, spec §2.4). */
  nodeVersions(kubeconfigPath: string): Promise<NodeVersion[]>;
  /**
   * Labels of every MutatingWebhookConfiguration (the revision tags, src/core/revision-tags.ts);
   * `undefined` when the list is forbidden or not served.
   */
  webhookConfigurationLabels(kubeconfigPath: string): Promise<StringMap[] | undefined>;
}

const load = () => import('./fetch-config.js');

/** The cluster the kubeconfig points at (the in-cluster service account without one). */
export const kubeconfigReader: ClusterReader = Object.freeze({
  configSources: async (options: FetchConfigOptions) => (await load()).fetchConfigSources(options),
  namespace: async (kubeconfigPath: string, name: string) =>
    (await load()).fetchNamespace({ kubeconfigPath, name }),
  nodeVersions: async (kubeconfigPath: string) =>
    (await load()).fetchNodeVersions({ kubeconfigPath }),
  webhookConfigurationLabels: async (kubeconfigPath: string) =>
    (await load()).fetchWebhookConfigurationLabels({ kubeconfigPath }),
});
