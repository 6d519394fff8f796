/**
 * `networking.istio.io/v1beta1` ProxyConfig resources (https://istio.io/latest/docs/reference/config/networking/proxy-config/):
 * reading one object, indexing a set of them, and the layers they add to a pod's proxy config.
 *
 * How Istio combines them (pilot/pkg/model/proxy_config.go, `EffectiveProxyConfig`), lowest
 * precedence first:
 * 1. built-in defaults, then mesh `defaultConfig`;
 * 2. the root namespace's (`meshConfig.rootNamespace`) first ProxyConfig without a selector;
 * 3. unless the pod lives in the root namespace, its own namespace's first one without a selector;
 * 4. the `KEY.proxyConfig` annotation;
 * 5. the first ProxyConfig of the pod's namespace whose `selector.matchLabels` (non-empty) are all
 *    among the pod's labels. Istio merges the annotation "with lower priority than the
 *    workload-matching ProxyConfig CRs", so a selected resource wins over the annotation.
 * "First" is by creation time, then name, then namespace (pilot/pkg/model/config.go,
 * `configCompareByCreationTime`). A selector without labels matches nothing; only the pod's own
 * namespace is searched for a selector match. Each resource sets at most `concurrency`,
 * `proxyMetadata` (from `environmentVariables`, merged key by key) and `image`.
 */
import type { ErrorDetail } from '../errors.js';
import type { ConfigIssue } from './config/types.js';
import { deepFreeze } from './config/merge.js';
import { describeValue } from './config/checks.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import type { StringMap } from './pod-types.js';
import { matchesSelector } from './selectors.js';

export const PROXY_CONFIG_GROUP = 'networking.istio.io';
export const PROXY_CONFIG_VERSION = 'v1beta1';
export const PROXY_CONFIG_API_VERSION = `${PROXY_CONFIG_GROUP}/${PROXY_CONFIG_VERSION}`;
export const PROXY_CONFIG_KIND = 'ProxyConfig';

/** One ProxyConfig resource, checked and reduced to what the proxy config merge reads. */
export interface ProxyConfigResource {
  readonly namespace: string;
  readonly name: string;
  /** `metadata.creationTimestamp` in ms; absent sorts first (Go's zero time). */
  readonly created: number;
  /** `spec.selector.matchLabels`; undefined when the resource has no selector (namespace-wide). */
  readonly matchLabels: StringMap | undefined;
  /** The ProxyConfig fields it sets, in MeshConfig `ProxyConfig` form. Frozen. */
  readonly overlay: JsonObject;
}

/** ProxyConfig resources indexed by namespace, each list in Istio's order. Immutable. */
export interface ProxyConfigSet {
  readonly byNamespace: ReadonlyMap<string, readonly ProxyConfigResource[]>;
  readonly size: number;
}

export const EMPTY_PROXY_CONFIG_SET: ProxyConfigSet = Object.freeze({
  byNamespace: new Map<string, readonly ProxyConfigResource[]>(),
  size: 0,
});

/** Whether a manifest document is a ProxyConfig resource (any version of the group). */
export function isProxyConfigDocument(value: JsonValue): boolean {
  if (!isJsonObject(value) || value['kind'] !== PROXY_CONFIG_KIND) return false;
  const apiVersion = value['apiVersion'];
  return typeof apiVersion === 'string' && apiVersion.startsWith(`${PROXY_CONFIG_GROUP}/`);
}

export type ProxyConfigParse =
  | { ok: true; resource: ProxyConfigResource; warnings: string[] }
  | { ok: false; issues: ConfigIssue[] };

const MAX_INT32 = 2147483647;

/**
 * Reads one ProxyConfig object (an informer item or a manifest document). `defaultNamespace` is
 * used when `metadata.namespace` is absent. Problems are reported by path; the checks are those of
 * Istio's CRD schema and `ValidateProxyConfig` (pkg/config/validation/validation.go).
 */
export function parseProxyConfigResource(
  value: JsonValue,
  defaultNamespace: string,
): ProxyConfigParse {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  if (!isJsonObject(value)) {
    return {
      ok: false,
      issues: [{ path: '', message: `expected a map, got ${describeValue(value)}` }],
    };
  }
  if (value['apiVersion'] !== PROXY_CONFIG_API_VERSION) {
    issues.push({
      path: 'apiVersion',
      message: `expected ${JSON.stringify(PROXY_CONFIG_API_VERSION)}, got ${describeValue(value['apiVersion'])}`,
    });
  }
  const metadata = value['metadata'];
  const meta = isJsonObject(metadata) ? metadata : undefined;
  if (metadata !== undefined && meta === undefined) {
    issues.push({ path: 'metadata', message: `expected a map, got ${describeValue(metadata)}` });
  }
  const name = meta?.['name'];
  if (typeof name !== 'string' || name === '') {
    issues.push({ path: 'metadata.name', message: `expected a name, got ${describeValue(name)}` });
  }
  const namespaceValue = meta?.['namespace'];
  let namespace = defaultNamespace;
  if (typeof namespaceValue === 'string' && namespaceValue !== '') namespace = namespaceValue;
  else if (namespaceValue !== undefined && namespaceValue !== null && namespaceValue !== '') {
    issues.push({
      path: 'metadata.namespace',
      message: `expected a string, got ${describeValue(namespaceValue)}`,
    });
  }
  const created = creationTime(meta?.['creationTimestamp'], issues);

  const specValue = value['spec'];
  const spec = specValue === undefined || specValue === null ? {} : specValue;
  let matchLabels: StringMap | undefined;
  let overlay: JsonObject = {};
  if (!isJsonObject(spec)) {
    issues.push({ path: 'spec', message: `expected a map, got ${describeValue(spec)}` });
  } else {
    matchLabels = selectorLabels(spec['selector'], issues, warnings);
    overlay = specOverlay(spec, issues);
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    resource: deepFreeze({
      namespace,
      name: name as string,
      created,
      matchLabels,
      overlay,
    }),
    warnings,
  };
}

/** The MeshConfig ProxyConfig fields a resource's spec sets (Istio's toMeshConfigProxyConfig). */
function specOverlay(spec: JsonObject, issues: ConfigIssue[]): JsonObject {
  const overlay: JsonObject = {};
  const concurrency = spec['concurrency'];
  if (concurrency !== undefined && concurrency !== null) {
    if (
      typeof concurrency !== 'number' ||
      !Number.isInteger(concurrency) ||
      concurrency < 0 ||
      concurrency > MAX_INT32
    ) {
      issues.push({
        path: 'spec.concurrency',
        message: `expected an integer 0-${MAX_INT32}, got ${describeValue(concurrency)}`,
      });
    } else {
      overlay['concurrency'] = concurrency;
    }
  }
  const env = stringMapAt(spec['environmentVariables'], 'spec.environmentVariables', issues);
  // An empty map writes nothing (protobuf's YAML form omits it), so it changes nothing.
  if (env !== undefined && Object.keys(env).length > 0) overlay['proxyMetadata'] = env;
  const image = spec['image'];
  if (image === undefined || image === null) return overlay;
  if (!isJsonObject(image)) {
    issues.push({ path: 'spec.image', message: `expected a map, got ${describeValue(image)}` });
    return overlay;
  }
  const imageType = image['imageType'];
  if (imageType !== undefined && imageType !== null && typeof imageType !== 'string') {
    issues.push({
      path: 'spec.image.imageType',
      message: `expected a string, got ${describeValue(imageType)}`,
    });
    return overlay;
  }
  // Istio sets the whole message: `image: {}` clears an imageType set below it.
  overlay['image'] = typeof imageType === 'string' && imageType !== '' ? { imageType } : {};
  return overlay;
}

function creationTime(value: JsonValue | undefined, issues: ConfigIssue[]): number {
  if (value === undefined || value === null || value === '') return Number.NEGATIVE_INFINITY;
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) {
    issues.push({
      path: 'metadata.creationTimestamp',
      message: `expected an RFC 3339 time, got ${describeValue(value)}`,
    });
    return Number.NEGATIVE_INFINITY;
  }
  return parsed;
}

function stringMapAt(
  value: JsonValue | undefined,
  path: string,
  issues: ConfigIssue[],
): StringMap | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) {
    issues.push({ path, message: `expected a map of strings, got ${describeValue(value)}` });
    return undefined;
  }
  const entries: [string, string][] = [];
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') {
      issues.push({
        path: `${path}.${key}`,
        message: `expected a string, got ${describeValue(entry)}`,
      });
      continue;
    }
    entries.push([key, entry]);
  }
  // Keys are user input: fromEntries defines own properties (`__proto__` stays a plain key).
  return Object.fromEntries(entries);
}

/** `spec.selector`: absent or null means no selector; a selector without labels matches nothing. */
function selectorLabels(
  value: JsonValue | undefined,
  issues: ConfigIssue[],
  warnings: string[],
): StringMap | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) {
    issues.push({ path: 'spec.selector', message: `expected a map, got ${describeValue(value)}` });
    return undefined;
  }
  const labels = stringMapAt(value['matchLabels'], 'spec.selector.matchLabels', issues) ?? {};
  for (const [key, label] of Object.entries(labels)) {
    if (key === '') {
      issues.push({
        path: 'spec.selector.matchLabels',
        message: 'empty key is not supported in selector',
      });
    }
    if (key.includes('*') || label.includes('*')) {
      issues.push({
        path: `spec.selector.matchLabels.${key}`,
        message: `wildcard is not supported in selector: ${JSON.stringify(`${key}=${label}`)}`,
      });
    }
  }
  if (Object.keys(labels).length === 0) {
    warnings.push('workload selector specified without labels: the resource applies to no pod');
  }
  return labels;
}

/** Istio's order of the resources of one namespace: creation time, then name, then namespace. */
function compareResources(a: ProxyConfigResource, b: ProxyConfigResource): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  return 0;
}

/** Indexes resources by namespace; a later resource with the same namespace and name replaces one. */
export function buildProxyConfigSet(resources: Iterable<ProxyConfigResource>): ProxyConfigSet {
  const unique = new Map<string, ProxyConfigResource>();
  for (const resource of resources) unique.set(`${resource.namespace}/${resource.name}`, resource);
  const byNamespace = new Map<string, ProxyConfigResource[]>();
  for (const resource of unique.values()) {
    let list = byNamespace.get(resource.namespace);
    if (list === undefined) {
      list = [];
      byNamespace.set(resource.namespace, list);
    }
    list.push(resource);
  }
  for (const list of byNamespace.values()) list.sort(compareResources);
  return Object.freeze({ byNamespace, size: unique.size });
}

/** The pod a proxy config is resolved for, as the ProxyConfig resources see it. */
export interface ProxyConfigTarget {
  set: ProxyConfigSet;
  /** The pod's namespace (the request's when the pod carries none). */
  namespace: string;
  labels: StringMap;
}

/** The overlays the resources add for one pod, around the annotation (see the file comment). */
export interface ProxyConfigLayers {
  /** Below the annotation, lowest first: the root namespace's, then the pod namespace's. */
  namespaceWide: readonly ProxyConfigResource[];
  /** Above the annotation: the workload-selector match, if any. */
  workload: ProxyConfigResource | undefined;
}

export function proxyConfigLayers(
  target: ProxyConfigTarget,
  rootNamespace: string,
): ProxyConfigLayers {
  const namespaceWide: ProxyConfigResource[] = [];
  if (rootNamespace !== '') {
    const root = firstWithoutSelector(target.set, rootNamespace);
    if (root !== undefined) namespaceWide.push(root);
  }
  if (target.namespace !== rootNamespace) {
    const own = firstWithoutSelector(target.set, target.namespace);
    if (own !== undefined) namespaceWide.push(own);
  }
  const workload = (target.set.byNamespace.get(target.namespace) ?? []).find(
    (r) =>
      r.matchLabels !== undefined && matchesSelector({ matchLabels: r.matchLabels }, target.labels),
  );
  return { namespaceWide, workload };
}

function firstWithoutSelector(
  set: ProxyConfigSet,
  namespace: string,
): ProxyConfigResource | undefined {
  return (set.byNamespace.get(namespace) ?? []).find((r) => r.matchLabels === undefined);
}

/** An issue of one resource as an error detail naming the resource. */
export function proxyConfigIssueDetail(where: string, issue: ConfigIssue): ErrorDetail {
  return {
    field: issue.path === '' ? where : `${where}: ${issue.path}`,
    reason: issue.message,
  };
}
