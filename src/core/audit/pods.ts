/**
 * The pod audit: which running pods the current configuration would treat differently from how
 * they were admitted. A pod is judged with the same functions an admission uses (the webhook
 * configuration's selectors, then the injector's decision), so the audit and the webhook never
 * disagree about what "should be injected" means. Pure: the caller supplies pods, namespaces and
 * the configuration; nothing here reads the cluster.
 */
import type { NamespaceInfo } from '../contracts.js';
import type { InjectionConfig } from '../config/types.js';
import { decide } from '../decide.js';
import type { Container, OwnerReference, Pod, StringMap } from '../pod-types.js';
import { resolveProxyConfig } from '../proxy-config.js';
import type { ProxyConfigSet } from '../proxy-config-resources.js';
import { parseStatus } from '../pipeline/status.js';
import { KEY } from '../annotations/keys.js';
import { proxyImage } from '../render/images.js';
import { evaluateWebhookSelectors, webhookEntriesWithTags } from '../webhook-selectors.js';

export const PROXY_CONTAINER = 'istio-proxy';

export type PodProblem = 'missing-sidecar' | 'stale-revision' | 'stale-proxy-image';

/**
 * How each problem is named outside the audit: the gauge that counts it with its `reason` label
 * (FindingCount), and the reason of the Kubernetes Event sent to its workload.
 */
export const PROBLEM_LABELS: Readonly<
  Record<
    PodProblem,
    { metric: 'missing' | 'stale'; reason: '' | 'revision' | 'image'; eventReason: string }
  >
> = {
  'missing-sidecar': { metric: 'missing', reason: '', eventReason: 'SidecarMissing' },
  'stale-revision': { metric: 'stale', reason: 'revision', eventReason: 'SidecarStaleRevision' },
  'stale-proxy-image': { metric: 'stale', reason: 'image', eventReason: 'SidecarStaleImage' },
};

/** Kinds that own pods and are named in metrics; any other owner kind is counted as `other`. */
export const WORKLOAD_KINDS = [
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'Pod',
] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number] | 'other';

export interface Workload {
  kind: string;
  name: string;
}

export interface PodFinding {
  problem: PodProblem;
  namespace: string;
  pod: string;
  /** The pod's controller as recorded in its owner references (absent for a bare pod). */
  owner?: Workload;
  /** What to restart: the Deployment behind a ReplicaSet, else the owner, else the pod. */
  workload: Workload;
  /** Why the pod is reported, in words. */
  reason: string;
  /** The command (or step) that gives the pod the current sidecar. */
  fix: string;
  /** For stale findings: what the configuration expects now (revision or image). */
  expected?: string;
  /** For stale findings: what the pod has. */
  actual?: string;
}

/** The pod annotations the audit reads; every other annotation is dropped by the trimmer. */
export const AUDIT_ANNOTATIONS: readonly string[] = [
  KEY.status,
  KEY.inject,
  KEY.proxyImage,
  KEY.proxyImageType,
  KEY.proxyConfig,
];

/** Set by the Deployment controller on its ReplicaSets and their pods; the RS is `<deploy>-<hash>`. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';

const normRevision = (revision: string): string => (revision === '' ? 'default' : revision);

function controllerOf(pod: Pod): OwnerReference | undefined {
  const refs = pod.metadata?.ownerReferences ?? [];
  return refs.find((r) => r.controller === true) ?? refs[0];
}

/**
 * The workload to restart and how. A Deployment's ReplicaSet is named `<deployment>-<hash>` with
 * the hash also in the pod's `pod-template-hash` label (Kubernetes' deployment controller,
 * pkg/controller/deployment/sync.go), so the Deployment is found without reading ReplicaSets.
 */
export function workloadOf(pod: Pod): { owner?: Workload; workload: Workload; fix: string } {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const ref = controllerOf(pod);
  const deletePod = `kubectl delete pod ${name} -n ${namespace}`;
  if (ref?.kind === undefined || ref.name === undefined) {
    return {
      workload: { kind: 'Pod', name },
      fix: `recreate the pod: it has no controller (${deletePod}, then apply it again)`,
    };
  }
  const owner: Workload = { kind: ref.kind, name: ref.name };
  const restart = (kind: string, target: string): string =>
    `kubectl rollout restart ${kind.toLowerCase()}/${target} -n ${namespace}`;
  switch (ref.kind) {
    case 'ReplicaSet': {
      const hash = pod.metadata?.labels?.[POD_TEMPLATE_HASH];
      if (hash !== undefined && hash !== '' && ref.name.endsWith(`-${hash}`)) {
        const deployment = ref.name.slice(0, -(hash.length + 1));
        return {
          owner,
          workload: { kind: 'Deployment', name: deployment },
          fix: restart('Deployment', deployment),
        };
      }
      return { owner, workload: owner, fix: `${deletePod} (ReplicaSet ${ref.name} recreates it)` };
    }
    case 'StatefulSet':
    case 'DaemonSet':
      return { owner, workload: owner, fix: restart(ref.kind, ref.name) };
    case 'Job':
      return {
        owner,
        workload: owner,
        fix: `${deletePod} (Job ${ref.name} starts a replacement while it still runs)`,
      };
    default:
      return { owner, workload: owner, fix: `restart ${ref.kind} ${ref.name} (or ${deletePod})` };
  }
}

/** The bounded metric label for a workload kind. */
export function workloadKindLabel(kind: string): WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind) ? (kind as WorkloadKind) : 'other';
}

/** The istio-proxy container, a regular container or a native sidecar (init container). */
export function proxyContainer(pod: Pod): Container | undefined {
  const spec = pod.spec;
  return (
    spec?.containers?.find((c) => c.name === PROXY_CONTAINER) ??
    spec?.initContainers?.find((c) => c.name === PROXY_CONTAINER)
  );
}

/** Finished or terminating pods are not restarted by anyone: they are not reported. */
function isLive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return pod.metadata?.deletionTimestamp === undefined;
}

/** What one pod is judged with: the admission's verdicts and what the pod carries. */
interface PodJudgement {
  pod: Pod;
  namespace: NamespaceInfo;
  config: InjectionConfig;
  proxyConfigs: ProxyConfigSet | undefined;
  labels: StringMap;
  annotations: StringMap;
  selector: ReturnType<typeof evaluateWebhookSelectors>;
  decisionMessage: string;
  wouldInject: boolean;
  /** The revision named in the pod's status annotation (normalised), when it has one. */
  injectedBy: string | undefined;
  /** The revision this configuration serves (normalised). */
  ours: string;
  proxy: Container | undefined;
}

interface Verdict {
  problem: PodProblem;
  reason: string;
  stale?: { expected: string; actual: string };
}

function judge(
  pod: Pod,
  namespace: NamespaceInfo,
  config: InjectionConfig,
  proxyConfigs: ProxyConfigSet | undefined,
  revisionTags: readonly string[],
): PodJudgement {
  const labels: StringMap = pod.metadata?.labels ?? {};
  const annotations: StringMap = pod.metadata?.annotations ?? {};
  const selector = evaluateWebhookSelectors({
    ...webhookEntriesWithTags(config, revisionTags),
    namespaceName: namespace.name,
    namespaceLabels: namespace.labels,
    podLabels: labels,
  });
  const decision = decide({
    pod,
    namespace: namespace.name,
    injector: config.injector,
    mode: 'webhook',
  });
  const status = parseStatus(annotations[KEY.status]);
  return {
    pod,
    namespace,
    config,
    proxyConfigs,
    labels,
    annotations,
    selector,
    decisionMessage: decision.message,
    wouldInject: selector.matched && decision.inject,
    injectedBy: status === undefined ? undefined : normRevision(status.revision),
    ours: normRevision(config.revision),
    proxy: proxyContainer(pod),
  };
}

/** No status annotation and no proxy, yet the pod would be injected now. */
function missingSidecar(j: PodJudgement): Verdict | undefined {
  if (j.injectedBy !== undefined || j.proxy !== undefined || !j.wouldInject) return undefined;
  return {
    problem: 'missing-sidecar',
    reason: `no ${PROXY_CONTAINER} although it would be injected now: ${j.selector.message}; ${j.decisionMessage}`,
  };
}

/** Injected by another revision than the one that would inject it now, or ours no longer serves it. */
function staleRevision(j: PodJudgement): Verdict | undefined {
  const { injectedBy, ours, selector } = j;
  if (injectedBy !== undefined && injectedBy !== ours && j.wouldInject) {
    return {
      problem: 'stale-revision',
      reason: `injected by revision ${injectedBy}, but ${selector.message}, which revision ${ours} serves`,
      stale: { expected: ours, actual: injectedBy },
    };
  }
  if (injectedBy === ours && !selector.matched && selector.reason === 'revision-mismatch') {
    return {
      problem: 'stale-revision',
      reason: `injected by revision ${ours}, but: ${selector.message}`,
      stale: { expected: 'another revision', actual: ours },
    };
  }
  return undefined;
}

/** The proxy runs another image than the configuration injects now. */
function staleProxyImage(j: PodJudgement): Verdict | undefined {
  const actual = j.proxy?.image;
  if (!j.wouldInject || actual === undefined) return undefined;
  // The image type may come from a ProxyConfig resource, as it did at injection.
  const { proxyConfig } = resolveProxyConfig(
    j.config.mesh,
    j.annotations,
    j.proxyConfigs === undefined
      ? undefined
      : { set: j.proxyConfigs, namespace: j.namespace.name, labels: j.labels },
  );
  const expected = proxyImage({ values: j.config.values, proxyConfig, annotations: j.annotations });
  if (actual === expected) return undefined;
  return {
    problem: 'stale-proxy-image',
    reason: `${PROXY_CONTAINER} runs ${actual}; the configuration now injects ${expected}`,
    stale: { expected, actual },
  };
}

function findingOf(pod: Pod, namespace: string, verdict: Verdict): PodFinding {
  const { owner, workload, fix } = workloadOf(pod);
  return {
    problem: verdict.problem,
    namespace,
    pod: pod.metadata?.name ?? '',
    ...(owner === undefined ? {} : { owner }),
    workload,
    reason: verdict.reason,
    fix,
    ...(verdict.stale ?? {}),
  };
}

/**
 * Evaluates one pod against the current configuration. `namespace` undefined (not known yet)
 * yields no finding: without the namespace labels the selectors cannot be judged.
 */
export function evaluatePod(
  pod: Pod,
  namespace: NamespaceInfo | undefined,
  config: InjectionConfig,
  proxyConfigs?: ProxyConfigSet,
  /** Revision tags learned from the cluster's webhook configurations (as the review uses them). */
  revisionTags: readonly string[] = [],
): PodFinding | undefined {
  if (namespace === undefined || !isLive(pod)) return undefined;
  const j = judge(pod, namespace, config, proxyConfigs, revisionTags);
  const verdict = missingSidecar(j) ?? staleRevision(j) ?? staleProxyImage(j);
  return verdict === undefined ? undefined : findingOf(pod, namespace.name, verdict);
}

/** Evaluates every pod; `namespaceOf` answers from a cache (undefined when unknown). */
export function evaluatePods(
  pods: Iterable<Pod>,
  namespaceOf: (name: string) => NamespaceInfo | undefined,
  config: InjectionConfig,
  /** Revision tags learned from the cluster's webhook configurations (tagsPointingAt). */
  revisionTags: readonly string[] = [],
): PodFinding[] {
  const findings: PodFinding[] = [];
  for (const pod of pods) {
    const namespace = namespaceOf(pod.metadata?.namespace ?? '');
    const found = evaluatePod(pod, namespace, config, undefined, revisionTags);
    if (found !== undefined) findings.push(found);
  }
  return findings;
}

/** Stable identity of a finding across evaluations. */
export function findingKey(f: Pick<PodFinding, 'problem' | 'namespace' | 'pod'>): string {
  return `${f.problem}\u0000${f.namespace}\u0000${f.pod}`;
}

export interface FindingsDiff<F> {
  current: Map<string, F>;
  added: F[];
  /** Same key, different details (for example another expected image). */
  changed: F[];
  cleared: F[];
}

/** What changed since the previous evaluation: one log line per entry of each list. */
export function diffFindings<F>(
  previous: ReadonlyMap<string, F>,
  next: readonly F[],
  keyOf: (f: F) => string,
  same: (a: F, b: F) => boolean,
): FindingsDiff<F> {
  const current = new Map<string, F>();
  const added: F[] = [];
  const changed: F[] = [];
  for (const f of next) {
    const key = keyOf(f);
    current.set(key, f);
    const before = previous.get(key);
    if (before === undefined) added.push(f);
    else if (!same(before, f)) changed.push(f);
  }
  const cleared = [...previous].filter(([key]) => !current.has(key)).map(([, f]) => f);
  return { current, added, changed, cleared };
}

export const samePodFinding = (a: PodFinding, b: PodFinding): boolean =>
  a.reason === b.reason && a.fix === b.fix;

/**
 * Label value for namespaces beyond the cap. Underscores are not allowed in namespace names
 * (RFC 1123 labels), so it can never be confused with a real namespace.
 */
export const OTHER_NAMESPACES = '_other';

export interface FindingCount {
  metric: 'missing' | 'stale';
  namespace: string;
  ownerKind: WorkloadKind;
  /** For `stale`: `revision` or `image`; empty for `missing`. */
  reason: '' | 'revision' | 'image';
  count: number;
}

/**
 * Counts per metric series, with at most `maxNamespaces` namespace values: the namespaces with the
 * most findings keep their name (ties by name), the rest are summed under OTHER_NAMESPACES. The
 * number of series is thus bounded by (maxNamespaces + 1) × kinds × reasons.
 */
export function countFindings(
  findings: readonly PodFinding[],
  maxNamespaces: number,
): FindingCount[] {
  const perNamespace = new Map<string, number>();
  for (const f of findings) perNamespace.set(f.namespace, (perNamespace.get(f.namespace) ?? 0) + 1);
  const kept = new Set(
    [...perNamespace]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, Math.max(0, maxNamespaces))
      .map(([ns]) => ns),
  );
  const counts = new Map<string, FindingCount>();
  for (const f of findings) {
    const namespace = kept.has(f.namespace) ? f.namespace : OTHER_NAMESPACES;
    const ownerKind = workloadKindLabel(f.workload.kind);
    const { metric, reason } = PROBLEM_LABELS[f.problem];
    const key = `${metric}\u0000${namespace}\u0000${ownerKind}\u0000${reason}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { metric, namespace, ownerKind, reason, count: 1 });
    else entry.count += 1;
  }
  return [...counts.values()];
}
