/**
 * Offline injection of a manifest stream (`istioctl kube-inject` semantics, spec §10): every
 * workload's pod template is handed to an injector, written back in place, and everything else
 * is left as it was. Pure: the caller passes the text in and writes the result out.
 */
import { isDeepStrictEqual } from 'node:util';
import { InjectorError, isInjectorError, type ErrorDetail } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import type { Pod } from '../core/pod-types.js';
import { isProxyConfigDocument } from '../core/proxy-config-resources.js';
import { splitDocuments, type ManifestDocument } from './documents.js';
import { setPodTemplate, type WorkloadIdentity } from '../core/pod-template.js';
import {
  findWorkloads,
  formatPath,
  objectField,
  readTemplate,
  type Workload,
} from './find-workloads.js';

/** Identity of a workload object (kind, apiVersion, name, namespace as written; namespace may be empty). */
export type WorkloadRef = WorkloadIdentity;

export type InjectOutcome =
  { injected: true; pod: Pod; warnings: readonly string[] } | { injected: false; reason: string };

/** Injects one pod template. Throws InjectorError on invalid input (annotations, templates, ...). */
export type PodInjector = (pod: Pod, workload: WorkloadRef) => InjectOutcome;

export interface ObjectResult {
  /** Where the object is, for messages: `document 2` or `document 2, items[0]`. */
  location: string;
  ref: WorkloadRef;
  /** Path of the object inside its document (`[]`, or `['items', 0]` for a List item). */
  path: readonly (string | number)[];
  before: JsonObject;
  after: JsonObject;
  /** Set when the injector declined (host network, opt-out); `after` then equals `before`. */
  skipped?: string;
}

export interface DocumentResult {
  document: ManifestDocument;
  /** The document after injection (the same value when nothing changed). */
  value: JsonValue;
  objects: ObjectResult[];
  changed: boolean;
  /**
   * A ProxyConfig resource: `inject` applies it to the pods (src/config-sources/proxy-configs.ts)
   * and leaves it out of the output, as it configures the injection rather than the cluster.
   */
  consumed?: true;
}

export interface ManifestResult {
  source: string;
  documents: DocumentResult[];
  /** Messages for stderr: skipped workloads and injector warnings, each naming its object. */
  warnings: string[];
}

/** Injects every workload of `text`; `source` names the input in messages. */
export function injectManifest(
  text: string,
  source: string,
  injector: PodInjector,
): ManifestResult {
  const warnings: string[] = [];
  const documents = splitDocuments(text, source).map((document) =>
    injectDocument(document, source, injector, warnings),
  );
  return { source, documents, warnings };
}

function injectDocument(
  document: ManifestDocument,
  source: string,
  injector: PodInjector,
  warnings: string[],
): DocumentResult {
  const { value } = document;
  if (!isJsonObject(value)) return { document, value, objects: [], changed: false };
  if (isProxyConfigDocument(value)) {
    return { document, value, objects: [], changed: false, consumed: true };
  }
  const where = `document ${document.index}`;
  const workloads = findWorkloads(value, `${source}: ${where}`);
  if (workloads.length === 0) return { document, value, objects: [], changed: false };

  let root: JsonObject = value;
  const objects: ObjectResult[] = [];
  for (const workload of workloads) {
    const location = workload.path.length === 0 ? where : `${where}, ${formatPath(workload.path)}`;
    const result = injectObject(
      objectAt(root, workload.path),
      workload,
      `${source}: ${location}`,
      injector,
      warnings,
    );
    objects.push({ ...result, location, path: workload.path });
    if (result.skipped === undefined) root = replaceAt(root, workload.path, result.after);
  }
  // An already injected manifest comes back equal: keep its text rather than re-serialise it.
  const changed = !isDeepStrictEqual(root, value);
  return { document, value: changed ? root : value, objects, changed };
}

function injectObject(
  object: JsonObject,
  workload: Workload,
  where: string,
  injector: PodInjector,
  warnings: string[],
): Omit<ObjectResult, 'location' | 'path'> {
  const ref = workload.ref;
  const label = `${ref.kind} "${ref.namespace === '' ? '' : `${ref.namespace}/`}${ref.name}"`;
  const pod = readTemplate(object, workload, where);
  let outcome: InjectOutcome;
  try {
    outcome = injector(pod, ref);
  } catch (error) {
    throw withLocation(error, `${where} (${label})`, ref.kind);
  }
  if (!outcome.injected) {
    warnings.push(`${where}: skipping ${label}: ${outcome.reason}`);
    return { ref, before: object, after: object, skipped: outcome.reason };
  }
  for (const warning of outcome.warnings) warnings.push(`${where} (${label}): ${warning}`);
  return { ref, before: object, after: setPodTemplate(object, outcome.pod) };
}

/** Re-raises an injection error with the file, document, object and template path prefixed. */
function withLocation(error: unknown, where: string, kind: string): InjectorError {
  if (isInjectorError(error)) {
    const details: ErrorDetail[] = error.details.map((d) => ({
      ...d,
      field: objectField(kind, d.field),
    }));
    const fields = details.length === 0 ? '' : ` [${details.map((d) => d.field).join(', ')}]`;
    return new InjectorError(error.code, `${where}${fields}: ${error.message}`, {
      details,
      cause: error,
    });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new InjectorError('INJ_ERR_INTERNAL', `${where}: ${text}`, { cause: error });
}

/** The object at `path` inside a document (List items). */
export function objectAt(root: JsonObject, path: readonly (string | number)[]): JsonObject {
  let current: JsonValue | undefined = root;
  for (const segment of path) {
    current = Array.isArray(current)
      ? current[Number(segment)]
      : isJsonObject(current)
        ? current[String(segment)]
        : undefined;
  }
  if (!isJsonObject(current)) throw new Error(`no object at ${formatPath(path)}`);
  return current;
}

/** A copy of `root` with the object at `path` replaced (copy-on-write along the path). */
function replaceAt(
  root: JsonObject,
  path: readonly (string | number)[],
  value: JsonObject,
): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const child = Array.isArray(root) ? undefined : root[String(head)];
  if (typeof head === 'number' || !Array.isArray(child)) {
    throw new Error(`unexpected path segment ${String(head)}`);
  }
  const [index, ...deeper] = rest;
  if (typeof index !== 'number') throw new Error(`unexpected path segment ${String(index)}`);
  const items = [...child];
  items[index] = replaceAt(items[index] as JsonObject, deeper, value);
  return { ...root, [head]: items };
}
