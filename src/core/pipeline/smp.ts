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
 * Inputs are never mutated; the result shares untouched subtrees with `original`, and new
 * subtrees with `patch` when there is nothing to apply inside them (no directive, no null):
 * copying those would only produce an equal tree.
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
    if (isJsonObject(current)) return mergeMap(current, patchValue, schema);
    return newMap(patchValue, schema);
  }
  if (Array.isArray(patchValue)) {
    const base = Array.isArray(current) ? current : [];
    // A replaced list, or a merged one with nothing to merge into, is made of the patch alone.
    if (schema?.mergeKey === undefined || base.length === 0) return newList(patchValue, schema);
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
  if (mergeKey === undefined) return newList(patch, schema);
  if (patch.some((item) => isJsonObject(item) && item[PATCH] === 'replace')) {
    return patch
      .filter((item) => !(isJsonObject(item) && item[PATCH] === 'replace'))
      .map((item) => cleanNew(item, schema));
  }

  // Each element's key is computed once: the ordering below looks keys up many times.
  const originalKeys = original.map((item) => keyOf(item, mergeKey));
  const merged: KeyedItem[] = original.map((item, i) => ({ item, key: originalKeys[i] }));
  const indexByKey = new Map<string, number>();
  originalKeys.forEach((k, i) => {
    if (k !== undefined && !indexByKey.has(k)) indexByKey.set(k, i);
  });
  const deleted = new Set<number>();
  const patchKeys: string[] = [];
  for (const item of patch) {
    const k = keyOf(item, mergeKey);
    if (!isJsonObject(item) || k === undefined) {
      // An element without its merge key cannot be matched; Kubernetes rejects it. Keep it as new.
      const added = cleanNew(item, schema);
      merged.push({ item: added, key: keyOf(added, mergeKey) });
      continue;
    }
    const at = indexByKey.get(k);
    if (item[PATCH] === 'delete') {
      if (at !== undefined) deleted.add(at);
      continue;
    }
    patchKeys.push(k);
    const base = at === undefined ? undefined : merged[at]?.item;
    const result = isJsonObject(base)
      ? (mergeMap(base, item, schema) ?? {})
      : cleanNew(item, schema);
    // `$retainKeys` may drop the merge key itself, so the key is taken from the result.
    const entry = { item: result, key: keyOf(result, mergeKey) };
    if (at === undefined) {
      indexByKey.set(k, merged.length);
      merged.push(entry);
    } else {
      merged[at] = entry;
    }
  }
  const remaining = deleted.size === 0 ? merged : merged.filter((_, i) => !deleted.has(i));
  return orderMerged(remaining, patchKeys, originalKeys);
}

interface KeyedItem {
  item: JsonValue;
  /** `keyOf(item)`, computed once. */
  key: string | undefined;
}

/**
 * A string identifying an element's merge-key value; undefined when the element has none.
 * Strings (the usual case) are marked with a leading `s`, which no JSON text of another type
 * starts with, so `"80"` and `80` stay distinct.
 */
function keyOf(item: JsonValue, mergeKey: string): string | undefined {
  if (!isJsonObject(item)) return undefined;
  const k = item[mergeKey];
  if (k === undefined || k === null) return undefined;
  return typeof k === 'string' ? `s${k}` : JSON.stringify(k);
}

/**
 * Reorders a merged list: elements named by the patch in patch order, then interleaves the
 * original-only elements by their position in the original list.
 */
function orderMerged(
  merged: readonly KeyedItem[],
  patchKeys: readonly string[],
  originalKeys: readonly (string | undefined)[],
): JsonValue[] {
  const patchOrder = new Map<string, number>();
  patchKeys.forEach((k, i) => {
    if (!patchOrder.has(k)) patchOrder.set(k, i);
  });
  const serverOrder = new Map<string, number>();
  originalKeys.forEach((k, i) => {
    if (k !== undefined && !serverOrder.has(k)) serverOrder.set(k, i);
  });
  const fromPatch: KeyedItem[] = [];
  const serverOnly: KeyedItem[] = [];
  for (const entry of merged) {
    if (entry.key !== undefined && patchOrder.has(entry.key)) fromPatch.push(entry);
    else serverOnly.push(entry);
  }
  const rank = (order: Map<string, number>, entry: KeyedItem): number =>
    entry.key === undefined
      ? Number.MAX_SAFE_INTEGER
      : (order.get(entry.key) ?? Number.MAX_SAFE_INTEGER);
  fromPatch.sort((a, b) => rank(patchOrder, a) - rank(patchOrder, b));
  serverOnly.sort((a, b) => rank(serverOrder, a) - rank(serverOrder, b));

  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < fromPatch.length || j < serverOnly.length) {
    const left = fromPatch[i];
    const right = serverOnly[j];
    if (left === undefined) {
      out.push((right as KeyedItem).item);
      j++;
    } else if (right === undefined) {
      out.push(left.item);
      i++;
    } else {
      const li = serverRank(serverOrder, left.key);
      const ri = serverRank(serverOrder, right.key);
      if (li >= 0 && ri >= 0 && ri < li) {
        out.push(right.item);
        j++;
      } else {
        out.push(left.item);
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
  return isJsonObject(item) ? (newMap(item, schema) ?? {}) : item;
}

/**
 * A map the original does not have, i.e. `mergeMap({}, patch)`: the patch map itself when nothing
 * inside it changes, else a copy with just the changed fields replaced. Directives and nulls at
 * this level take the general path.
 */
function newMap(patch: JsonObject, schema: SmpSchema | undefined): JsonObject | undefined {
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === undefined || value === null || key.startsWith('$')) {
      return mergeMap({}, patch, schema);
    }
  }
  let out: JsonObject | undefined;
  for (const key of Object.keys(patch)) {
    const value = patch[key] as JsonValue;
    if (typeof value !== 'object') continue;
    const merged = mergeValue(undefined, value, schema?.fields?.[key]);
    if (merged === value) continue;
    out ??= { ...patch };
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out ?? patch;
}

/**
 * A list the original does not have (or has empty: a typed Pod marshals an empty list as absent).
 * The API machinery takes such a list from the patch as is: elements sharing a merge key are NOT
 * merged into one, only elements carrying `$patch` are dropped (`mergeMap` → `removeDirectives`,
 * k8s.io/apimachinery pkg/util/strategicpatch/patch.go). So a rendered container that repeats an
 * env name keeps every entry, as Istio's injector does.
 */
function newList(patch: JsonValue[], schema: SmpSchema | undefined): JsonValue[] {
  let out: JsonValue[] | undefined;
  let dropped = false;
  patch.forEach((item, i) => {
    if (isJsonObject(item) && item[PATCH] !== undefined) {
      dropped = true;
      return;
    }
    const cleaned = cleanNew(item, schema);
    if (cleaned !== item) (out ??= [...patch])[i] = cleaned;
  });
  if (!dropped) return out ?? patch;
  const base = out ?? patch;
  return base.filter((item, i) => !(isJsonObject(patch[i]) && patch[i][PATCH] !== undefined));
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
