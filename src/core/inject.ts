/**
 * The injection engine, used identically by the webhook and the offline `inject` command.
 *
 * How it works (Istio's sidecar injection, https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/):
 * 1. Work on a copy-on-write view of the pod without `metadata.managedFields`; `input.pod` is
 *    never mutated and untouched subtrees stay shared with it.
 * 2. Validate the pod's annotations (and its `KEY.proxyConfig`) first; every problem is
 *    reported in one INJ_ERR_INVALID_ANNOTATION error.
 * 3. Derive the owning workload (deployment/type meta) and the proxy UID/GID (OpenShift ranges).
 * 4. Build the template input: the pod with a previous injection stripped (status annotation)
 *    and recorded user overrides put back.
 * 5. Render each selected template and strategic-merge it both into an empty "template pod" (what
 *    the templates produced) and into the unstripped pod.
 * 6. Merge user containers named like injected ones over them (`istio-proxy` customisation).
 * 7. Post-process: cluster/network env, Prometheus merge, secure metrics port, probe rewrite,
 *    status annotation and metadata, container order, canonical quantities.
 * 8. Build the RFC 6902 patch from the subtrees touched (never a whole-pod diff).
 *
 * The output pod shares unchanged subtrees with `input.pod`: treat both as immutable.
 */
import type { Operation } from 'fast-json-patch';
import { InjectorError, type ErrorDetail } from '../errors.js';
import {
  formatAnnotationErrors,
  invalidAnnotationError,
  validateAnnotations,
} from './annotations/validate.js';
import type { ProxyConfig } from './config/types.js';
import type { InjectionInput, InjectionOutput, RenderContext } from './contracts.js';
import { getPath, isJsonObject, type JsonObject, type JsonValue } from './json.js';
import type { Container, Pod, StringMap } from './pod-types.js';
import { nativeSidecarsForPod } from './native-sidecars.js';
import { createSubtreePatch } from './patch/diff.js';
import { findContainer, findSidecar, PROXY_CONTAINER } from './pipeline/containers.js';
import { typedContainer } from './pipeline/container-json.js';
import { parseGoBool } from './annotations/value-formats.js';
import {
  dropOpenshiftAssignedIds,
  proxyIds,
  workloadMetaFromPod,
  type WorkloadMeta,
} from './pipeline/meta.js';
import { adjustInitContainerUser, parseOverrides, reapplyOverrides } from './pipeline/overrides.js';
import {
  CLUSTER_ENV,
  NETWORK_ENV,
  NETWORK_LABEL,
  overwriteClusterEnv,
  reorderContainers,
} from './pipeline/post-process.js';
import {
  dumpAppProbers,
  mergeOrAppendProbers,
  probeRewritePort,
  rewritableHandlers,
  rewriteAppProbes,
} from './pipeline/probes.js';
import { applyPrometheusMerge, applySecurePrometheusAnnotation } from './pipeline/prometheus.js';
import { canonicalQuantityValue } from './quantity.js';
import { POD_SCHEMA, strategicMerge } from './pipeline/smp.js';
import { formatStatus, parseStatus, type InjectionStatus } from './pipeline/status.js';
import { stripPod } from './pipeline/strip.js';
import { resolveTemplates, selectTemplates } from './pipeline/templates.js';
import {
  EMBEDDED_TEMPLATES,
  runTemplate,
  typedView,
  templateSetReadsPodName,
} from './pipeline/template-set.js';
import { resolveProxyConfig } from './proxy-config.js';
import type { ProxyConfigSet, ProxyConfigTarget } from './proxy-config-resources.js';
import { annotationWarnings } from './annotations/warnings.js';
import { KEY } from './annotations/keys.js';
import { boundedCache, boundedMatchCache, type MatchCache } from './bounded-cache.js';

const DEFAULT_STATUS_PORT = 15020;

/** Subtrees the post-processing may change, besides what the templates touch. */
const ALWAYS_TOUCHED: readonly (readonly string[])[] = [
  ['metadata', 'labels'],
  ['metadata', 'annotations'],
  ['spec', 'initContainers'],
  ['spec', 'containers'],
];

/**
 * Injects one pod, reusing the result of an earlier pod with the same relevant inputs: the
 * replicas of one ReplicaSet arrive identical but for their names, and the injection is a pure
 * function of the pod, the namespace, the cluster facts, the URL's env, the mode and the
 * configuration. The reused result is exactly what `injectUncached` gives (proven over the
 * corpus and generated pods by test/unit/core/pipeline/reuse.test.ts):
 * - per configuration object, results are keyed by the JSON text of every other input and of the
 *   pod without `managedFields` (never read by the injection, never patched); the pod's text is
 *   not written per request: the cache compares the pod with a remembered copy (`jsonEqual`);
 * - the pod's name is left out of the key only when no template of the configuration can read
 *   it (templateSetReadsPodName) and the derived deployment name (which may be the pod's name)
 *   is in the key; a result whose patch touches `metadata` beyond labels and annotations is
 *   not reused;
 * - the output pod gets this pod's name and managedFields back, the patch and warnings are the
 *   remembered ones (the patch array is frozen: treat it, like the pod, as immutable).
 * Errors are never remembered: a refused pod runs the whole pipeline every time.
 */
export function inject(input: InjectionInput): InjectionOutput {
  const probe = reuseProbe(input);
  if (probe === undefined) return injectFull(input).output;
  let fresh: FullInjection | undefined;
  const entry = reuseCache(input.config).get(probe.bucket, probe.pod, () => {
    fresh = injectFull(input);
    return remembered(fresh);
  });
  if (entry === undefined) return (fresh ?? injectFull(input)).output;
  return fromRemembered(entry, input.pod);
}

/** The whole pipeline, every time (the reference the reused results are proven against). */
export function injectUncached(input: InjectionInput): InjectionOutput {
  return injectFull(input).output;
}

interface RememberedInjection {
  /** The output pod without `metadata.managedFields`. */
  pod: Pod;
  patch: Operation[];
  warnings: readonly string[];
}

/** Per configuration object; 512 results or 4 Mi characters of pods at most, 8 per workload. */
const reuseCaches = new WeakMap<object, MatchCache<RememberedInjection | undefined>>();
const REUSE_MAX_ENTRIES = 512;
const REUSE_MAX_CHARS = 4 * 1024 * 1024;
const REUSE_PER_BUCKET = 8;

function reuseCache(config: object): MatchCache<RememberedInjection | undefined> {
  let cache = reuseCaches.get(config);
  if (cache === undefined) {
    cache = boundedMatchCache(REUSE_MAX_ENTRIES, {
      perBucket: REUSE_PER_BUCKET,
      maxChars: REUSE_MAX_CHARS,
    });
    reuseCaches.set(config, cache);
  }
  return cache;
}

/**
 * Past this many env vars, mounts, ports and volumes, the key's JSON text costs more than the
 * pipeline it saves (which shares such lists untouched): measured in-process, a 300-var pod
 * 263 µs whole against 76 µs reused, a 2 000-var pod 212 µs whole against 267 µs reused.
 */
const REUSE_MAX_LIST_ENTRIES = 1024;

function listEntries(pod: Pod): number {
  const spec = pod.spec;
  if (spec === undefined || spec === null) return 0;
  let n = Array.isArray(spec.volumes) ? spec.volumes.length : 0;
  for (const list of [spec.containers, spec.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list as readonly Container[]) {
      if (c === null || typeof c !== 'object') continue;
      if (Array.isArray(c.env)) n += c.env.length;
      if (Array.isArray(c.volumeMounts)) n += c.volumeMounts.length;
      if (Array.isArray(c.ports)) n += c.ports.length;
    }
  }
  return n;
}

const proxyConfigSetIds = new WeakMap<ProxyConfigSet, number>();
let lastProxyConfigSetId = 0;

function proxyConfigSetId(set: ProxyConfigSet): number {
  let id = proxyConfigSetIds.get(set);
  if (id === undefined) {
    id = ++lastProxyConfigSetId;
    proxyConfigSetIds.set(set, id);
  }
  return id;
}

/**
 * The inputs an injection depends on besides the configuration: the small ones as the bucket's
 * JSON text, the pod (without managedFields, and without its name when nothing reads it) as a
 * value the cache compares (`jsonEqual`: a hit is a pod of the same JSON text).
 */
function reuseProbe(input: InjectionInput): { bucket: string; pod: unknown } | undefined {
  const { pod, config } = input;
  if (listEntries(pod) > REUSE_MAX_LIST_ENTRIES) return undefined;
  const meta = pod.metadata;
  let keyPod: unknown = pod;
  let workload: unknown = input.workload ?? null;
  if (meta !== undefined && isJsonObject(meta)) {
    const nameFree =
      typeof meta.name === 'string' &&
      !templateSetReadsPodName(config.templates ?? EMBEDDED_TEMPLATES);
    if (nameFree && input.workload === undefined) {
      workload = workloadMetaFromPod(pod, meta.namespace || input.namespace);
    }
    // Spreads keep the keys' order (the name's place too).
    const rest: JsonObject = { ...meta, ...(nameFree ? { name: '' } : {}) };
    delete rest.managedFields;
    keyPod = { ...pod, metadata: rest };
  }
  try {
    const { proxyConfigs, ...facts } = input.cluster;
    const bucket = JSON.stringify([
      input.mode,
      input.namespace,
      input.pathEnv ?? null,
      facts,
      // A set holds Maps, which JSON drops: it is keyed by identity (sets are immutable, and every
      // change to the cluster's ProxyConfigs makes a new one).
      proxyConfigs === undefined ? 0 : proxyConfigSetId(proxyConfigs),
      workload,
    ]);
    return { bucket, pod: keyPod };
  } catch {
    // Not JSON data (only a programmatic caller can pass such input): never reused.
    return undefined;
  }
}

function remembered(full: FullInjection): RememberedInjection | undefined {
  for (const path of full.touched) {
    if (path[0] === 'metadata' && path[1] !== 'labels' && path[1] !== 'annotations') {
      return undefined;
    }
  }
  const { pod, patch, warnings } = full.output;
  const metadata = { ...(pod.metadata ?? {}) };
  delete metadata.managedFields;
  for (const op of patch) Object.freeze(op);
  return { pod: { ...pod, metadata }, patch: Object.freeze(patch) as Operation[], warnings };
}

function fromRemembered(entry: RememberedInjection, input: Pod): InjectionOutput {
  const metadata = { ...(entry.pod.metadata ?? {}) };
  const inputMeta = input.metadata;
  if (inputMeta?.name !== undefined) metadata.name = inputMeta.name;
  if (inputMeta?.managedFields !== undefined) metadata.managedFields = inputMeta.managedFields;
  return { pod: { ...entry.pod, metadata }, patch: entry.patch, warnings: [...entry.warnings] };
}

interface FullInjection {
  output: InjectionOutput;
  /** The subtrees the patch was built from. */
  touched: readonly (readonly string[])[];
}

function injectFull(input: InjectionInput): FullInjection {
  const { config, cluster, mode } = input;
  const pod = workingCopy(input.pod);
  const annotations: StringMap = { ...(pod.metadata?.annotations ?? {}) };
  // Values Istio silently falls back on are still reported (the pod is injected as Istio would).
  const warnings: string[] = annotationWarnings(annotations);
  const namespace = pod.metadata?.namespace || input.namespace;

  const { proxyConfig, issues } = resolveProxyConfig(
    config.mesh,
    annotations,
    proxyConfigTarget(cluster, namespace, pod),
  );
  checkAnnotations(annotations, issues);

  const workload = workloadMeta(input, pod, namespace);
  const ids = proxyIds(cluster.openshift === true, cluster.namespaceAnnotations, warnings);
  if (cluster.openshift === true) dropOpenshiftAssignedIds(pod);

  // kube-inject applies the pod's KEY.proxyConfig annotation to the mesh config it injects with, so
  // its status port moves the agent port there (stripping, the metrics merge, probe rewrites);
  // the webhook reads the mesh's own (istio/pkg/kube/inject/inject.go IntoObject: ApplyProxyConfig).
  const agentPort =
    (mode === 'kube-inject' ? proxyConfig.statusPort : config.mesh.defaultConfig.statusPort) ??
    DEFAULT_STATUS_PORT;
  const status = parseStatus(annotations[KEY.status]);
  warnings.push(...podWarnings(pod, annotations, status));
  const existingOverrides = parseOverrides(annotations[KEY.overrides]);
  const stripped = stripPod(pod, status, agentPort, existingOverrides);

  const selected = resolveTemplates(
    selectTemplates(annotations, config.injector, mode),
    config.templates ?? EMBEDDED_TEMPLATES,
  );

  const ctx: RenderContext = {
    pod: { ...stripped, metadata: { ...(stripped.metadata ?? {}), namespace } },
    typeMeta: workload.typeMeta,
    deploymentMeta: workload.deploymentMeta,
    proxyConfig,
    mesh: config.mesh,
    values: config.values,
    revision: config.revision,
    nativeSidecars: cluster.nativeSidecars,
    proxyUID: ids.uid,
    proxyGID: ids.gid,
    compliancePolicy: cluster.compliancePolicy ?? '',
  };
  const native = nativeSidecarsForPod(cluster.nativeSidecars, annotations);
  const rendered = mergeTemplates(selected, ctx, pod, native);
  const { templatePod, touched } = rendered;

  let merged = reapplyOverrides({
    merged: rendered.merged,
    original: pod,
    templatePod,
    status,
    existing: existingOverrides,
  });
  merged = ownCopy(merged);
  const tproxy =
    proxyConfig.interceptionMode === 'TPROXY' ||
    merged.metadata?.annotations?.[KEY.interceptionMode] === 'TPROXY';
  adjustInitContainerUser(merged, pod, tproxy);

  postProcess(merged, templatePod, { input, proxyConfig, agentPort, warnings });
  canonicalInjectedResources(merged, templatePod);

  const patch: Operation[] = createSubtreePatch(input.pod, merged, touched);
  const managedFields = input.pod.metadata?.managedFields;
  if (managedFields !== undefined && merged.metadata) merged.metadata.managedFields = managedFields;
  return { output: { pod: merged, patch, warnings }, touched };
}

/**
 * Throws one INJ_ERR_INVALID_ANNOTATION error for every problem of the pod's annotations and of
 * the proxy config resolved from them (`issues`).
 */
function checkAnnotations(annotations: StringMap, issues: readonly ErrorDetail[]): void {
  const invalid: ErrorDetail[] = validateAnnotations(annotations);
  // The annotation check already covers the KEY.proxyConfig annotation (validated over the
  // built-in defaults, as istiod does); the resolution reports the same problem, once.
  for (const issue of issues) {
    if (!invalid.some((d) => d.field === issue.field)) invalid.push(issue);
  }
  if (invalid.length > 0) {
    throw new InjectorError(
      'INJ_ERR_INVALID_ANNOTATION',
      `failed to run injection template: ${formatAnnotationErrors(invalid)}`,
      { details: invalid },
    );
  }
}

/** The workload the caller named, else the one derived from the pod's owner. */
function workloadMeta(input: InjectionInput, pod: Pod, namespace: string): WorkloadMeta {
  if (!input.workload) return workloadMetaFromPod(pod, namespace);
  return {
    typeMeta: { kind: input.workload.kind, apiVersion: input.workload.apiVersion },
    deploymentMeta: { name: input.workload.name, namespace: input.workload.namespace },
  };
}

/** What the pod carries that Istio passes over silently: an unreadable status, a DNS policy. */
function podWarnings(
  pod: Pod,
  annotations: StringMap,
  status: InjectionStatus | undefined,
): string[] {
  const warnings: string[] = [];
  if (status === undefined && (annotations[KEY.status] ?? '') !== '') {
    warnings.push(
      `ignored ${KEY.status}: not a JSON status object, so nothing previously injected is stripped`,
    );
  }
  const dnsPolicy = pod.spec?.dnsPolicy;
  if (dnsPolicy !== undefined && dnsPolicy !== '' && dnsPolicy !== 'ClusterFirst') {
    warnings.push(
      `dnsPolicy ${JSON.stringify(dnsPolicy.slice(0, 40))} is not ClusterFirst; proxy DNS capture may not apply`,
    );
  }
  return warnings;
}

interface MergedTemplates {
  /** What the templates produced, merged into an empty pod. */
  templatePod: Pod;
  /** The same merged into the (unstripped) pod. */
  merged: Pod;
  /** The subtrees the patch is built from. */
  touched: (readonly string[])[];
}

/** Templates run in order, each merged into the template pod and into the real pod. */
function mergeTemplates(
  selected: ReturnType<typeof resolveTemplates>,
  ctx: RenderContext,
  pod: Pod,
  native: boolean,
): MergedTemplates {
  let outputs = selected.map(({ name, template }) => runTemplate(name, template, ctx));
  const names = injectedNames(outputs.map((o) => o.typed));
  let merged = typedContainers(pod, names, typedContainer);
  // A pod container named like an injected one (a user override, an earlier injection) receives
  // the templates' text as written: a zero there replaces its value before the typed decoding
  // omits it. Elsewhere the typed and written overlays merge alike.
  const asWritten = merged !== pod;
  if (asWritten)
    outputs = selected.map(({ name, template }) => runTemplate(name, template, ctx, true));
  let templatePod: Pod = {};
  const touched: (readonly string[])[] = [...ALWAYS_TOUCHED];
  for (const { typed, overlay } of outputs) {
    for (const key of Object.keys(typed.metadata ?? {})) touched.push(['metadata', key]);
    for (const key of Object.keys(typed.spec ?? {})) touched.push(['spec', key]);
    templatePod = strategicMerge(templatePod, typed, POD_SCHEMA) as Pod;
    if (native && findContainer(templatePod.spec?.initContainers, PROXY_CONTAINER)) {
      merged = moveProxyToInit(merged);
    }
    merged = strategicMerge(merged, asWritten ? overlay : typed, POD_SCHEMA) as Pod;
    if (asWritten) merged = typedContainers(merged, names, typedView);
  }
  return { templatePod, merged, touched };
}

function injectedNames(renders: readonly Pod[]): ReadonlySet<string> {
  const names = new Set<string>();
  for (const r of renders) {
    for (const c of r.spec?.containers ?? []) names.add(c.name);
    for (const c of r.spec?.initContainers ?? []) names.add(c.name);
  }
  return names;
}

/**
 * istiod merges each template into the pod as a typed corev1.Pod (inject.go applyOverlayYAML), so
 * in a pod container named like an injected one, zero values of `omitempty` fields (an empty env
 * value, a probe counter of 0) are gone, not kept. Returns `pod` itself when no container is named
 * so.
 */
function typedContainers(
  pod: Pod,
  names: ReadonlySet<string>,
  typed: (c: Container) => JsonValue,
): Pod {
  const spec = pod.spec;
  if (!spec) return pod;
  const named = (c: Container): boolean => names.has(c.name);
  if (!(spec.containers ?? []).some(named) && !(spec.initContainers ?? []).some(named)) return pod;
  const each = (list: Container[]): Container[] =>
    list.map((c) => (named(c) ? (typed(c) as Container) : c));
  const out = { ...spec };
  if (spec.containers) out.containers = each(spec.containers);
  if (spec.initContainers) out.initContainers = each(spec.initContainers);
  return { ...pod, spec: out };
}

/** The pod as the ProxyConfig resources select it (Istio: the pod's namespace and labels). */
function proxyConfigTarget(
  cluster: InjectionInput['cluster'],
  namespace: string,
  pod: Pod,
): ProxyConfigTarget | undefined {
  if (cluster.proxyConfigs === undefined) return undefined;
  return { set: cluster.proxyConfigs, namespace, labels: pod.metadata?.labels ?? {} };
}

/** What the post-processing of one injection reads besides the pods, and where it warns. */
interface PostProcessContext {
  input: InjectionInput;
  proxyConfig: ProxyConfig;
  agentPort: number;
  warnings: string[];
}

function postProcess(merged: Pod, templatePod: Pod, context: PostProcessContext): void {
  const { input, proxyConfig, agentPort, warnings } = context;
  const { config, mode } = input;
  const meta = (merged.metadata ??= {});
  meta.annotations ??= {};
  const labels: StringMap = { ...(meta.labels ?? {}) };

  const envs = clusterEnvs(input);
  overwriteClusterEnv(merged, envs);

  applyPrometheusMerge(merged, config.mesh, agentPort, warnings);
  applySecurePrometheusAnnotation(merged);
  rewriteProbes(merged, config.values, agentPort);

  const network = envs[NETWORK_ENV];
  if (network !== undefined) labels[NETWORK_LABEL] = network;
  if (Object.keys(labels).length > 0) meta.labels = labels;
  const finalAnnotations: StringMap = { ...(merged.metadata?.annotations ?? {}) };
  finalAnnotations[KEY.status] = formatStatus(templatePod, config.revision);
  if (mode === 'webhook') Object.assign(finalAnnotations, config.injector.injectedAnnotations);
  meta.annotations = finalAnnotations;

  // Spec §4.7.6: the effective proxy config (mesh and annotation, resolved once above) or values.
  const hold =
    proxyConfig.holdApplicationUntilProxyStarts === true ||
    getPath(config.values, 'global.proxy.holdApplicationUntilProxyStarts') === true;
  reorderContainers(merged, hold);
}

/** Effective cluster and network: values < URL parameters < pod label (network only). */
function clusterEnvs(input: InjectionInput): StringMap {
  const envs: StringMap = {};
  const clusterName = getPath(input.config.values, 'global.multiCluster.clusterName');
  const network = getPath(input.config.values, 'global.network');
  if (typeof clusterName === 'string' && clusterName !== '') envs[CLUSTER_ENV] = clusterName;
  if (typeof network === 'string' && network !== '') envs[NETWORK_ENV] = network;
  Object.assign(envs, input.pathEnv ?? {});
  const networkLabel = input.pod.metadata?.labels?.[NETWORK_LABEL];
  if (networkLabel !== undefined && networkLabel !== '') envs[NETWORK_ENV] = networkLabel;
  return envs;
}

/** The application's probes sent through the agent's status port, when rewriting is on. */
function rewriteProbes(
  merged: Pod,
  values: InjectionInput['config']['values'],
  agentPort: number,
): void {
  const sidecar = findSidecar(merged);
  const current = merged.metadata?.annotations ?? {};
  if (!sidecar || !rewriteProbesEnabled(current, values)) return;
  const probers = dumpAppProbers(merged, agentPort);
  if (probers !== '') {
    sidecar.env = mergeOrAppendProbers(
      current[KEY.status] !== undefined,
      sidecar.env ?? [],
      probers,
    );
  }
  const portText = current[KEY.statusPort];
  const rewritePort = probeRewritePort(portText, agentPort);
  // Port 0 (no status port, or a text istiod reads as 0): istiod rewrites the probes to port 0,
  // a pod the API server refuses (a probe or hook port is 1-65535), so it is refused here,
  // naming the annotation and the probes.
  const stranded = rewritePort === 0 ? rewritableHandlers(merged) : [];
  if (stranded.length > 0) {
    throw invalidAnnotationError(
      KEY.statusPort,
      portText ?? '',
      `the probes are rewritten to this port, read as 0, which no probe can use (a probe port is 1-65535): ${stranded.join(', ')}; set a status port or ${KEY.rewriteAppHTTPProbers}: "false"`,
    );
  }
  if (rewritePort > 0) rewriteAppProbes(merged, rewritePort);
}

function rewriteProbesEnabled(
  annotations: StringMap,
  values: InjectionInput['config']['values'],
): boolean {
  const text = annotations[KEY.rewriteAppHTTPProbers];
  const parsed = text === undefined ? undefined : parseGoBool(text);
  if (parsed !== undefined) return parsed;
  return getPath(values, 'sidecarInjectorWebhook.rewriteAppHTTPProbe') !== false;
}

/**
 * The working pod: a shallow copy without `metadata.managedFields` (large and never patched).
 * Every later step is copy-on-write, so untouched subtrees stay shared with `input.pod` and the
 * patch builder skips them by identity.
 */
function workingCopy(pod: Pod): Pod {
  const metadata = { ...(pod.metadata ?? {}) };
  delete metadata.managedFields;
  const out: Pod = { ...pod, metadata };
  if (pod.spec) out.spec = { ...pod.spec };
  return out;
}

/** Fresh top-level containers so post-processing can mutate without touching shared subtrees. */
function ownCopy(pod: Pod): Pod {
  const spec = pod.spec ? { ...pod.spec } : undefined;
  if (spec?.containers) spec.containers = spec.containers.map((c) => ({ ...c }));
  if (spec?.initContainers) spec.initContainers = spec.initContainers.map((c) => ({ ...c }));
  const out: Pod = { ...pod, metadata: { ...(pod.metadata ?? {}) } };
  if (spec) out.spec = spec;
  return out;
}

/** Native sidecar with a user `istio-proxy` in containers: move it where the template puts it. */
function moveProxyToInit(pod: Pod): Pod {
  const proxy = findContainer(pod.spec?.containers, PROXY_CONTAINER);
  if (!proxy || !pod.spec) return pod;
  const containers = (pod.spec.containers ?? []).filter((c) => c !== proxy);
  const initContainers: Container[] = [...(pod.spec.initContainers ?? []), proxy];
  return { ...pod, spec: { ...pod.spec, containers, initContainers } };
}

/** Injected containers pass through Kubernetes types in Istio, which prints quantities canonically. */
function canonicalInjectedResources(pod: Pod, templatePod: Pod): void {
  const injected = injectedNames([templatePod]);
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    // Anything but a map (bad input) has no quantities to canonicalise.
    if (!injected.has(c.name) || !isJsonObject(c.resources)) continue;
    c.resources = canonicalResourcesCopy(c.resources);
  }
}

/**
 * The injected containers' quantities are the same few strings on every request (they come from
 * the configuration and a handful of annotations), and canonicalising one is BigInt arithmetic:
 * remember the answers. Bounded, since annotation values are user input.
 */
const canonicalQuantities = boundedCache<JsonValue>(512);

function canonicalQuantityRemembered(value: JsonValue): JsonValue {
  if (typeof value !== 'string') return canonicalQuantityValue(value);
  return canonicalQuantities.get(value, canonicalQuantityValue);
}

/** A copy of a `resources` block with every `limits`/`requests` quantity in canonical form. */
function canonicalResourcesCopy(resources: JsonObject): JsonObject {
  const out: JsonObject = { ...resources };
  for (const section of ['limits', 'requests']) {
    const map = resources[section];
    if (!isJsonObject(map)) continue;
    const canonical: JsonObject = {};
    for (const [name, value] of Object.entries(map)) {
      canonical[name] = value === undefined ? value : canonicalQuantityRemembered(value);
    }
    out[section] = canonical;
  }
  return out;
}
