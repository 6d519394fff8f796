/**
 * The seams between the parts of the engine and between the core and its adapters.
 * Adapters (HTTP, Kubernetes, files, CLI) implement or call these; the core never does I/O.
 */
import type { Operation } from 'fast-json-patch';
import type { InjectionConfig, ProxyConfig, MeshConfig, Values } from './config/types.js';
import type { Pod, StringMap } from './k8s.js';

/** Facts about the cluster the request comes from, resolved by the caller before calling the core. */
export interface ClusterFacts {
  /** Global native-sidecar decision (spec §2.4), before the pod's `sidecar.istio.io/nativeSidecar` annotation. */
  nativeSidecars: boolean;
  /** `PLATFORM=openshift` behaviour: proxy UID/GID from the namespace annotations. */
  openshift?: boolean;
  /** Annotations of the pod's namespace (only read on OpenShift). */
  namespaceAnnotations?: StringMap;
  /** istiod's `COMPLIANCE_POLICY`, e.g. `fips-140-3`; empty when unset. */
  compliancePolicy?: string;
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

export type { InjectionConfig };
