/**
 * A strict RFC 6902 applier with the semantics of the API server's JSON patch library
 * (evanphx/json-patch): `add` below a missing parent fails, an array index out of range fails,
 * `remove`/`replace` of a missing path fail. Used to prove that every patch we emit applies.
 * Returns a new document; the input is never mutated.
 */
import type { Operation } from 'fast-json-patch';
import type { JsonValue } from '../json.js';
import { isJsonObject } from '../json.js';
import { parsePointer } from './pointer.js';

export class PatchApplyError extends Error {
  constructor(
    readonly index: number,
    readonly operation: Operation,
    reason: string,
  ) {
    super(`patch operation ${index} (${operation.op} ${operation.path}) failed: ${reason}`);
    this.name = 'PatchApplyError';
  }
}

type Container = JsonValue[] | { [key: string]: JsonValue | undefined };

export function applyPatchStrict<T>(doc: T, ops: readonly Operation[]): T {
  // The API server patches a tree decoded from JSON. A pod read from YAML can share one object
  // under two paths (an anchor and its alias); structuredClone would keep them shared, and an
  // operation on one path would also change the other.
  let root = JSON.parse(JSON.stringify(doc)) as JsonValue;
  ops.forEach((op, index) => {
    root = applyOne(root, op, index);
  });
  return root as T;
}

function arrayIndex(
  segment: string,
  length: number,
  forAdd: boolean,
  fail: (r: string) => never,
): number {
  if (forAdd && segment === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(segment)) fail(`"${segment}" is not an array index`);
  const i = Number(segment);
  if (forAdd ? i > length : i >= length) fail(`index ${i} out of range (length ${length})`);
  return i;
}

function resolveParent(root: JsonValue, segments: string[], fail: (r: string) => never): Container {
  let current: JsonValue | undefined = root;
  for (const segment of segments) {
    if (Array.isArray(current)) {
      current = current[arrayIndex(segment, current.length, false, fail)];
    } else if (isJsonObject(current)) {
      if (!Object.hasOwn(current, segment) || current[segment] === undefined) {
        fail(`missing parent "${segment}"`);
      }
      current = current[segment];
    } else {
      fail(`parent of "${segment}" is not a container`);
    }
  }
  if (!Array.isArray(current) && !isJsonObject(current)) fail('parent is not a container');
  return current;
}

function getAt(root: JsonValue, pointer: string, fail: (r: string) => never): JsonValue {
  const segments = parsePointer(pointer);
  if (segments.length === 0) return root;
  const last = segments[segments.length - 1] as string;
  const parent = resolveParent(root, segments.slice(0, -1), fail);
  if (Array.isArray(parent))
    return parent[arrayIndex(last, parent.length, false, fail)] as JsonValue;
  const value = parent[last];
  if (value === undefined || !Object.hasOwn(parent, last)) fail(`missing path "${pointer}"`);
  return value;
}

function applyOne(root: JsonValue, op: Operation, index: number): JsonValue {
  const fail = (reason: string): never => {
    throw new PatchApplyError(index, op, reason);
  };
  const segments = parsePointer(op.path);
  const valueOf = (): JsonValue => {
    if (!Object.hasOwn(op, 'value') || (op as { value?: JsonValue }).value === undefined)
      fail('missing value');
    return structuredClone((op as { value: JsonValue }).value);
  };
  switch (op.op) {
    case 'add':
    case 'replace': {
      const value = valueOf();
      if (segments.length === 0) return value;
      const last = segments[segments.length - 1] as string;
      const parent = resolveParent(root, segments.slice(0, -1), fail);
      if (Array.isArray(parent)) {
        const i = arrayIndex(last, parent.length, op.op === 'add', fail);
        if (op.op === 'add') parent.splice(i, 0, value);
        else parent[i] = value;
      } else {
        if (op.op === 'replace' && (!Object.hasOwn(parent, last) || parent[last] === undefined)) {
          fail(`missing path "${op.path}"`);
        }
        parent[last] = value;
      }
      return root;
    }
    case 'remove': {
      if (segments.length === 0) fail('cannot remove the whole document');
      const last = segments[segments.length - 1] as string;
      const parent = resolveParent(root, segments.slice(0, -1), fail);
      if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false, fail), 1);
      else {
        if (!Object.hasOwn(parent, last) || parent[last] === undefined)
          fail(`missing path "${op.path}"`);
        delete parent[last];
      }
      return root;
    }
    case 'move':
    case 'copy': {
      const value = structuredClone(getAt(root, op.from, fail));
      if (op.op === 'move') root = applyOne(root, { op: 'remove', path: op.from }, index);
      return applyOne(root, { op: 'add', path: op.path, value }, index);
    }
    case 'test': {
      const current = getAt(root, op.path, fail);
      if (JSON.stringify(current) !== JSON.stringify(op.value)) fail('test failed');
      return root;
    }
    case '_get':
      return root;
  }
}
