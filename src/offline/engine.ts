/**
 * What the offline commands need from the injection engine and the configuration sources,
 * as a port: the commands are tested with fakes, and src/offline/real-engine.ts wires the
 * webhook's own core so offline results equal what the webhook would produce.
 */
import type { ClusterFacts, NamespaceInfo } from '../core/contracts.js';
import type { InjectionConfig } from '../core/config/types.js';
import type { Pod } from '../core/k8s.js';
import type { NodeVersion } from '../core/native-sidecars.js';
import type { PodInjector } from './manifest.js';

/** Where the configuration comes from, as given on the command line. */
export interface ConfigRequest {
  /** A directory holding `config`, `values` and `mesh` files (a mounted ConfigMap). */
  configDir?: string;
  /** Read the ConfigMaps from the cluster this kubeconfig points at. */
  kubeconfig?: string;
  istioNamespace: string;
  /** Control-plane revision; empty for the default revision. */
  revision: string;
  /** Single files replacing one input each (`--inject-config-file`, `--values-file`, `--mesh-config-file`). */
  files?: Readonly<Partial<Record<'config' | 'values' | 'mesh', string>>>;
  /** `--set path=value` overrides (`values.global.proxy.statusPort=15021`, `meshConfig.x=y`). */
  set: readonly string[];
}

/** One step of the `check` explanation. */
export interface CheckStep {
  /**
   * `webhook` (the API server's selectors, spec §2.1), `policy` (the server's decision, spec
   * §2.2), or `injection` (the pipeline refusing the pod, e.g. a bad annotation: what the webhook
   * would deny; only present when it does).
   */
  stage: 'webhook' | 'policy' | 'injection';
  /** Whether this step lets the pod through. */
  pass: boolean;
  /** Stable reason code from the core. */
  reason: string;
  message: string;
}

export interface OfflineEngine {
  /** Loads and validates the configuration; throws InjectorError (INJ_ERR_CONFIG_INVALID, ...). */
  loadConfig(request: ConfigRequest): Promise<InjectionConfig>;
  /** The kube-inject injector: decision of spec §2.5, then the webhook's pipeline. */
  injector(config: InjectionConfig, cluster: ClusterFacts): PodInjector;
  /** Name and kubelet version of every node, for `inject --kubeconfig --native-sidecars auto`. */
  fetchNodeVersions(kubeconfig: string): Promise<NodeVersion[]>;
  /** Labels and annotations of a namespace from the cluster, for `check --kubeconfig`. */
  fetchNamespace(kubeconfig: string, name: string): Promise<NamespaceInfo | undefined>;
  /** The webhook-mode explanation of one pod: selectors first (when labels are known), then policy. */
  explain(input: {
    pod: Pod;
    namespace: NamespaceInfo | undefined;
    namespaceName: string;
    config: InjectionConfig;
  }): CheckStep[];
}
