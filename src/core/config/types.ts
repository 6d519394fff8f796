/**
 * The injector's configuration model, mirroring Istio's three inputs:
 * - `config` key of the `istio-sidecar-injector` ConfigMap  -> InjectorConfig
 * - `values` key of the same ConfigMap (Helm values subset)  -> Values (generic map over embedded defaults)
 * - `mesh` key of the `istio` ConfigMap (MeshConfig)         -> MeshConfig (over built-in defaults)
 * See the behaviour spec §8. Everything here is parsed once, at load time, never per request.
 */
import type { JsonObject, JsonValue } from '../json.js';
import type { StringMap } from '../pod-types.js';
import type { TemplateSet } from '../pipeline/template-set.js';

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: StringMap;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface InjectorConfig {
  /** `enabled` or `disabled`; any other string means "never inject" (spec §2.2 step 5). */
  policy: string;
  /** Templates used when the pod has no `KEY.templates` annotation. Never empty (defaults to [sidecar]). */
  defaultTemplates: string[];
  aliases: Record<string, string[]>;
  neverInjectSelector: LabelSelector[];
  alwaysInjectSelector: LabelSelector[];
  injectedAnnotations: StringMap;
  /**
   * Values `sidecarInjectorWebhook.templates`: Go template texts added to (or replacing, by name)
   * the configuration's `templates`; compiled into `InjectionConfig.templates` at load.
   */
  customTemplates: Record<string, string>;
}

/**
 * Istio's `values`: a generic map (templates read it as such), always the embedded defaults with
 * the user's partial values deep-merged over them. Read it with `getPath(values, 'global.proxy.image')`.
 */
export type Values = JsonObject;

/**
 * Effective ProxyConfig in protobuf-JSON form (camelCase field names, durations as strings like "45s").
 * Built-in defaults <- mesh.defaultConfig <- `KEY.proxyConfig` annotation.
 */
export interface ProxyConfig {
  configPath?: string;
  binaryPath?: string;
  serviceCluster?: string;
  drainDuration?: string;
  terminationDrainDuration?: string;
  discoveryAddress?: string;
  proxyAdminPort?: number;
  statusPort?: number;
  statNameLength?: number;
  concurrency?: number | null;
  interceptionMode?: 'REDIRECT' | 'TPROXY' | 'NONE';
  holdApplicationUntilProxyStarts?: boolean | null;
  proxyMetadata?: StringMap;
  tracing?: JsonObject | null;
  image?: { imageType?: string };
  [key: string]: JsonValue | undefined;
}

export interface MeshConfig {
  trustDomain: string;
  rootNamespace: string;
  proxyListenPort: number;
  proxyInboundListenPort: number;
  enablePrometheusMerge?: boolean | null;
  inboundTrafficPolicy?: { mode?: string };
  defaultConfig: ProxyConfig;
  extensionProviders?: JsonObject[];
  [key: string]: JsonValue | undefined;
}

/** Everything the injection pipeline needs from configuration, ready to use (already validated). */
export interface InjectionConfig {
  injector: InjectorConfig;
  values: Values;
  mesh: MeshConfig;
  /** The injector's revision (`default` unless running as a revisioned control plane). */
  revision: string;
  /**
   * The templates compiled from the configuration's text at load (never per request); absent:
   * the embedded built-ins (native renderers).
   */
  templates?: TemplateSet;
}

/** One configuration problem, reported by path (e.g. `values.global.proxy.statusPort`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

export type ConfigResult =
  { ok: true; config: InjectionConfig } | { ok: false; issues: ConfigIssue[] };
