/**
 * The one file of types that cross the core boundary: what the core takes and returns
 * (`InjectionInput`, `InjectionOutput`, `RenderContext`), the cluster facts and namespace data the
 * adapters resolve for it, and the shapes of the adapters the composition root wires
 * (`ConfigProvider`, `NamespaceResolver`, `ClusterFactsProvider`, `ClusterReadiness`).
 * Types only: the core never does I/O.
 */
import type { Operation } from 'fast-json-patch';
import type { InjectionConfig, ProxyConfig, MeshConfig, Values } from './config/types.js';
import type { Pod, StringMap } from './pod-types.js';
import type { ProxyConfigSet } from './proxy-config-resources.js';

/** Facts about the cluster the request comes from, resolved by the caller before calling the core. */
export interface ClusterFacts {
  /** Global native-sidecar decision (spec §2.4), before the pod's `KEY.nativeSidecar` annotation. */
  nativeSidecars: boolean;
  /** `PLATFORM=openshift` behaviour: proxy UID/GID from the namespace annotations. */
  openshift?: boolean;
  /** Annotations of the pod's namespace (only read on OpenShift). */
  namespaceAnnotations?: StringMap;
  /** istiod's `COMPLIANCE_POLICY`, e.g. `fips-140-3`; empty when unset. */
  compliancePolicy?: string;
  /**
   * The `networking.istio.io` ProxyConfig resources (the cluster's, or the documents given to
   * `inject`); absent: none. They feed the pod's proxy config (src/core/proxy-config-resources.ts).
   */
  proxyConfigs?: ProxyConfigSet;
}

/** Everything one injection needs. Plain data; the core does not mutate any of it. */
export interface InjectionInput {
  /** The pod as received (`request.object`). Never mutated. */
  pod: Pod;
  /** `request.namespace`, used when the pod carries no namespace. */
  namespace: string;
  config: InjectionConfig;
  cluster: ClusterFacts;
  /** Env overrides from the URL path (`/inject/cluster/c1/net/n1` -> ISTIO_META_CLUSTER_ID=c1, ...). */
  pathEnv?: StringMap;
  /**
   * `webhook`: the admission path. `kube-inject`: the offline path (spec §2.5/§10: always the
   * `sidecar` default template, no aliases, no injectedAnnotations).
   */
  mode: 'webhook' | 'kube-inject';
  /**
   * The object owning the pod template, when known (kube-inject: the Deployment, CronJob, ...).
   * Absent: derived from the pod's controller ownerReference (spec §4.1.1).
   */
  workload?: { kind: string; apiVersion: string; name: string; namespace: string };
}

export interface InjectionOutput {
  /** The injected pod (a new object). */
  pod: Pod;
  /** RFC 6902 operations turning `input.pod` into `pod`; applies under strict semantics. */
  patch: Operation[];
  /** Short user-facing notes (each <= 120 chars), e.g. ignored annotation values. */
  warnings: string[];
}

/**
 * Inputs of one built-in template renderer (spec §4.4). The pipeline computes these once per
 * request; the renderer returns the rendered pod fragment, as Istio's Go template would.
 */
export interface RenderContext {
  /** The stripped pod (spec §2.3): previously injected containers and the status annotation removed. */
  pod: Pod;
  typeMeta: { kind: string; apiVersion: string };
  deploymentMeta: { name: string; namespace: string };
  proxyConfig: ProxyConfig;
  mesh: MeshConfig;
  values: Values;
  revision: string;
  /** Global native-sidecar decision; the renderer applies the per-pod annotation itself. */
  nativeSidecars: boolean;
  proxyUID: number;
  proxyGID: number;
  compliancePolicy: string;
}

/**
 * A rendered template: a partial Pod (metadata + spec) to be strategic-merged into the pod.
 * A `null` value means "delete this key" (strategic-merge-patch semantics).
 */
export type RenderedTemplate = Pod;

export type TemplateRenderer = (ctx: RenderContext) => RenderedTemplate;

/** Label and annotation lookups the adapters give the core; results come from caches. */
export interface NamespaceInfo {
  name: string;
  labels: StringMap;
  annotations: StringMap;
}

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
  /** Cache first; on a miss one GET of at most 1 s. Never throws. */
  resolve(name: string): Promise<NamespaceLookupResult>;
  /**
   * The cache's answer at once, counted like `resolve`'s; undefined on a miss (then `resolve`).
   * Lets a review answered from the cache skip the deadline race and its timer.
   */
  resolveCached?(name: string): NamespaceLookupResult | undefined;
}

/** Cluster facts for one pod (native sidecars from the node informer, OpenShift UID range, ...). */
export interface ClusterFactsProvider {
  factsFor(pod: Pod, namespace: NamespaceInfo | undefined): ClusterFacts;
}

/** Readiness of the Kubernetes side: true once every informer has synced at least once. */
export interface ClusterReadiness {
  synced(): boolean;
  /** False while an informer cannot reach the API server (answers then come from its cache). */
  apiServerReachable?(): boolean;
  /** Informational details for /readyz (the webhook self-check); never a readiness failure. */
  details?(): Record<string, unknown>;
}

export type { InjectionConfig };
