/**
 * The JSON types of the pod fields the injector reads, checked before deciding or injecting.
 *
 * A real API server only sends pods it has decoded into its typed structs, so this never fires
 * there; it turns hand-written or generated input (offline manifests, direct calls) that has, say,
 * a label with a number value or `ownerReferences` as a map into one INJ_ERR_INVALID_POD error
 * listing every wrong field with its value, instead of an internal error deep in the pipeline.
 */
import { InjectorError, type ErrorDetail } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

type Kind = 'string' | 'number' | 'boolean' | 'object' | 'string-map' | 'string-list';

/** Field -> expected kind; list-valued fields are described by `LISTS` below. */
type Shape = Readonly<Record<string, Kind>>;

const OWNER_REFERENCE: Shape = {
  apiVersion: 'string',
  kind: 'string',
  name: 'string',
  uid: 'string',
  controller: 'boolean',
};

const METADATA: Shape = {
  name: 'string',
  generateName: 'string',
  namespace: 'string',
  labels: 'string-map',
  annotations: 'string-map',
};

const CONTAINER: Shape = {
  name: 'string',
  image: 'string',
  imagePullPolicy: 'string',
  args: 'string-list',
  command: 'string-list',
  resources: 'object',
  securityContext: 'object',
  readinessProbe: 'object',
  livenessProbe: 'object',
  startupProbe: 'object',
  lifecycle: 'object',
  restartPolicy: 'string',
};

const PORT: Shape = {
  name: 'string',
  containerPort: 'number',
  hostPort: 'number',
  protocol: 'string',
  hostIP: 'string',
};

const ENV_VAR: Shape = { name: 'string', value: 'string', valueFrom: 'object' };
const NAMED: Shape = { name: 'string' };
const MOUNT: Shape = { name: 'string', mountPath: 'string' };

const SPEC: Shape = {
  hostNetwork: 'boolean',
  nodeName: 'string',
  serviceAccountName: 'string',
  dnsPolicy: 'string',
  securityContext: 'object',
};

/** `path.key`, or just `key` at the root of an unnamed pod. */
function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function kindOf(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value).slice(0, 40)}`;
}

const EXPECTED: Readonly<Record<Kind, string>> = {
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  object: 'an object',
  'string-map': 'a map of strings',
  'string-list': 'a list of strings',
};

class ShapeCheck {
  readonly problems: ErrorDetail[] = [];

  fields(object: JsonObject, shape: Shape, path: string): void {
    for (const [key, kind] of Object.entries(shape)) {
      const value = object[key];
      // Absent fields are simply not set (Kubernetes `omitempty`). null is refused: the API
      // server never sends it (it encodes from typed structs), and a patch written under a null
      // parent would not apply.
      if (value === undefined || (value !== null && kindMatches(kind, value))) continue;
      if (kind === 'string-map' && isJsonObject(value)) {
        // Name the offending entries, not just the map.
        for (const [entry, v] of Object.entries(value)) {
          if (typeof v !== 'string') {
            this.wrong(`${join(path, key)}[${entry}]`, v ?? null, 'a string');
          }
        }
        continue;
      }
      this.wrong(join(path, key), value, EXPECTED[kind]);
    }
  }

  /** An optional list of objects, each checked against `shape` (and `each` for nested lists). */
  list(
    parent: JsonObject,
    key: string,
    path: string,
    shape: Shape,
    each?: (item: JsonObject, at: string) => void,
  ): void {
    const value = parent[key];
    if (value === undefined) return;
    if (!Array.isArray(value)) {
      this.wrong(join(path, key), value, 'a list');
      return;
    }
    value.forEach((item, index) => {
      const at = `${join(path, key)}[${index}]`;
      if (!isJsonObject(item)) {
        this.wrong(at, item, 'an object');
        return;
      }
      this.fields(item, shape, at);
      each?.(item, at);
    });
  }

  object(parent: JsonObject, key: string, path: string): JsonObject | undefined {
    const value = parent[key];
    if (value === undefined) return undefined;
    if (isJsonObject(value)) return value;
    this.wrong(join(path, key), value, 'an object');
    return undefined;
  }

  private wrong(field: string, value: JsonValue, expected: string): void {
    this.problems.push({ field, value: kindOf(value), reason: `expected ${expected}` });
  }
}

function checkContainer(check: ShapeCheck, container: JsonObject, at: string): void {
  if (typeof container['name'] !== 'string') {
    check.problems.push({ field: `${at}.name`, reason: 'a container needs a name' });
  }
  check.list(container, 'ports', at, PORT);
  check.list(container, 'env', at, ENV_VAR);
  check.list(container, 'volumeMounts', at, MOUNT);
}

/**
 * Every field of `pod` the injector reads that has the wrong JSON type, as one error, or
 * undefined when the pod is well-formed. `path` names the pod in messages (`request.object`), or
 * is empty when the caller prefixes the fields itself.
 */
export function checkPodShape(pod: unknown, path: string): InjectorError | undefined {
  // The well-formed pod (every pod the API server sends) is recognised without allocating; the
  // paths and the list of problems are built only once something is wrong.
  if (podShapeIsValid(pod)) return undefined;
  const problems = podShapeProblems(pod, path);
  if (problems.length === 0) return undefined;
  const text = problems
    .map((p) => `${p.field}: ${p.reason}${p.value === undefined ? '' : `, got ${p.value}`}`)
    .join('; ');
  return new InjectorError('INJ_ERR_INVALID_POD', `the pod is malformed: ${text}`, {
    details: problems,
  });
}

/** Every wrongly typed field of `pod`, with its path (empty for a well-formed pod). */
export function podShapeProblems(pod: unknown, path: string): ErrorDetail[] {
  const check = new ShapeCheck();
  if (!isJsonObject(pod)) {
    check.problems.push({ field: path === '' ? '(pod)' : path, reason: 'expected a Pod object' });
  } else {
    const metadata = check.object(pod, 'metadata', path);
    if (metadata) {
      check.fields(metadata, METADATA, join(path, 'metadata'));
      check.list(metadata, 'ownerReferences', join(path, 'metadata'), OWNER_REFERENCE);
    }
    const spec = check.object(pod, 'spec', path);
    if (spec) {
      const at = join(path, 'spec');
      check.fields(spec, SPEC, at);
      check.list(spec, 'containers', at, CONTAINER, (c, cAt) => checkContainer(check, c, cAt));
      check.list(spec, 'initContainers', at, CONTAINER, (c, cAt) => checkContainer(check, c, cAt));
      check.list(spec, 'volumes', at, NAMED);
      check.list(spec, 'imagePullSecrets', at, NAMED);
    }
  }
  return check.problems;
}

/**
 * What injection needs beyond well-typed fields: a spec with at least one container (the API
 * server refuses a pod without, and a sidecar alone is not the user's pod). Checked only when the
 * pod is about to be injected, so skipped pods keep their answer.
 */
export function checkInjectable(pod: JsonObject, path: string): InjectorError | undefined {
  const containers = isJsonObject(pod['spec']) ? pod['spec']['containers'] : undefined;
  if (Array.isArray(containers) && containers.length > 0) return undefined;
  const field = join(path, isJsonObject(pod['spec']) ? 'spec.containers' : 'spec');
  return new InjectorError(
    'INJ_ERR_INVALID_POD',
    `the pod is malformed: ${field}: a Pod needs at least one container to be injected`,
    { details: [{ field, reason: 'a Pod needs at least one container' }] },
  );
}

/** A shape as parallel arrays, walked without `Object.entries`. */
interface FastShape {
  readonly keys: readonly string[];
  readonly kinds: readonly Kind[];
}

function fast(shape: Shape): FastShape {
  return { keys: Object.keys(shape), kinds: Object.values(shape) };
}

const FAST_METADATA = fast(METADATA);
const FAST_OWNER_REFERENCE = fast(OWNER_REFERENCE);
const FAST_SPEC = fast(SPEC);
const FAST_CONTAINER = fast(CONTAINER);
const FAST_NAMED = fast(NAMED);

function allStrings(map: JsonObject): boolean {
  // Own keys only (hasOwn below); Object.values would allocate an array per map.
  // eslint-disable-next-line no-restricted-syntax
  for (const key in map) {
    if (Object.hasOwn(map, key) && typeof map[key] !== 'string') return false;
  }
  return true;
}

function kindMatches(kind: Kind, value: JsonValue): boolean {
  switch (kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === kind;
    case 'object':
      return isJsonObject(value);
    case 'string-map':
      return isJsonObject(value) && allStrings(value);
    case 'string-list':
      if (!Array.isArray(value)) return false;
      for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
      return true;
  }
}

function fieldsValid(object: JsonObject, shape: FastShape): boolean {
  const { keys, kinds } = shape;
  for (let i = 0; i < keys.length; i++) {
    const value = object[keys[i] as string];
    if (value === undefined) continue;
    if (value === null || !kindMatches(kinds[i] as Kind, value)) return false;
  }
  return true;
}

function listValid(
  parent: JsonObject,
  key: string,
  shape: FastShape,
  each?: (item: JsonObject) => boolean,
): boolean {
  const value = parent[key];
  if (value === undefined) return true;
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (!isJsonObject(item) || !fieldsValid(item, shape)) return false;
    if (each !== undefined && !each(item)) return false;
  }
  return true;
}

/** Optional string / number / object: absent, or of that JSON type (never null). */
function optString(value: JsonValue | undefined): boolean {
  return value === undefined || typeof value === 'string';
}

function optNumber(value: JsonValue | undefined): boolean {
  return value === undefined || typeof value === 'number';
}

/**
 * The lists a pod can hold thousands of (env vars, ports, mounts) with their fields spelled out:
 * a constant property name per check keeps V8's lookups monomorphic (the generic walk over a
 * shape's keys costs ~3x more per entry on a 2 000-var container).
 */
function envValid(e: JsonObject): boolean {
  const from = e['valueFrom'];
  return (
    optString(e['name']) && optString(e['value']) && (from === undefined || isJsonObject(from))
  );
}

function portValid(p: JsonObject): boolean {
  return (
    optString(p['name']) &&
    optNumber(p['containerPort']) &&
    optNumber(p['hostPort']) &&
    optString(p['protocol']) &&
    optString(p['hostIP'])
  );
}

function mountValid(m: JsonObject): boolean {
  return optString(m['name']) && optString(m['mountPath']);
}

/** Absent, or a list of maps each passing `itemValid`. */
function everyItemValid(
  value: JsonValue | undefined,
  itemValid: (item: JsonObject) => boolean,
): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (!isJsonObject(item) || !itemValid(item)) return false;
  }
  return true;
}

const envListValid = (value: JsonValue | undefined): boolean => everyItemValid(value, envValid);
const portListValid = (value: JsonValue | undefined): boolean => everyItemValid(value, portValid);
const mountListValid = (value: JsonValue | undefined): boolean => everyItemValid(value, mountValid);

function containerValid(container: JsonObject): boolean {
  return (
    typeof container['name'] === 'string' &&
    portListValid(container['ports']) &&
    envListValid(container['env']) &&
    mountListValid(container['volumeMounts'])
  );
}

/**
 * True exactly when `ShapeCheck` finds no problem in `pod` (the same fields, the same rules;
 * test/unit/core/pod-shape.test.ts checks the two agree on generated pods).
 */
export function podShapeIsValid(pod: unknown): boolean {
  if (!isJsonObject(pod)) return false;
  const metadata = pod['metadata'];
  if (metadata !== undefined) {
    if (!isJsonObject(metadata) || !fieldsValid(metadata, FAST_METADATA)) return false;
    if (!listValid(metadata, 'ownerReferences', FAST_OWNER_REFERENCE)) return false;
  }
  const spec = pod['spec'];
  if (spec === undefined) return true;
  return (
    isJsonObject(spec) &&
    fieldsValid(spec, FAST_SPEC) &&
    listValid(spec, 'containers', FAST_CONTAINER, containerValid) &&
    listValid(spec, 'initContainers', FAST_CONTAINER, containerValid) &&
    listValid(spec, 'volumes', FAST_NAMED) &&
    listValid(spec, 'imagePullSecrets', FAST_NAMED)
  );
}
