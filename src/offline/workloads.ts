/**
 * Finding the workloads of a manifest document (List items included) and reading or writing
 * their pod template. Dispatch is on `kind` only (spec §10.3); the apiVersion is kept as is.
 */
import { InjectorError } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import type { Pod } from '../core/k8s.js';
import type { WorkloadRef } from './manifest.js';

/** Where a kind keeps the pod metadata and pod spec, relative to the object. */
interface TemplateLocation {
  metadata: readonly string[];
  spec: readonly string[];
}

const TEMPLATE: TemplateLocation = {
  metadata: ['spec', 'template', 'metadata'],
  spec: ['spec', 'template', 'spec'],
};

/**
 * Pod template location per kind. CronJob metadata is the Job template's metadata, not the pod
 * template's: kube-inject reads and writes labels and annotations there (golden cronjob.yaml.injected).
 */
const LOCATIONS: Readonly<Record<string, TemplateLocation>> = {
  Pod: { metadata: ['metadata'], spec: ['spec'] },
  Deployment: TEMPLATE,
  DaemonSet: TEMPLATE,
  ReplicaSet: TEMPLATE,
  StatefulSet: TEMPLATE,
  Job: TEMPLATE,
  ReplicationController: TEMPLATE,
  DeploymentConfig: TEMPLATE,
  CronJob: {
    metadata: ['spec', 'jobTemplate', 'metadata'],
    spec: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  },
};

export interface Workload {
  ref: WorkloadRef;
  /** Path of the object in its document. */
  path: readonly (string | number)[];
  location: TemplateLocation;
  /** Dotted path of the pod spec, for messages (`spec.template.spec`). */
  templatePath: string;
}

/** Kinds whose pod template the offline commands inject. */
export const WORKLOAD_KINDS: readonly string[] = Object.keys(LOCATIONS);

/** Every workload in `value` (itself, or List items recursively), in document order. */
export function findWorkloads(value: JsonObject, where: string): Workload[] {
  const found: Workload[] = [];
  collect(value, [], where, found);
  return found;
}

function collect(
  value: JsonObject,
  path: (string | number)[],
  where: string,
  found: Workload[],
): void {
  const kind = typeof value.kind === 'string' ? value.kind : '';
  if (kind === 'List') {
    const items = value.items;
    if (items === undefined || items === null) return;
    if (!Array.isArray(items)) {
      throw invalid(where, path, 'items', 'a List must have an array of items');
    }
    items.forEach((item, i) => {
      if (isJsonObject(item)) collect(item, [...path, 'items', i], where, found);
    });
    return;
  }
  const location = LOCATIONS[kind];
  if (location === undefined) return;
  const metadata = isJsonObject(value.metadata) ? value.metadata : {};
  const ref: WorkloadRef = {
    kind,
    apiVersion: typeof value.apiVersion === 'string' ? value.apiVersion : '',
    name: typeof metadata.name === 'string' ? metadata.name : '',
    namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '',
  };
  // Only the pod itself may lack a template; for the others an absent template is an error
  // (kube-inject says `spec.template is required value` for ReplicationController and DeploymentConfig).
  const parentOfSpec = location.spec.slice(0, -1);
  if (parentOfSpec.length > 0 && !isJsonObject(getIn(value, parentOfSpec))) {
    throw invalid(where, path, parentOfSpec.join('.'), `a ${kind} needs a pod template`);
  }
  for (const p of [location.metadata, location.spec]) {
    const v = getIn(value, p);
    if (v !== undefined && v !== null && !isJsonObject(v)) {
      throw invalid(where, path, p.join('.'), 'must be an object');
    }
  }
  found.push({ ref, path, location, templatePath: location.spec.slice(0, -1).join('.') });
}

/** The pod to inject: a copy of the template's metadata and spec. */
export function readTemplate(object: JsonObject, workload: Workload, _where: string): Pod {
  const metadata = getIn(object, workload.location.metadata);
  const spec = getIn(object, workload.location.spec);
  const pod: JsonObject = {};
  if (isJsonObject(metadata)) pod.metadata = structuredClone(metadata);
  if (isJsonObject(spec)) pod.spec = structuredClone(spec);
  if (workload.ref.kind === 'Pod') {
    for (const key of ['apiVersion', 'kind'] as const) {
      const v = object[key];
      if (v !== undefined) pod[key] = v;
    }
  }
  return pod;
}

/** Writes the injected pod's metadata and spec back into the object, in place. */
export function writeTemplate(object: JsonObject, workload: Workload, pod: Pod): void {
  setIn(object, workload.location.metadata, pod.metadata ?? {});
  setIn(object, workload.location.spec, pod.spec ?? {});
}

function getIn(root: JsonObject, path: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = root;
  for (const key of path) {
    if (!isJsonObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

function setIn(root: JsonObject, path: readonly string[], value: JsonObject): void {
  let current = root;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (isJsonObject(next)) current = next;
    else {
      const created: JsonObject = {};
      current[key] = created;
      current = created;
    }
  }
  const last = path[path.length - 1];
  if (last !== undefined) current[last] = value;
}

function invalid(
  where: string,
  path: readonly (string | number)[],
  field: string,
  reason: string,
): InjectorError {
  const prefix = path
    .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
    .join('')
    .replace(/^\./, '');
  const full = prefix === '' ? field : `${prefix}.${field}`;
  return new InjectorError('INJ_ERR_MANIFEST_INVALID', `${where}: ${full}: ${reason}`, {
    details: [{ field: full, reason }],
  });
}
