/**
 * Finding the workloads of a manifest document (List items included, with their paths for
 * messages and patches) and reading their pod template through src/core/pod-template.ts, the same
 * kind table the pipeline uses (spec §10.3: dispatch on `kind` only, apiVersion kept).
 */
import { InjectorError, isInjectorError } from '../errors.js';
import { isJsonObject, type JsonObject } from '../core/json.js';
import type { Pod } from '../core/pod-types.js';
import {
  getPodTemplate,
  isList,
  isWorkload,
  workloadIdentity,
  type WorkloadIdentity,
} from '../core/pod-template.js';

export interface Workload {
  ref: WorkloadIdentity;
  /** Path of the object in its document (`[]`, or `['items', 0]` for a List item). */
  path: readonly (string | number)[];
}

/** Where a pod field (`metadata.x`, `spec.x`) lives in the object, for messages. */
function fieldPrefixes(kind: string): { metadata: string; spec: string } {
  if (kind === 'Pod') return { metadata: '', spec: '' };
  if (kind === 'CronJob')
    return { metadata: 'spec.jobTemplate.', spec: 'spec.jobTemplate.spec.template.' };
  return { metadata: 'spec.template.', spec: 'spec.template.' };
}

/** A pod field path (`metadata.annotations[x]`) as a path in the workload object. */
export function objectField(kind: string, podField: string): string {
  const prefixes = fieldPrefixes(kind);
  return `${podField.startsWith('spec') ? prefixes.spec : prefixes.metadata}${podField}`;
}

/** Every workload in `value` (itself, or List items recursively), in document order. */
export function findWorkloads(value: JsonObject, where: string): Workload[] {
  const found: Workload[] = [];
  const visit = (object: JsonObject, path: (string | number)[]): void => {
    if (isList(object)) {
      const items = object.items as unknown;
      if (items === undefined || items === null) return;
      if (!Array.isArray(items))
        throw invalid(where, path, 'items', 'a List must have an array of items');
      items.forEach((item, i) => {
        if (isJsonObject(item)) visit(item, [...path, 'items', i]);
      });
    } else if (isWorkload(object)) {
      found.push({ ref: workloadIdentity(object), path });
    }
  };
  visit(value, []);
  return found;
}

/** A copy of the workload's pod template as a Pod; INJ_ERR_MANIFEST_INVALID when it has none. */
export function readTemplate(object: JsonObject, workload: Workload, where: string): Pod {
  let template: Pod;
  try {
    template = getPodTemplate(object);
  } catch (error) {
    if (!isInjectorError(error)) throw error;
    const field = error.details[0]?.field ?? 'spec';
    throw invalid(where, workload.path, field, 'required value', error);
  }
  if (!isJsonObject(template.spec)) {
    const field = objectField(workload.ref.kind, 'spec');
    throw invalid(where, workload.path, field, 'the pod spec is missing or not an object');
  }
  const pod = structuredClone(template);
  if (workload.ref.kind === 'Pod') {
    if (typeof object.apiVersion === 'string') pod.apiVersion = object.apiVersion;
    pod.kind = 'Pod';
  }
  return pod;
}

/** `['items', 0, 'items', 2]` + `spec.template` -> `items[0].items[2].spec.template`. */
export function formatPath(path: readonly (string | number)[], field = ''): string {
  const base = path
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
  if (base === '') return field;
  return field === '' ? base : `${base}.${field}`;
}

function invalid(
  where: string,
  path: readonly (string | number)[],
  field: string,
  reason: string,
  cause?: unknown,
): InjectorError {
  const full = formatPath(path, field);
  return new InjectorError('INJ_ERR_MANIFEST_INVALID', `${where}: ${full}: ${reason}`, {
    details: [{ field: full, reason }],
    ...(cause === undefined ? {} : { cause }),
  });
}
