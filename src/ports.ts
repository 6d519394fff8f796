/**
 * Contracts between the adapters (HTTP server, Kubernetes caches, config sources, CLI) and the
 * composition root. Implementations live in src/k8s, src/config-sources and src/http; tests pass fakes.
 */
import type { ClusterFacts, NamespaceInfo } from './core/contracts.js';
import type { InjectionConfig } from './core/config/types.js';
import type { Pod } from './core/k8s.js';

/** Raw text of Istio's configuration inputs, as found in ConfigMap keys or mounted files. */
export interface ConfigSources {
  /** `config` key of `istio-sidecar-injector[-<rev>]` (YAML). */
  config?: string;
  /** `values` key of the same ConfigMap (JSON or YAML). */
  values?: string;
  /** `mesh` key of `istio[-<rev>]` (YAML MeshConfig). */
  mesh?: string;
}

/** The current, last good configuration. `current()` is a cheap read used on every request. */
export interface ConfigProvider {
  current(): InjectionConfig;
  /** True once a configuration has been loaded (the embedded default counts). */
  ready(): boolean;
  /** Stops watching (files or ConfigMaps). */
  close(): Promise<void>;
}

export type NamespaceSource = 'cache' | 'api' | 'unavailable';

export interface NamespaceLookupResult {
  namespace?: NamespaceInfo;
  /**
   * `cache`: informer hit. `api`: cache miss answered by one bounded GET. `unavailable`: neither worked,
   * so the webhook configuration's selectors are trusted (recorded in the decision reason).
   */
  source: NamespaceSource;
}

export interface NamespaceResolver {
  /** Cache first; on a miss one GET bounded by `signal` (at most 1 s). Never throws. */
  resolve(name: string, signal?: AbortSignal): Promise<NamespaceLookupResult>;
}

/** Cluster facts for one pod (native sidecars from the node informer, OpenShift UID range, ...). */
export interface ClusterFactsProvider {
  factsFor(pod: Pod, namespace: NamespaceInfo | undefined): ClusterFacts;
}

/** Readiness of the Kubernetes side: true once every informer has synced at least once. */
export interface ClusterReadiness {
  synced(): boolean;
  /** Informational details for /readyz (the webhook self-check); never a readiness failure. */
  details?(): Record<string, unknown>;
}
