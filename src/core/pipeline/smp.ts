/**
 * Strategic merge patch for the Pod schema, as the Kubernetes API machinery applies it
 * (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/).
 *
 * - Maps merge key by key; a `null` patch value deletes the key.
 * - Lists declared with a merge key merge element-wise by that key; all other lists are replaced.
 * - Directives: `$patch: replace | delete | merge` on maps and list elements, `$retainKeys`,
 *   `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` (the last two are accepted and dropped).
 * - Merged list order: patch elements in patch order, original-only elements interleaved at their
 *   original relative positions; when in doubt a patch element goes first.
 *
 * Inputs are never mutated; the result shares untouched subtrees with `original`.
 */
import type { JsonObject, JsonValue } from '../json.js';
import { isJsonObject } from '../json.js';

/** Schema node: which child lists merge by which key, and the schema of nested fields. */
export interface SmpSchema {
  /** For a list field: the merge key of its elements (absent = replace the list). */
  mergeKey?: string;
  /** Schema of the fields of this object (or of each element, for a list). */
  fields?: Record<string, SmpSchema>;
}

const CONTAINER: SmpSchema = {
  fields: {
    env: { mergeKey: 'name' },
    ports: { mergeKey: 'containerPort' },
    volumeMounts: { mergeKey: 'mountPath' },
    volumeDevices: { mergeKey: 'devicePath' },
    resizePolicy: { mergeKey: 'resourceName' },
  },
};

const OBJECT_META: SmpSchema = {
  fields: { ownerReferences: { mergeKey: 'uid' } },
};

/** Merge keys of `core/v1` Pod, from the `patchMergeKey` tags of the Kubernetes API types. */
export const POD_SCHEMA: SmpSchema = {
  fields: {
    metadata: OBJECT_META,
    spec: {
      fields: {
        containers: { mergeKey: 'name', ...CONTAINER },
        initContainers: { mergeKey: 'name', ...CONTAINER },
        ephemeralContainers: { mergeKey: 'name', ...CONTAINER },
        volumes: { mergeKey: 'name' },
        imagePullSecrets: { mergeKey: 'name' },
        hostAliases: { mergeKey: 'ip' },
        topologySpreadConstraints: { mergeKey: 'topologyKey' },
        resourceClaims: { mergeKey: 'name' },
        schedulingGates: { mergeKey: 'name' },
      },
    },
  },
};

/** The schema of one container, for merging a single container over another. */
export const CONTAINER_SCHEMA: SmpSchema = CONTAINER;

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER_PREFIX = '$setElementOrder/';
const DELETE_PRIMITIVE_PREFIX = '$deleteFromPrimitiveList/';

/** Applies `patch` over `original` for the given schema and returns the merged object. */
export function strategicMerge(
  original: JsonObject | undefined,
  patch: JsonObject,
  schema: SmpSchema = POD_SCHEMA,
): JsonObject | undefined {
  return mergeMap(original ?? {}, patch, schema);
}

function mergeMap(
  original: JsonObject,
  patch: JsonObject,
  schema: SmpSchema | undefined,
): JsonObject | undefined {
  const directive = patch[PATCH];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch);

  const result: JsonObject = { ...original };
  const retain = patch[RETAIN_KEYS];
  for (const [key, patchValue] of Object.entries(patch)) {
    if (patchValue === undefined || key === PATCH || key === RETAIN_KEYS) continue;
    if (key.startsWith(SET_ORDER_PREFIX) || key.startsWith(DELETE_PRIMITIVE_PREFIX)) continue;
    if (patchValue === null) {
      delete result[key];
      continue;
    }
    const fieldSchema = schema?.fields?.[key];
    const current = result[key];
    const merged = mergeValue(current, patchValue, fieldSchema);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  if (Array.isArray(retain)) {
    const keep = new Set(retain.filter((k): k is string => typeof k === 'string'));
    for (const key of Object.keys(result)) if (!keep.has(key)) delete result[key];
  }
  return result;
}

function mergeValue(
  current: JsonValue | undefined,
  patchValue: JsonValue,
  schema: SmpSchema | undefined,
): JsonValue | undefined {
  if (isJsonObject(patchValue)) {
    // A new subtree is merged into an empty map so nulls and directives inside it are applied too.
    return mergeMap(isJsonObject(current) ? current : {}, patchValue, schema);
  }
  if (Array.isArray(patchValue)) {
    const base = Array.isArray(current) ? current : [];
    return mergeList(base, patchValue, schema);
  }
  return patchValue;
}

function mergeList(
  original: JsonValue[],
  patch: JsonValue[],
  schema: SmpSchema | undefined,
): JsonValue[] {
  const mergeKey = schema?.mergeKey;
  if (mergeKey === undefined) return patch.map((item) => cleanNew(item, schema));
  if (patch.some((item) => isJsonObject(item) && item[PATCH] === 'replace')) {
    return patch
      .filter((item) => !(isJsonObject(item) && item[PATCH] === 'replace'))
      .map((item) => cleanNew(item, schema));
  }

  const keyOf = (item: JsonValue): string | undefined => {
    if (!isJsonObject(item)) return undefined;
    const k = item[mergeKey];
    return k === undefined || k === null ? undefined : JSON.stringify(k);
  };

  const merged: JsonValue[] = [...original];
  const indexByKey = new Map<string, number>();
  original.forEach((item, i) => {
    const k = keyOf(item);
    if (k !== undefined && !indexByKey.has(k)) indexByKey.set(k, i);
  });
  const deleted = new Set<number>();
  const patchKeys: string[] = [];
  for (const item of patch) {
    const k = keyOf(item);
    if (!isJsonObject(item) || k === undefined) {
      // An element without its merge key cannot be matched; Kubernetes rejects it. Keep it as new.
      merged.push(cleanNew(item, schema));
      continue;
    }
    const at = indexByKey.get(k);
    if (item[PATCH] === 'delete') {
      if (at !== undefined) deleted.add(at);
      continue;
    }
    patchKeys.push(k);
    if (at === undefined) {
      indexByKey.set(k, merged.length);
      merged.push(mergeMap({}, item, schema) ?? {});
    } else {
      const base = merged[at];
      merged[at] = mergeMap(isJsonObject(base) ? base : {}, item, schema) ?? {};
    }
  }
  const remaining = merged.filter((_, i) => !deleted.has(i));
  return orderMerged(remaining, patchKeys, original, keyOf);
}

/**
 * Reorders a merged list: elements named by the patch in patch order, then interleaves the
 * original-only elements by their position in the original list.
 */
function orderMerged(
  merged: JsonValue[],
  patchKeys: string[],
  original: JsonValue[],
  keyOf: (item: JsonValue) => string | undefined,
): JsonValue[] {
  const patchOrder = new Map<string, number>();
  patchKeys.forEach((k, i) => {
    if (!patchOrder.has(k)) patchOrder.set(k, i);
  });
  const serverOrder = new Map<string, number>();
  original.forEach((item, i) => {
    const k = keyOf(item);
    if (k !== undefined && !serverOrder.has(k)) serverOrder.set(k, i);
  });
  const fromPatch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const item of merged) {
    const k = keyOf(item);
    if (k !== undefined && patchOrder.has(k)) fromPatch.push(item);
    else serverOnly.push(item);
  }
  const rank = (order: Map<string, number>, item: JsonValue): number => {
    const k = keyOf(item);
    return k === undefined ? Number.MAX_SAFE_INTEGER : (order.get(k) ?? Number.MAX_SAFE_INTEGER);
  };
  fromPatch.sort((a, b) => rank(patchOrder, a) - rank(patchOrder, b));
  serverOnly.sort((a, b) => rank(serverOrder, a) - rank(serverOrder, b));

  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < fromPatch.length || j < serverOnly.length) {
    const left = fromPatch[i];
    const right = serverOnly[j];
    if (left === undefined) {
      out.push(right as JsonValue);
      j++;
    } else if (right === undefined) {
      out.push(left);
      i++;
    } else {
      const li = serverRank(serverOrder, keyOf(left));
      const ri = serverRank(serverOrder, keyOf(right));
      if (li >= 0 && ri >= 0 && ri < li) {
        out.push(right);
        j++;
      } else {
        out.push(left);
        i++;
      }
    }
  }
  return out;
}

function serverRank(order: Map<string, number>, key: string | undefined): number {
  if (key === undefined) return -1;
  return order.get(key) ?? -1;
}

/** A value taken from the patch as is: nulls dropped and directives applied, recursively. */
function cleanNew(item: JsonValue, schema: SmpSchema | undefined): JsonValue {
  if (isJsonObject(item)) return mergeMap({}, item, schema) ?? {};
  return item;
}

function stripDirectives(patch: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || value === null || key === PATCH || key === RETAIN_KEYS) continue;
    if (key.startsWith(SET_ORDER_PREFIX) || key.startsWith(DELETE_PRIMITIVE_PREFIX)) continue;
    out[key] = value;
  }
  return out;
}
