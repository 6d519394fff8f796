/**
 * RFC 6902 operations between two JSON values, limited to the subtrees an injection touched.
 *
 * Rules the API server's patch applier needs (https://datatracker.ietf.org/doc/html/rfc6902):
 * segments are escaped (`~0`, `~1`), a missing parent map or list is added whole (never an `add`
 * below a missing parent), arrays are compared by index with surplus elements removed from the
 * highest index down, and `add`/`replace` always carry a value. A list that only gained elements is
 * patched with `add`s at their positions, so existing elements are not rewritten by index.
 */
import type { Operation } from 'fast-json-patch';
import type { JsonValue } from '../json.js';
import { isJsonObject, own } from '../json.js';
import { childPointer, toPointer } from './pointer.js';

type Segments = readonly (string | number)[];

/** Structural diff of `before` and `after` located at `prefix`; appends to `ops`. */
export function diffValues(
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  prefix: Segments,
  ops: Operation[],
): void {
  diffAt(before, after, toPointer(prefix), ops);
}

/** `diffValues` with the location already encoded as a JSON pointer, extended per level. */
function diffAt(
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  path: string,
  ops: Operation[],
): void {
  if (before === after) return;
  if (after === undefined) {
    if (before !== undefined) ops.push({ op: 'remove', path });
    return;
  }
  if (before === undefined) {
    ops.push({ op: 'add', path, value: after });
    return;
  }
  if (isJsonObject(before) && isJsonObject(after)) {
    for (const key of Object.keys(before)) {
      if (before[key] !== undefined && own(after, key) === undefined) {
        ops.push({ op: 'remove', path: childPointer(path, key) });
      }
    }
    for (const key of Object.keys(after)) {
      const value = after[key];
      if (value === undefined) continue;
      const old = own(before, key);
      // Shared (untouched) subtrees are skipped before building their pointer.
      if (old !== value) diffAt(old, value, childPointer(path, key), ops);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (!diffInsertions(before, after, path, ops)) diffByIndex(before, after, path, ops);
    return;
  }
  if (!sameScalar(before, after)) ops.push({ op: 'replace', path, value: after });
}

function diffByIndex(
  before: JsonValue[],
  after: JsonValue[],
  path: string,
  ops: Operation[],
): void {
  const common = Math.min(before.length, after.length);
  for (let i = 0; i < common; i++) {
    if (before[i] !== after[i]) diffAt(before[i], after[i], childPointer(path, i), ops);
  }
  for (let i = before.length - 1; i >= after.length; i--) {
    ops.push({ op: 'remove', path: childPointer(path, i) });
  }
  for (let i = before.length; i < after.length; i++) {
    ops.push({ op: 'add', path: childPointer(path, i), value: after[i] as JsonValue });
  }
}

/** Same list element: the very same (untouched, shared) value, or objects with the same `name`. */
function sameElement(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (!isJsonObject(a) || !isJsonObject(b)) return false;
  return typeof a['name'] === 'string' && a['name'] === b['name'];
}

/**
 * When `after` is `before` with new elements inserted (the injected init containers and volumes go
 * in front of the pod's own), patch only the insertions plus the changes inside kept elements, so
 * the pod's own entries are never rewritten by position ("patch only required fields", Kubernetes
 * admission webhook good practices). Returns false, writing nothing, for any other change.
 */
function diffInsertions(
  before: JsonValue[],
  after: JsonValue[],
  path: string,
  ops: Operation[],
): boolean {
  if (after.length <= before.length) return false;
  const keptFrom: (number | undefined)[] = new Array<number | undefined>(after.length);
  let next = 0;
  for (let j = 0; j < after.length; j++) {
    if (next < before.length && sameElement(before[next], after[j])) keptFrom[j] = next++;
  }
  if (next !== before.length) return false;
  // Insertions in ascending final index leave every kept element at its final index.
  for (let j = 0; j < after.length; j++) {
    if (keptFrom[j] === undefined) {
      ops.push({ op: 'add', path: childPointer(path, j), value: after[j] as JsonValue });
    }
  }
  for (let j = 0; j < after.length; j++) {
    const from = keptFrom[j];
    if (from !== undefined && before[from] !== after[j]) {
      diffAt(before[from], after[j], childPointer(path, j), ops);
    }
  }
  return true;
}

function sameScalar(a: JsonValue, b: JsonValue): boolean {
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  // Different container kinds (or null against a container).
  return a === null && b === null;
}

function childOf(value: JsonValue | undefined, segment: string | number): JsonValue | undefined {
  if (Array.isArray(value) && typeof segment === 'number') return value[segment];
  if (isJsonObject(value) && typeof segment === 'string') return value[segment];
  return undefined;
}

/**
 * Builds the patch from `original` to `modified` looking only at `paths` (each a list of object
 * keys from the root, e.g. `['metadata', 'annotations']`). Paths may overlap; a path whose parent
 * is missing in `original` is covered by one `add` of the highest missing ancestor.
 */
export function createSubtreePatch(
  original: JsonValue,
  modified: JsonValue,
  paths: readonly Segments[],
): Operation[] {
  const ops: Operation[] = [];
  const done = new Set<string>();
  // Shorter paths first, so a parent subtree is diffed before (and instead of) its children.
  const ordered = [...paths].sort((a, b) => a.length - b.length);
  for (const path of ordered) {
    let before: JsonValue | undefined = original;
    let after: JsonValue | undefined = modified;
    let depth = 0;
    // Walk down while the parent exists on both sides.
    while (depth < path.length - 1) {
      const segment = path[depth] as string | number;
      const nextBefore = childOf(before, segment);
      const nextAfter = childOf(after, segment);
      if (nextBefore === undefined || nextAfter === undefined) break;
      before = nextBefore;
      after = nextAfter;
      depth++;
    }
    const at = path.slice(0, depth + 1);
    const key = toPointer(at);
    if (done.has(key) || [...done].some((d) => key.startsWith(`${d}/`))) continue;
    done.add(key);
    const segment = path[depth] as string | number;
    diffAt(childOf(before, segment), childOf(after, segment), key, ops);
  }
  return ops;
}
