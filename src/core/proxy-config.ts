/**
 * The effective ProxyConfig of a pod (spec §4.1): built-in defaults <- mesh `defaultConfig` <-
 * the ProxyConfig resources of the root and the pod's namespace <- the pod's `KEY.proxyConfig`
 * annotation (YAML or JSON) <- a workload-selector ProxyConfig resource. The resources are read by
 * the adapters and given as a `ProxyConfigSet`; src/core/proxy-config-resources.ts has the rules.
 */
import type { ErrorDetail } from '../errors.js';
import {
  checkFields,
  duration,
  int32,
  uint32,
  object,
  oneOf,
  optionalBool,
  optionalObject,
  str,
  stringMap,
  type Checker,
  type FieldRule,
} from './config/checks.js';
import { fieldRules } from './config/field-rules.js';
import { DEFAULT_PROXY_CONFIG } from './config/defaults.js';
import { proxyConfigProblems } from './config/proxy-config-validation.js';
import { declaredProxyConfigFields, subMessageProblems } from './config/proxy-config-fields.js';
import { cloneJson, deepFreeze, mergeProxyConfigObjects } from './config/merge.js';
import type { ConfigIssue, MeshConfig, ProxyConfig, Values } from './config/types.js';
import { getPath, isJsonObject, type JsonObject } from './json.js';
import type { StringMap } from './pod-types.js';
import { parseYamlDocument } from './yaml.js';
import { KEY } from './annotations/keys.js';
import { boundedCache, memoByIdentity } from './bounded-cache.js';
import {
  proxyConfigLayers,
  type ProxyConfigResource,
  type ProxyConfigSet,
  type ProxyConfigTarget,
} from './proxy-config-resources.js';

// int32 fields: jsonpb refuses what does not fit; ranges are checked by validation.
const nullableInt: Checker = (value, path, issues) =>
  value === null ? undefined : int32(value, path, issues);

/** An enum as jsonpb reads it: a value name, or its number (normalised to the name). */
function protoEnum(names: readonly (readonly [string, number])[]): Checker {
  const byName = oneOf(names.map(([name]) => name));
  return (value, path, issues) => {
    if (typeof value !== 'number') return byName(value, path, issues);
    const checked = int32(value, path, issues);
    if (checked === undefined) return;
    return names.find(([, n]) => n === checked)?.[0] ?? checked;
  };
}

/** The checkers PROXY_CONFIG_RULES names. */
const CHECKS: Readonly<Record<string, Checker>> = {
  str,
  duration,
  int32,
  uint32,
  nullableInt,
  optionalBool,
  stringMap,
  object,
  optionalObject,
  tracingServiceName: protoEnum([
    ['APP_LABEL_AND_NAMESPACE', 0],
    ['CANONICAL_NAME_ONLY', 1],
    ['CANONICAL_NAME_AND_NAMESPACE', 2],
  ]),
  interceptionMode: protoEnum([
    ['REDIRECT', 0],
    ['TPROXY', 1],
    ['NONE', 2],
  ]),
  controlPlaneAuthPolicy: protoEnum([
    ['NONE', 0],
    ['MUTUAL_TLS', 1],
    ['INHERIT', 1000],
  ]),
};

/** Type rules for every ProxyConfig field the injector reads (unknown fields are tolerated). */
export const PROXY_CONFIG_RULES: readonly FieldRule[] = fieldRules(
  'ProxyConfig',
  CHECKS,
  `
    configPath:str
    binaryPath:str
    serviceCluster:str
    drainDuration:duration
    terminationDrainDuration:duration
    discoveryRefreshDelay:duration
    fileFlushInterval:duration
    discoveryAddress:str
    proxyAdminPort:int32
    statusPort:int32
    statNameLength:int32
    fileFlushMinSizeKb:uint32
    concurrency:nullableInt
    tracingServiceName:tracingServiceName
    interceptionMode:interceptionMode
    holdApplicationUntilProxyStarts:optionalBool
    proxyMetadata:stringMap
    tracing:optionalObject
    image:object
    image.imageType:str
    controlPlaneAuthPolicy:controlPlaneAuthPolicy
    meshId:str
    statsdUdpAddress:str
    envoyMetricsService:object
    envoyAccessLogService:object
  `,
);

/** Type-checks (and normalises in place) a ProxyConfig map, recording issues under `prefix`. */
export function checkProxyConfigObject(
  config: JsonObject,
  prefix: string,
  issues: ConfigIssue[],
): void {
  checkFields(config, PROXY_CONFIG_RULES, prefix, issues);
}

/**
 * Semantic checks Istio applies to a proxy config (src/core/config/proxy-config-validation.ts).
 * Returns problems as `field: text` strings.
 */
export function validateProxyConfig(config: ProxyConfig): string[] {
  return proxyConfigProblems(config);
}

/**
 * Parsed annotations by text: validation, resolution and the hold check all read the same
 * annotation, and the pods of one workload carry the same text, so each text is parsed once.
 * Entries are frozen; the map is bounded and simply cleared when full.
 */
const overlayCache = boundedCache<{ overlay: JsonObject | undefined; issues: ConfigIssue[] }>(256);

/** Parses the annotation text into a ProxyConfig overlay; problems are pushed to `issues`. */
export function parseProxyConfigOverlay(
  text: string,
  issues: ConfigIssue[],
): JsonObject | undefined {
  const cached = overlayCache.get(text, () => {
    const found: ConfigIssue[] = [];
    const overlay = parseOverlay(text, found);
    return {
      overlay: overlay === undefined ? undefined : deepFreeze(overlay),
      issues: deepFreeze(found),
    };
  });
  issues.push(...cached.issues);
  return cached.overlay;
}

function parseOverlay(text: string, issues: ConfigIssue[]): JsonObject | undefined {
  // istiod reads the annotation with protomarshal.ApplyYAML: go-yaml v2's YAML 1.1 scalars.
  const result = parseYamlDocument(text, { resolution: 'go' });
  if (!result.ok) {
    issues.push({ path: '', message: result.errors[0] ?? 'invalid YAML' });
    return undefined;
  }
  const parsed = result.value;
  if (parsed === null || parsed === undefined) return {};
  if (!isJsonObject(parsed)) {
    issues.push({ path: '', message: 'expected a ProxyConfig map' });
    return undefined;
  }
  // Read as istiod's jsonpb reads it: proto names accepted, undeclared and null fields dropped.
  const declared = declaredProxyConfigFields(parsed);
  const before = issues.length;
  for (const problem of subMessageProblems(parsed)) issues.push({ path: '', message: problem });
  checkProxyConfigObject(declared, '', issues);
  return issues.length === before ? declared : undefined;
}

/** Built-in defaults <- mesh.defaultConfig, computed once per (immutable) mesh object. */
const meshProxyConfig = memoByIdentity((mesh: MeshConfig): ProxyConfig => {
  const merged = mergeProxyConfigObjects(cloneJson(DEFAULT_PROXY_CONFIG), mesh.defaultConfig);
  return deepFreeze(merged as ProxyConfig);
});

/**
 * Below the annotation: the mesh config with the namespace-wide resources over it, remembered per
 * (mesh, resource set, namespace); a new set (any resource change) starts afresh.
 */
const namespaceBaseCache = new WeakMap<
  MeshConfig,
  WeakMap<ProxyConfigSet, Map<string, ProxyConfig>>
>();

function namespaceBase(
  mesh: MeshConfig,
  target: ProxyConfigTarget,
  layers: readonly ProxyConfigResource[],
): ProxyConfig {
  if (layers.length === 0) return meshProxyConfig(mesh);
  let bySet = namespaceBaseCache.get(mesh);
  if (bySet === undefined) {
    bySet = new WeakMap();
    namespaceBaseCache.set(mesh, bySet);
  }
  let byNamespace = bySet.get(target.set);
  if (byNamespace === undefined) {
    byNamespace = new Map();
    bySet.set(target.set, byNamespace);
  }
  let cached = byNamespace.get(target.namespace);
  if (cached === undefined) {
    let merged: JsonObject = meshProxyConfig(mesh);
    for (const layer of layers) merged = mergeProxyConfigObjects(merged, layer.overlay);
    cached = deepFreeze(merged as ProxyConfig);
    // Namespaces come from requests: bounded, cleared when full.
    if (byNamespace.size >= 1024) byNamespace.clear();
    byNamespace.set(target.namespace, cached);
  }
  return cached;
}

/** Above the annotation: a workload-selector resource, remembered per (config below, resource). */
const workloadCache = new WeakMap<ProxyConfig, WeakMap<ProxyConfigResource, ProxyConfig>>();

function withWorkload(config: ProxyConfig, workload: ProxyConfigResource | undefined): ProxyConfig {
  if (workload === undefined) return config;
  // Only frozen (cached) configs are shared between requests, so only they are keys.
  if (!Object.isFrozen(config)) {
    return mergeProxyConfigObjects(config, workload.overlay);
  }
  let byResource = workloadCache.get(config);
  if (byResource === undefined) {
    byResource = new WeakMap();
    workloadCache.set(config, byResource);
  }
  let cached = byResource.get(workload);
  if (cached === undefined) {
    cached = deepFreeze(mergeProxyConfigObjects(config, workload.overlay) as ProxyConfig);
    byResource.set(workload, cached);
  }
  return cached;
}

/**
 * Effective proxy config for a pod; `target` carries the ProxyConfig resources (absent: none).
 * When the annotation is invalid, the config without it is returned together with the issues
 * (injection is then refused by annotation validation).
 */
export function resolveProxyConfig(
  mesh: MeshConfig,
  annotations: StringMap,
  target?: ProxyConfigTarget,
): { proxyConfig: ProxyConfig; issues: ErrorDetail[] } {
  const layers =
    target === undefined || target.set.size === 0
      ? undefined
      : proxyConfigLayers(target, mesh.rootNamespace);
  const base =
    layers === undefined || target === undefined
      ? meshProxyConfig(mesh)
      : namespaceBase(mesh, target, layers.namespaceWide);
  const workload = layers?.workload;
  const text = annotations[KEY.proxyConfig];
  if (text === undefined) return { proxyConfig: withWorkload(base, workload), issues: [] };

  const field = `metadata.annotations[${KEY.proxyConfig}]`;
  if (typeof text !== 'string') {
    const reason = 'failed to convert to apply proxy config: annotation values must be strings';
    return {
      proxyConfig: withWorkload(base, workload),
      issues: [{ field, value: String(text), reason }],
    };
  }
  const parseIssues: ConfigIssue[] = [];
  const overlay = parseProxyConfigOverlay(text, parseIssues);
  if (overlay === undefined) {
    const reason = `failed to convert to apply proxy config: ${parseIssues
      .map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`))
      .join('; ')}`;
    return { proxyConfig: withWorkload(base, workload), issues: [{ field, value: text, reason }] };
  }
  const proxyConfig = mergeProxyConfigObjects(base, overlay) as ProxyConfig;
  // istiod validates the annotation over the built-in defaults, not over the mesh's defaultConfig
  // or the ProxyConfig resources (istio/pkg/kube/inject/validate.go validateProxyConfig).
  const problems = validateProxyConfig(mergeProxyConfigObjects(DEFAULT_PROXY_CONFIG, overlay));
  if (problems.length > 0) {
    return {
      proxyConfig: withWorkload(base, workload),
      issues: [{ field, value: text, reason: `invalid proxy config: ${problems.join('; ')}` }],
    };
  }
  return { proxyConfig: withWorkload(proxyConfig, workload), issues: [] };
}

/**
 * Whether the app containers wait for the proxy (spec §4.7.6): the proxy config from mesh and
 * annotation (no ProxyConfig resources), or values `global.proxy.holdApplicationUntilProxyStarts`.
 */
export function holdApplicationUntilProxyStarts(
  mesh: MeshConfig,
  annotations: StringMap,
  values: Values,
): boolean {
  const { proxyConfig } = resolveProxyConfig(mesh, annotations);
  return (
    proxyConfig.holdApplicationUntilProxyStarts === true ||
    getPath(values, 'global.proxy.holdApplicationUntilProxyStarts') === true
  );
}
