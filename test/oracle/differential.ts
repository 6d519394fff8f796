/**
 * One differential check: a generated case turned into the texts both implementations read,
 * answered by our engine (in process, through the same core calls as the conformance harness and
 * the server) and by Istio's (the oracle process), compared after the normalisations listed in
 * docs/conformance.md ("Differential testing against Istio's injector").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadInjectionConfig } from '../../src/core/config/load.js';
import type { InjectionConfig } from '../../src/core/config/types.js';
import type { ClusterFacts } from '../../src/core/contracts.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';
import type { Pod } from '../../src/core/pod-types.js';
import { applyPatchStrict } from '../../src/core/patch/apply-strict.js';
import { parsePathParams } from '../../src/core/path-params.js';
import { reviewAdmission } from '../../src/core/review.js';
import {
  firstDifference,
  kubeInjectWith,
  normalise,
  objectToPod,
  parseDocuments,
} from '../conformance/harness.js';
import { splitDocuments } from '../../src/offline/documents.js';
import { SHARED_DIR } from '../helpers/shared.js';
import type { OracleCase, Workload } from './generate.js';
import type { OracleAnswer, OracleProcess } from './process.js';

export interface BaseTexts {
  config: string;
  values: string;
  mesh: string;
}

/** The Helm-rendered ConfigMap data of a release (../shared/conformance/istio-configmaps/<dir>). */
export function readBaseTexts(configmapsDir: string): BaseTexts {
  const dir = join(SHARED_DIR, 'conformance', 'istio-configmaps', configmapsDir);
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return { config: read('config'), values: read('values'), mesh: read('mesh') };
}

function deepMerge(base: JsonValue | undefined, over: JsonValue): JsonValue {
  if (!isJsonObject(base) || !isJsonObject(over)) return structuredClone(over);
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) if (v !== undefined) out[k] = deepMerge(base[k], v);
  return out;
}

/** The configuration texts of a case: its variations written into the release's ConfigMaps. */
export interface CaseTexts extends BaseTexts {
  /** kube-inject: the manifest; webhook: the pod as JSON. */
  input: string;
}

const textCache = new Map<string, BaseTexts>();

/** The top-level sections of a `config` text, split once: a case replaces a few small ones. */
const sectionCache = new Map<string, { key: string; text: string }[]>();

function configSections(text: string): { key: string; text: string }[] {
  const hit = sectionCache.get(text);
  if (hit) return hit;
  const sections: { key: string; text: string }[] = [];
  for (const line of text.split('\n')) {
    const top = /^([A-Za-z][\w-]*):/.exec(line);
    const last = sections[sections.length - 1];
    if (top?.[1] !== undefined || last === undefined)
      sections.push({ key: top?.[1] ?? '', text: `${line}\n` });
    else last.text += `${line}\n`;
  }
  sectionCache.set(text, sections);
  return sections;
}

export function configTexts(base: BaseTexts, c: OracleCase): BaseTexts {
  const key = JSON.stringify([
    c.settings.values,
    c.settings.mesh,
    c.settings.config,
    c.settings.nullInjectedAnnotations,
  ]);
  const hit = textCache.get(key);
  if (hit) return hit;
  const overrides: JsonObject = { ...c.settings.config };
  if (!c.settings.nullInjectedAnnotations && !Object.hasOwn(overrides, 'injectedAnnotations'))
    overrides.injectedAnnotations = {};
  // The templates stay byte for byte; only the keys a case sets are rewritten.
  const config = configSections(base.config)
    .map((s) => {
      const v = Object.hasOwn(overrides, s.key) ? overrides[s.key] : undefined;
      return v === undefined ? s.text : stringifyYaml({ [s.key]: v });
    })
    .join('');
  const values = deepMerge(JSON.parse(base.values) as JsonValue, c.settings.values);
  const mesh = deepMerge((parseYaml(base.mesh) as JsonValue) ?? {}, c.settings.mesh);
  const texts = { config, values: JSON.stringify(values), mesh: stringifyYaml(mesh) };
  if (textCache.size > 256) textCache.clear();
  textCache.set(key, texts);
  return texts;
}

const API_VERSIONS: Record<Workload['kind'], string> = {
  Pod: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
};

/** The workload document of a case (a Pod, or a controller with the pod as its template). */
export function workloadDocument(w: Workload): JsonObject {
  const metadata: JsonObject = { name: w.name };
  if (w.namespace !== '') metadata.namespace = w.namespace;
  const base = { apiVersion: API_VERSIONS[w.kind], kind: w.kind, metadata };
  const tmpl = structuredClone(w.template);
  if (w.kind === 'Pod') {
    const podMeta = isJsonObject(tmpl.metadata) ? tmpl.metadata : {};
    return { ...base, metadata: { ...podMeta, ...metadata }, spec: tmpl.spec ?? {} };
  }
  const selector = { matchLabels: { workload: w.name } };
  const meta = isJsonObject(tmpl.metadata) ? tmpl.metadata : {};
  const labels = isJsonObject(meta.labels) ? meta.labels : {};
  const template = { ...tmpl, metadata: { ...meta, labels: { ...labels, workload: w.name } } };
  if (w.kind === 'CronJob')
    return { ...base, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template } } } };
  if (w.kind === 'Job') return { ...base, spec: { template } };
  return { ...base, spec: { selector, template } };
}

/** The kube-inject manifest of a case. */
export function manifestOf(c: OracleCase): string {
  const doc = workloadDocument(c.workload);
  const docs: JsonValue[] = [];
  if (c.extraDocument)
    docs.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc' },
      spec: { ports: [{ port: 80, name: 'http' }] },
    });
  docs.push(c.asList ? { apiVersion: 'v1', kind: 'List', items: [doc] } : doc);
  return docs.map((d) => stringifyYaml(d)).join('---\n');
}

/** The webhook request object of a case: the workload's pod as the API server would send it. */
export function podOf(c: OracleCase): Pod {
  return objectToPod(workloadDocument(c.workload));
}

// ----- our side --------------------------------------------------------------------------

const configCache = new Map<string, InjectionConfig | string>();

function ourConfig(texts: BaseTexts): InjectionConfig | string {
  const key = `${texts.config}\u0000${texts.values}\u0000${texts.mesh}`;
  const hit = configCache.get(key);
  if (hit !== undefined) return hit;
  const r = loadInjectionConfig({ config: texts.config, values: texts.values, mesh: texts.mesh });
  const value = r.ok
    ? r.config
    : `configuration refused: ${JSON.stringify(r.issues).slice(0, 300)}`;
  // Each parsed configuration holds its compiled templates: keep few.
  if (configCache.size > 16) configCache.clear();
  configCache.set(key, value);
  return value;
}

function clusterFactsFor(c: OracleCase, namespace: string): ClusterFacts {
  const facts: ClusterFacts = { nativeSidecars: c.settings.nativeSidecars };
  // Our kube-inject command hands the pipeline the native-sidecar decision only
  // (src/cli/inject.ts), as Istio's IntoResourceFile never reads a namespace or the platform.
  if (c.mode === 'kube-inject') return facts;
  if (c.settings.platform === 'openshift') {
    facts.openshift = true;
    const ns = c.namespaces.find((n) => n.name === namespace);
    if (ns) facts.namespaceAnnotations = { ...ns.annotations };
  }
  return facts;
}

/** A result as both sides are compared: the decision, the error, or the resulting objects. */
export interface Result {
  inject: boolean;
  error?: string;
  /** Webhook: the pod after the patch; kube-inject: the output documents. */
  output?: JsonValue;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Our answer; `object` is request.object exactly as Istio's webhook received it. */
export function ours(c: OracleCase, texts: BaseTexts, object?: Pod): Result {
  const config = ourConfig(texts);
  if (typeof config === 'string') return { inject: false, error: config };
  if (c.mode === 'kube-inject') {
    try {
      // Read as our `inject` command reads a manifest.
      const docs = splitDocuments(manifestOf(c), 'case')
        .map((d) => d.value)
        .filter((v) => v !== null);
      const out = docs.map((d) =>
        kubeInjectWith(d, config, (ns) => clusterFactsFor(c, ns || c.requestNamespace)),
      );
      return { inject: true, output: out };
    } catch (err) {
      return { inject: false, error: message(err) };
    }
  }
  const pod = object ?? podOf(c);
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'oracle',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: c.requestNamespace,
      object: pod,
    },
  };
  const result = reviewAdmission(review, {
    config,
    cluster: clusterFactsFor(c, pod.metadata?.namespace || c.requestNamespace),
    pathEnv: parsePathParams(c.path),
  });
  const response = result.response.response;
  if (!response.allowed) return { inject: false, error: response.status?.message ?? 'denied' };
  if (response.patch === undefined) return { inject: false, output: pod };
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as never;
  try {
    return { inject: true, output: applyPatchStrict(pod, ops) };
  } catch (err) {
    return { inject: true, error: `our patch does not apply: ${message(err)}` };
  }
}

// ----- Istio's side ----------------------------------------------------------------------

/** The cluster istiod runs in: the one the webhook path names, else the default. */
export function clusterIdOf(path: string): string {
  return parsePathParams(path).ISTIO_META_CLUSTER_ID ?? '';
}

/**
 * istiod's own cluster as a deployment names it (values `global.multiCluster.clusterName`, which
 * is istiod's CLUSTER_ID): Istio reads the namespace from the cluster the path or the values
 * name (inject.go extractClusterAndNetwork), so the case's namespaces live there.
 */
function valuesClusterName(valuesText: string): string {
  const values = JSON.parse(valuesText) as JsonValue;
  const global = isJsonObject(values) ? values.global : undefined;
  const multi = isJsonObject(global) ? global.multiCluster : undefined;
  const name = isJsonObject(multi) ? multi.clusterName : undefined;
  return typeof name === 'string' ? name : '';
}

export async function istio(
  oracle: OracleProcess,
  c: OracleCase,
  texts: BaseTexts,
  id: string,
): Promise<Result & { object?: Pod }> {
  const question: Record<string, unknown> = {
    id,
    mode: c.mode,
    configId: oracle.textId(texts.config),
    valuesId: oracle.textId(texts.values),
    meshId: oracle.textId(texts.mesh),
    nativeSidecars: c.settings.nativeSidecars,
    platform: c.settings.platform,
    namespaces: c.namespaces,
  };
  if (c.mode === 'kube-inject') {
    question.manifest = manifestOf(c);
  } else {
    question.pod = podOf(c);
    question.namespace = c.requestNamespace;
    question.path = c.path;
    question.clusterId = clusterIdOf(c.path) || valuesClusterName(texts.values);
    question.revision = 'default';
  }
  const a: OracleAnswer = await oracle.ask(question);
  const object = a.object as Pod | undefined;
  const withObject = object ? { object } : {};
  if (a.error) return { inject: false, error: a.error, ...withObject };
  if (a.patchError)
    return { inject: true, error: `Istio's patch does not apply: ${a.patchError}`, ...withObject };
  if (c.mode === 'kube-inject') return { inject: true, output: parseDocuments(a.manifest ?? '') };
  if (!a.inject) return { inject: false, output: object ?? podOf(c), ...withObject };
  return { inject: true, output: a.pod as JsonValue, ...withObject };
}

/**
 * Both results as the API server would hold them: each pod (or manifest) decoded into its typed
 * Go form and encoded again by the oracle, so that representation-only differences vanish.
 */
export async function canonicalise(
  oracle: OracleProcess,
  c: OracleCase,
  r: Result,
  id: string,
): Promise<Result> {
  if (r.error !== undefined || r.output === undefined) return r;
  if (c.mode === 'webhook') {
    const a = await oracle.canon({ id, pod: r.output });
    return a.error
      ? { ...r, error: `not a valid Pod: ${a.error}` }
      : { ...r, output: a.pod as JsonValue };
  }
  const docs = Array.isArray(r.output) ? r.output : [r.output];
  const manifest = docs.map((d) => stringifyYaml(d)).join('---\n');
  const a = await oracle.canon({ id, manifest });
  return a.error
    ? { ...r, error: `not valid objects: ${a.error}` }
    : { ...r, output: parseDocuments(a.manifest ?? '') };
}

// ----- comparison ------------------------------------------------------------------------

const STATUS = 'sidecar.istio.io/status';

/**
 * Normalisations beyond the harness's (Go typed-serialisation artefacts): the status annotation is
 * compared as parsed JSON; `fieldRef.apiVersion: v1` is dropped (the API server defaults it).
 */
function forComparison(value: JsonValue | undefined): JsonValue | undefined {
  if (value === undefined) return undefined;
  const copy = structuredClone(value);
  const visit = (v: JsonValue): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
      return;
    }
    if (!isJsonObject(v)) return;
    if (isJsonObject(v.fieldRef) && v.fieldRef.apiVersion === 'v1') delete v.fieldRef.apiVersion;
    if (isJsonObject(v.annotations) && typeof v.annotations[STATUS] === 'string') {
      try {
        v.annotations[STATUS] = JSON.parse(v.annotations[STATUS]) as JsonValue;
      } catch {
        // Not JSON: compared as text.
      }
    }
    for (const child of Object.values(v)) if (child !== undefined) visit(child);
  };
  visit(copy);
  return normalise(copy);
}

export interface Comparison {
  identical: boolean;
  /** What differs: `decision`, `error` (one side failed), or `output` (objects differ). */
  kind?: 'decision' | 'error' | 'output';
  /** First differing path of the output ('' for decision/error). */
  path?: string;
  ours?: JsonValue | string;
  istio?: JsonValue | string;
  /** Stable key of the difference: mode, kind and the path with indices generalised. */
  signature?: string;
}

/**
 * The class of an error text, so that a signature tells apart errors of different causes: the
 * refused configuration field, the annotation named, else the message with quoted values and
 * numbers generalised (cut short).
 */
export function errorClass(message: string): string {
  const field = /^configuration refused: \[\{"path":"([^"]*)"/.exec(message);
  if (field) return `config ${field[1] ?? ''}`;
  const annotation = /annotation '([^']+)'/.exec(message) ?? /annotation "([^"]+)"/.exec(message);
  if (annotation) return `annotation ${annotation[1] ?? ''}`;
  return message
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '…')
    .replace(/\d+/g, 'N')
    .replace(/\s+/g, ' ')
    .slice(0, 80)
    .trim();
}

export function compare(c: OracleCase, a: Result, b: Result): Comparison {
  // Indices generalised; kube-inject paths made pod-relative (the same difference shows in every
  // kind of workload and in Lists).
  const general = (path: string): string =>
    path
      .replace(/\[\d+\]/g, '[*]')
      .replace(/^(\[\*\])?(\.items\[\*\])?(\.spec\.jobTemplate)?(\.spec\.template)?/, '');
  const sig = (kind: string, path = ''): string =>
    `${c.mode} ${kind}${path ? ` ${general(path)}` : ''}`;
  if ((a.error !== undefined) !== (b.error !== undefined)) {
    return {
      identical: false,
      kind: 'error',
      ours: a.error ?? '<no error>',
      istio: b.error ?? '<no error>',
      signature: `${sig(a.error !== undefined ? 'error-only-ours' : 'error-only-istio')} (${errorClass(a.error ?? b.error ?? '')})`,
    };
  }
  if (a.error !== undefined) return { identical: true };
  if (c.mode === 'webhook' && a.inject !== b.inject) {
    return {
      identical: false,
      kind: 'decision',
      ours: a.inject ? 'inject' : 'skip',
      istio: b.inject ? 'inject' : 'skip',
      signature: sig(`decision-${a.inject ? 'inject' : 'skip'}-vs-${b.inject ? 'inject' : 'skip'}`),
    };
  }
  const d = firstDifference(forComparison(a.output), forComparison(b.output), '');
  if (!d) return { identical: true };
  return {
    identical: false,
    kind: 'output',
    path: d.path,
    ours: d.ours ?? '<absent>',
    istio: d.golden ?? '<absent>',
    signature: sig('output', d.path),
  };
}
