/**
 * Where each workload kind keeps its pod template (the `istioctl kube-inject` kinds), with pure
 * get/set helpers. Kinds are matched on `kind` only; the apiVersion is preserved as is.
 *
 * | kind | metadata | spec |
 * | Pod | metadata | spec |
 * | Deployment, DaemonSet, ReplicaSet, StatefulSet, Job, ReplicationController, DeploymentConfig | spec.template.metadata | spec.template.spec |
 * | CronJob | spec.jobTemplate.metadata (the Job's, not the pod template's) | spec.jobTemplate.spec.template.spec |
 * | List | each item, recursively | |
 */
import { InjectorError } from '../errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { isJsonObject } from './json.js';
import type { Pod } from './pod-types.js';

export const TEMPLATE_KINDS = [
  'Deployment',
  'DaemonSet',
  'ReplicaSet',
  'StatefulSet',
  'Job',
  'ReplicationController',
  'DeploymentConfig',
] as const;

export const WORKLOAD_KINDS = ['Pod', 'CronJob', ...TEMPLATE_KINDS] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** Identity of the object that owns a pod template (kube-inject's deployment and type meta). */
export interface WorkloadIdentity {
  kind: string;
  apiVersion: string;
  name: string;
  namespace: string;
}

export function isWorkload(doc: JsonValue | undefined): doc is JsonObject & { kind: WorkloadKind } {
  return isJsonObject(doc) && (WORKLOAD_KINDS as readonly JsonValue[]).includes(doc.kind ?? null);
}

export function isList(doc: JsonValue | undefined): doc is JsonObject & { items?: JsonValue[] } {
  return isJsonObject(doc) && doc.kind === 'List';
}

function obj(value: JsonValue | undefined): JsonObject | undefined {
  return isJsonObject(value) ? value : undefined;
}

function str(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

export function workloadIdentity(doc: JsonObject): WorkloadIdentity {
  const meta = obj(doc.metadata);
  return {
    kind: str(doc.kind),
    apiVersion: str(doc.apiVersion),
    name: str(meta?.name),
    namespace: str(meta?.namespace),
  };
}

/** The object holding `metadata` and (at `specPath`) the pod spec, for a workload kind. */
function templateParts(doc: JsonObject): {
  metaHolder: JsonObject | undefined;
  specHolder: JsonObject | undefined;
} {
  const kind = doc.kind;
  if (kind === 'Pod') return { metaHolder: doc, specHolder: doc };
  const spec = obj(doc.spec);
  if (kind === 'CronJob') {
    const jobTemplate = obj(spec?.jobTemplate);
    return { metaHolder: jobTemplate, specHolder: obj(obj(jobTemplate?.spec)?.template) };
  }
  const template = obj(spec?.template);
  return { metaHolder: template, specHolder: template };
}

/**
 * The pod template of a workload as a Pod-shaped object `{metadata, spec}` (a shallow view; copy
 * before mutating). Throws INJ_ERR_MANIFEST_INVALID when the template is missing.
 */
export function getPodTemplate(doc: JsonObject): Pod {
  const { metaHolder, specHolder } = templateParts(doc);
  if (!specHolder || !metaHolder) {
    const where = doc.kind === 'CronJob' ? 'spec.jobTemplate.spec.template' : 'spec.template';
    const name = str(obj(doc.metadata)?.name);
    throw new InjectorError(
      'INJ_ERR_MANIFEST_INVALID',
      `${str(doc.kind)} "${name}": ${where} is required value`,
      { details: [{ field: where, reason: 'required value' }] },
    );
  }
  const pod: Pod = {};
  const metadata = obj(metaHolder.metadata);
  const spec = obj(specHolder.spec);
  if (metadata) pod.metadata = metadata;
  if (spec) pod.spec = spec;
  return pod;
}

/** Returns a copy of `doc` whose pod template metadata and spec are those of `pod`. */
export function setPodTemplate(doc: JsonObject, pod: Pod): JsonObject {
  const setBoth = (holder: JsonObject): JsonObject => {
    const out: JsonObject = { ...holder };
    if (pod.metadata === undefined) delete out.metadata;
    else out.metadata = pod.metadata;
    if (pod.spec === undefined) delete out.spec;
    else out.spec = pod.spec;
    return out;
  };
  if (doc.kind === 'Pod') return setBoth(doc);
  const spec = obj(doc.spec) ?? {};
  if (doc.kind === 'CronJob') {
    const jobTemplate = obj(spec.jobTemplate) ?? {};
    const jobSpec = obj(jobTemplate.spec) ?? {};
    const template = obj(jobSpec.template) ?? {};
    const newTemplate: JsonObject = { ...template };
    if (pod.spec === undefined) delete newTemplate.spec;
    else newTemplate.spec = pod.spec;
    const newJobTemplate: JsonObject = {
      ...jobTemplate,
      spec: { ...jobSpec, template: newTemplate },
    };
    if (pod.metadata === undefined) delete newJobTemplate.metadata;
    else newJobTemplate.metadata = pod.metadata;
    return { ...doc, spec: { ...spec, jobTemplate: newJobTemplate } };
  }
  return { ...doc, spec: { ...spec, template: setBoth(obj(spec.template) ?? {}) } };
}

/**
 * Applies `fn` to every workload of a document, recursing into `List` items; other kinds are
 * returned unchanged (same object).
 */
export function mapWorkloads(
  doc: JsonValue,
  fn: (workload: JsonObject & { kind: WorkloadKind }) => JsonObject,
): JsonValue {
  if (isWorkload(doc)) return fn(doc);
  if (isList(doc) && Array.isArray(doc.items)) {
    return { ...doc, items: doc.items.map((item) => mapWorkloads(item, fn)) };
  }
  return doc;
}

/** Every workload of a document in order, `List` items expanded recursively. */
export function listWorkloads(doc: JsonValue): (JsonObject & { kind: WorkloadKind })[] {
  if (isWorkload(doc)) return [doc];
  if (isList(doc) && Array.isArray(doc.items))
    return doc.items.flatMap((item) => listWorkloads(item));
  return [];
}
