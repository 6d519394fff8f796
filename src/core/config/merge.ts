/**
 * Plain-data helpers for configuration: deep clone, deep freeze and the two merge semantics the
 * injector's inputs use (Helm values coalescing, MeshConfig/ProxyConfig overlaying).
 */
import { isJsonObject, own, setOwn, type JsonObject, type JsonValue } from '../json.js';
import { declaredProxyConfigFields } from './proxy-config-fields.js';

/** Recursively freezes plain data so a shared configuration cannot be changed by a caller. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}

/** A structural copy of plain JSON data; the copy is mutable even when the source is frozen. */
export function cloneJson<T extends JsonValue | undefined>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneJson(v)) as T;
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      if (child !== undefined) setOwn(out, key, cloneJson(child));
    }
    return out as T;
  }
  return value;
}

/**
 * Helm-style coalescing of user values over defaults: maps merge key by key, lists and scalars
 * replace, and an explicit `null` removes the default key (how users drop e.g. a default CPU limit).
 */
export function mergeValues(base: JsonObject, overlay: JsonObject): JsonObject {
  const out = cloneJson(base);
  for (const [key, value] of Object.entries(overlay)) {
    if (value === undefined) continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = own(out, key);
    setOwn(
      out,
      key,
      isJsonObject(current) && isJsonObject(value) ? mergeValues(current, value) : cloneJson(value),
    );
  }
  return out;
}

/** How one overlay field combines with the base field; undefined: the overlay value replaces it. */
type FieldMerge = (current: JsonValue | undefined, value: JsonValue) => JsonValue | undefined;

/** Every field set in `overlay` replaces the base field, except those `special` merges itself. */
function overlayObject(
  base: JsonObject,
  overlay: JsonObject,
  special: ReadonlyMap<string, FieldMerge>,
): JsonObject {
  const out = cloneJson(base);
  for (const [key, value] of Object.entries(overlay)) {
    if (value === undefined) continue;
    setOwn(out, key, special.get(key)?.(own(out, key), value) ?? cloneJson(value));
  }
  return out;
}

const PROXY_CONFIG_MERGE: ReadonlyMap<string, FieldMerge> = new Map([
  [
    'proxyMetadata',
    (current, value) =>
      isJsonObject(current) && isJsonObject(value)
        ? { ...current, ...cloneJson(value) }
        : undefined,
  ],
]);

/**
 * ProxyConfig overlay: every field set in the overlay replaces the base field, except
 * `proxyMetadata`, whose entries are merged key by key (Istio's MergeProxyConfig behaviour).
 * The overlay is read as jsonpb reads it: proto names accepted, `null` and undeclared fields
 * dropped (src/core/config/proxy-config-fields.ts).
 */
export function mergeProxyConfigObjects(base: JsonObject, overlay: JsonObject): JsonObject {
  const declared = declaredProxyConfigFields(overlay);
  const out = overlayObject(base, declared, PROXY_CONFIG_MERGE);
  // serviceCluster and tracingServiceName are one oneof (ClusterName): setting one clears the other.
  if (Object.hasOwn(declared, 'tracingServiceName')) delete out['serviceCluster'];
  else if (Object.hasOwn(declared, 'serviceCluster')) delete out['tracingServiceName'];
  return out;
}

const MESH_FIELDS: ReadonlyMap<string, FieldMerge> = new Map<string, FieldMerge>([
  [
    'defaultConfig',
    (current, value) =>
      isJsonObject(value)
        ? mergeProxyConfigObjects(isJsonObject(current) ? current : {}, value)
        : undefined,
  ],
  [
    'extensionProviders',
    (current, value) => {
      if (!Array.isArray(current) || !Array.isArray(value)) return undefined;
      const names = new Set(value.map((p) => (isJsonObject(p) ? p['name'] : undefined)));
      const kept = current.filter((p) => !(isJsonObject(p) && names.has(p['name'])));
      return [...kept, ...cloneJson(value)];
    },
  ],
]);

/**
 * MeshConfig overlay: top-level fields replace, `defaultConfig` is merged as a ProxyConfig and
 * `extensionProviders` are appended, a provider with an existing name replacing the old one.
 */
export function mergeMeshObjects(base: JsonObject, overlay: JsonObject): JsonObject {
  return overlayObject(base, overlay, MESH_FIELDS);
}

/** Sets `segments` in `root`, creating intermediate maps (replacing non-map intermediates). */
export function setIn(root: JsonObject, segments: readonly string[], value: JsonValue): void {
  let current = root;
  segments.forEach((segment, index) => {
    if (index === segments.length - 1) {
      current[segment] = value;
      return;
    }
    const next = current[segment];
    if (isJsonObject(next)) {
      current = next;
    } else {
      const created: JsonObject = {};
      current[segment] = created;
      current = created;
    }
  });
}
