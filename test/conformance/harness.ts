/**
 * Conformance harness over Istio's injection test corpus (../shared/conformance/istio).
 *
 * For every case of cases.json: build the configuration the case describes (setFlags, IstioOperator
 * overlay, mesh override, setup), then check
 * - the kube-inject path: every workload document injected and compared with the golden document;
 * - the webhook path: each pod template sent as a Pod (owner simulation of cases.json
 *   `harness.webhookPath`), the patch applied with the strict applier, the result compared with
 *   the golden pod template (status annotation ignored);
 * - expectedError cases: injection must fail with an error containing the expected text.
 * Both sides are normalised for Go's typed serialisation before comparing (see the corpus README).
 */
import { parseAllDocuments } from 'yaml';
import type { ClusterFacts, InjectionInput } from '../../src/core/contracts.js';
import type { InjectionConfig } from '../../src/core/config/types.js';
import { deepFreeze } from '../../src/core/config/merge.js';
import { decide } from '../../src/core/decide.js';
import { inject } from '../../src/core/inject.js';
import type { JsonObject, JsonValue } from '../../src/core/json.js';
import { isJsonObject } from '../../src/core/json.js';
import type { Pod } from '../../src/core/pod-types.js';
import { applyPatchStrict } from '../../src/core/patch/apply-strict.js';
import { canonicalQuantityValue } from '../../src/core/quantity.js';
import {
  getPodTemplate,
  isList,
  isWorkload,
  listWorkloads,
  mapWorkloads,
  setPodTemplate,
  workloadIdentity,
} from '../../src/core/pod-template.js';
import {
  configFor,
  MASTER_CORPUS,
  readCasesFile,
  readCorpusFile,
  type Corpus,
  type CorpusCase,
} from '../helpers/corpus.js';
import type { LoadOptions } from '../../src/core/config/load.js';
import { validatePod } from '../helpers/pod-schema.js';

export type ConformanceCase = CorpusCase;

export interface Difference {
  path: string;
  ours: JsonValue | undefined;
  golden: JsonValue | undefined;
}

export interface CaseResult {
  testName: string;
  index: number;
  identical: boolean;
  /** One line per failing check: which path, and the first difference or the error. */
  failures: string[];
}

const OPENSHIFT_NAMESPACE = 'test-ns';
const OPENSHIFT_ANNOTATIONS = {
  'openshift.io/sa.scc.uid-range': '1000620000/10000',
  'openshift.io/sa.scc.supplemental-groups': '1000620000/10000',
};
const STATUS_ANNOTATION = 'sidecar.istio.io/status';

export function loadCases(corpus: Corpus = MASTER_CORPUS): ConformanceCase[] {
  return readCasesFile(corpus).cases;
}

/** TestInjectionOlderVersion: native sidecars off, the `*-old-version` goldens. */
export function loadOlderVersionCases(corpus: Corpus = MASTER_CORPUS): ConformanceCase[] {
  return readCasesFile(corpus).olderVersionCases.cases.map((c, index) => ({
    index,
    testName: `[older ${index}] ${c.want}`,
    in: c.in,
    want: c.want,
    setFlags: null,
    inFilePath: null,
    mesh: null,
    setup: null,
    skipWebhook: c.skipWebhook,
    skipInjection: false,
    expectedError: null,
    nativeSidecarsGlobal: false,
  }));
}

function clusterFor(c: ConformanceCase, namespace: string): ClusterFacts {
  const facts: ClusterFacts = { nativeSidecars: c.nativeSidecarsGlobal };
  if (c.setup?.COMPLIANCE_POLICY) facts.compliancePolicy = c.setup.COMPLIANCE_POLICY;
  if (c.setup?.PLATFORM === 'openshift') {
    facts.openshift = true;
    if (namespace === OPENSHIFT_NAMESPACE)
      facts.namespaceAnnotations = { ...OPENSHIFT_ANNOTATIONS };
  }
  return facts;
}

export function parseDocuments(text: string): JsonValue[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as JsonValue)
    .filter((d) => d !== null && d !== undefined);
}

// ----- normalisation -----------------------------------------------------------------------

/** Non-pointer Go fields whose zero value Go omits. */
const ZERO_OMITTED = new Set([
  'test',
  'paused',
  'minReadySeconds',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'stdin',
  'stdinOnce',
  'tty',
  'readOnly',
]);

/** Normalises Go typed-serialisation artefacts (see the corpus README) on a copy. */
export function normalise(value: JsonValue, key = '', inStatus = false): JsonValue | undefined {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map((v) => normalise(v, '', inStatus) ?? null);
  if (!isJsonObject(value)) {
    // Workload status counters are non-pointer fields Go always prints, even as 0.
    if ((inStatus || ZERO_OMITTED.has(key)) && (value === false || value === 0)) return undefined;
    return value;
  }
  const out: JsonObject = {};
  for (const k of Object.keys(value).sort()) {
    const v = value[k];
    if (v === undefined) continue;
    let n = normalise(v, k, inStatus || k === 'status');
    if ((k === 'limits' || k === 'requests') && isJsonObject(n)) {
      const q: JsonObject = {};
      for (const [name, amount] of Object.entries(n)) {
        q[name] = amount === undefined ? null : canonicalQuantityValue(amount);
      }
      n = q;
    }
    if (n === undefined) continue;
    if (isJsonObject(n) && Object.keys(n).length === 0) continue;
    if (Array.isArray(n) && n.length === 0) continue;
    out[k] = n;
  }
  return out;
}

export function firstDifference(
  ours: JsonValue | undefined,
  golden: JsonValue | undefined,
  path = '',
): Difference | undefined {
  if (ours === golden) return undefined;
  if (Array.isArray(ours) && Array.isArray(golden)) {
    for (let i = 0; i < Math.max(ours.length, golden.length); i++) {
      const d = firstDifference(ours[i], golden[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isJsonObject(ours) && isJsonObject(golden)) {
    const keys = [...new Set([...Object.keys(ours), ...Object.keys(golden)])].sort();
    for (const k of keys) {
      const d = firstDifference(ours[k], golden[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return { path: path === '' ? '.' : path, ours, golden };
}

function describe(d: Difference): string {
  const show = (v: JsonValue | undefined): string =>
    v === undefined ? '<absent>' : JSON.stringify(v).slice(0, 300);
  return `${d.path}: ours=${show(d.ours)} golden=${show(d.golden)}`;
}

// ----- running ---------------------------------------------------------------------------

/** Injects and checks the patch: strict application to the input gives the output pod, which is a valid Pod. */
export function injectChecked(input: InjectionInput): Pod {
  // A frozen input proves the engine never writes to it (nor to subtrees its output shares).
  const out = inject({ ...input, pod: deepFreeze(structuredClone(input.pod)) });
  const applied = applyPatchStrict(input.pod, out.patch);
  const d = firstDifference(applied, out.pod);
  if (d) throw new Error(`patch does not reproduce the injected pod: ${describe(d)}`);
  validatePod(applied);
  return applied;
}

function kubeInjectDocument(
  doc: JsonValue,
  c: ConformanceCase,
  config: InjectionConfig,
): JsonValue {
  return kubeInjectWith(doc, config, (namespace) => clusterFor(c, namespace));
}

/** kube-inject of one document (Lists expanded) with the cluster facts of each workload's namespace. */
export function kubeInjectWith(
  doc: JsonValue,
  config: InjectionConfig,
  cluster: (namespace: string) => ClusterFacts,
): JsonValue {
  return mapWorkloads(doc, (workload) => {
    const identity = workloadIdentity(workload);
    const template = getPodTemplate(workload);
    const decision = decide({
      pod: template,
      namespace: '',
      injector: config.injector,
      mode: 'kube-inject',
    });
    if (!decision.inject) return workload;
    // A bare Pod's owner is derived from its ownerReferences, as for the webhook.
    const injected = injectChecked({
      pod: template,
      namespace: identity.namespace,
      config,
      cluster: cluster(identity.namespace),
      mode: 'kube-inject',
      ...(workload.kind === 'Pod' ? {} : { workload: identity }),
    });
    return setPodTemplate(workload, injected);
  });
}

function runKubeInject(
  c: ConformanceCase,
  config: InjectionConfig,
  corpus: Corpus,
): string | undefined {
  const inputs = parseDocuments(readCorpusFile(c.in, corpus));
  if (c.expectedError !== null) {
    try {
      inputs.forEach((d) => kubeInjectDocument(d, c, config));
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      return text.toLowerCase().includes(c.expectedError)
        ? undefined
        : `kube-inject: error ${JSON.stringify(text)} lacks ${JSON.stringify(c.expectedError)}`;
    }
    return `kube-inject: expected an error containing ${JSON.stringify(c.expectedError)}, got success`;
  }
  const golden = parseDocuments(readCorpusFile(c.want ?? '', corpus));
  const ours = inputs.map((d) => kubeInjectDocument(d, c, config));
  if (ours.length !== golden.length)
    return `kube-inject: ${ours.length} documents, golden has ${golden.length}`;
  for (let i = 0; i < ours.length; i++) {
    const d = firstDifference(
      normalise(ours[i] as JsonValue),
      normalise(golden[i] as JsonValue),
      `doc[${i}]`,
    );
    if (d) return `kube-inject: ${describe(d)}`;
  }
  return undefined;
}

/** A workload as the API server would send its pods (cases.json harness.webhookPath.objectToPod). */
export function objectToPod(workload: JsonObject): Pod {
  if (workload.kind === 'Pod') return structuredClone(workload);
  const identity = workloadIdentity(workload);
  const template = structuredClone(getPodTemplate(workload));
  const metadata = { ...(template.metadata ?? {}) };
  let owner: JsonObject = {
    apiVersion: identity.apiVersion,
    kind: identity.kind,
    name: identity.name,
    uid: 'fake-uid',
    controller: true,
  };
  metadata.generateName = identity.name;
  if (identity.kind === 'Deployment') {
    owner = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: `${identity.name}-fake`,
      uid: 'fake-uid',
      controller: true,
    };
    metadata.generateName = `${identity.name}-fake-`;
    metadata.labels = { ...(metadata.labels ?? {}), 'pod-template-hash': 'fake' };
  }
  metadata.ownerReferences = [owner];
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata };
  if (template.spec) pod.spec = template.spec;
  return pod;
}

function forWebhookComparison(pod: Pod): JsonValue | undefined {
  const copy = structuredClone(pod);
  if (copy.metadata?.annotations) delete copy.metadata.annotations[STATUS_ANNOTATION];
  for (const c of [...(copy.spec?.containers ?? []), ...(copy.spec?.initContainers ?? [])]) {
    for (const e of c.env ?? []) {
      const fieldRef = isJsonObject(e.valueFrom) ? e.valueFrom.fieldRef : undefined;
      if (isJsonObject(fieldRef)) delete fieldRef.apiVersion;
    }
  }
  return normalise(copy);
}

function runWebhook(
  c: ConformanceCase,
  config: InjectionConfig,
  corpus: Corpus,
): string | undefined {
  const inputDocs = parseDocuments(readCorpusFile(c.in, corpus));
  const goldenDocs = parseDocuments(readCorpusFile(c.want ?? '', corpus));
  const pairsIn = inputDocs.flatMap((d) =>
    listWorkloads(d).map((w) => ({ w, ns: topNamespace(d) })),
  );
  const pairsGolden = goldenDocs.flatMap((d) => listWorkloads(d));
  if (pairsIn.length !== pairsGolden.length)
    return `webhook: ${pairsIn.length} pods, golden has ${pairsGolden.length}`;
  for (let i = 0; i < pairsIn.length; i++) {
    const { w, ns } = pairsIn[i] as { w: JsonObject; ns: string };
    const pod = objectToPod(w);
    const goldenPod = objectToPod(pairsGolden[i] as JsonObject);
    const decision = decide({ pod, namespace: ns, injector: config.injector, mode: 'webhook' });
    let result: Pod = pod;
    if (decision.inject) {
      result = injectChecked({
        pod,
        namespace: ns,
        config,
        cluster: clusterFor(c, pod.metadata?.namespace || ns),
        mode: 'webhook',
      });
    }
    const d = firstDifference(
      forWebhookComparison(result),
      forWebhookComparison(goldenPod),
      `pod[${i}]`,
    );
    if (d) return `webhook: ${describe(d)}`;
  }
  return undefined;
}

function topNamespace(doc: JsonValue): string {
  if (!isJsonObject(doc) || isList(doc)) return '';
  const meta = doc.metadata;
  return isJsonObject(meta) && typeof meta.namespace === 'string' ? meta.namespace : '';
}

function attempt(label: string, run: () => string | undefined): string | undefined {
  try {
    return run();
  } catch (err) {
    return `${label}: threw ${err instanceof Error ? err.message.split('\n').join(' | ').slice(0, 400) : String(err)}`;
  }
}

export function runCase(
  c: ConformanceCase,
  corpus: Corpus = MASTER_CORPUS,
  options: LoadOptions = {},
): CaseResult {
  const failures: string[] = [];
  let config: InjectionConfig | undefined;
  const configProblem = attempt('config', () => {
    config = configFor(c, corpus, options);
    return undefined;
  });
  if (configProblem || !config)
    return {
      testName: c.testName,
      index: c.index,
      identical: false,
      failures: [configProblem ?? 'config: none'],
    };
  const cfg = config;
  if (!c.skipInjection) {
    const f = attempt('kube-inject', () => runKubeInject(c, cfg, corpus));
    if (f) failures.push(f);
  }
  if (!c.skipWebhook && c.expectedError === null) {
    const f = attempt('webhook', () => runWebhook(c, cfg, corpus));
    if (f) failures.push(f);
  }
  return { testName: c.testName, index: c.index, identical: failures.length === 0, failures };
}

export { isWorkload };
