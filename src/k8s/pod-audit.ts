/**
 * The pod audit in cluster mode: a trimmed Pod informer and a periodic, rate-limited evaluation of
 * every cached pod against the current configuration (src/core/audit/pods.ts). Results go to
 * gauges, one log line per change and, when enabled, batched Events on the owning workloads.
 *
 * Why a full Pod watch and not PartialObjectMetadata: a stale proxy is only visible in the
 * istio-proxy container's image, which metadata does not carry. The watch therefore reads whole
 * pods (RBAC: list and watch on pods, nothing else) and the informer's transform keeps only what
 * the audit reads (see src/core/audit/pod-trim.ts). The first list is paged (PAGE_SIZE pods per
 * request, each page trimmed before the next is fetched), so a large cluster never holds its
 * full pod list in memory at once.
 *
 * Nothing here runs on the request path: evaluations run on their own timer, a slice of pods per
 * event-loop turn, at most once per `minIntervalMs`.
 */
import {
  CoreV1Api,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesListObject,
  type V1ListMeta,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { podAuditMetrics } from '../metrics/registry.js';
import type { Logger } from 'pino';
import type { ProxyConfigSet } from '../core/proxy-config-resources.js';
import type { NamespaceInfo } from '../core/contracts.js';
import type { Pod } from '../core/pod-types.js';
import {
  countFindings,
  diffFindings,
  evaluatePod,
  findingKey,
  PROBLEM_LABELS,
  samePodFinding,
  type PodFinding,
} from '../core/audit/pods.js';
import { createPodTrimmer } from '../core/audit/pod-trim.js';
import type { ConfigProvider } from '../core/contracts.js';
import { createInformer, type BackoffOptions, type ResilientInformer } from './informer.js';
import { requestOptions } from './kubeconfig.js';

/** Pods per list page: the API server's own recommendation for large lists is 500. */
export const PAGE_SIZE = 500;
export const DEFAULT_AUDIT_INTERVAL_MS = 15_000;
export const DEFAULT_MIN_INTERVAL_MS = 5_000;
/** Pods evaluated per event-loop turn (about a millisecond of work). */
export const DEFAULT_BATCH_SIZE = 1_000;
export const DEFAULT_MAX_NAMESPACES = 50;

type PageFetcher = (
  continueToken: string | undefined,
) => Promise<{ items: V1Pod[]; metadata?: V1ListMeta }>;

/**
 * A list function reading every page and trimming each page before the next is fetched. The
 * resourceVersion of the result is the snapshot of the paged list (the same on every page,
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks).
 */
export function pagedPodList(
  fetchPage: PageFetcher,
  trim: (pod: V1Pod) => V1Pod,
): () => Promise<KubernetesListObject<V1Pod>> {
  return async () => {
    const items: V1Pod[] = [];
    let token: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await fetchPage(token);
      for (const pod of page.items) items.push(trim(pod));
      const meta = page.metadata;
      resourceVersion = meta?.resourceVersion ?? resourceVersion;
      token = meta?._continue === '' ? undefined : meta?._continue;
    } while (token !== undefined);
    return {
      apiVersion: 'v1',
      kind: 'PodList',
      metadata: resourceVersion === undefined ? {} : { resourceVersion },
      items,
    };
  };
}

/** The core trimmer, typed for client-node's V1Pod (both are the same JSON). */
export function createV1PodTrimmer(maxInterned?: number): (pod: V1Pod) => V1Pod {
  const trim = createPodTrimmer(maxInterned);
  return (pod) => trim(pod as unknown as Pod) as unknown as V1Pod;
}

export interface PodEventsOptions {
  /** Events on the owning workload; off by default (needs `create` on events). */
  enabled: boolean;
  /** At most this many Events per minute, whatever the number of findings. */
  perMinute?: number;
}

export interface PodAuditOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  registry: Registry;
  config: ConfigProvider;
  /** Namespace labels from the namespace cache; undefined while unknown. */
  namespace: (name: string) => NamespaceInfo | undefined;
  /** Whether the namespace cache has synced (before that, nothing is judged). */
  namespacesSynced: () => boolean;
  intervalMs?: number;
  minIntervalMs?: number;
  batchSize?: number;
  maxNamespaces?: number;
  events?: PodEventsOptions;
  backoff?: BackoffOptions;
  onRestart?: () => void;
  /** A ready-made pod cache instead of the API informer (the memory benchmark feeds its own). */
  informer?: ResilientInformer<V1Pod>;
  /** The cluster's ProxyConfig resources now (they can set the proxy image type). */
  proxyConfigs?: () => ProxyConfigSet;
  /** Revision tags learned from the cluster (src/k8s/webhook-configurations.ts). */
  revisionTags?: () => readonly string[];
}

export interface PodAudit {
  informer: ResilientInformer<V1Pod>;
  /** The findings of the last completed evaluation. */
  findings(): PodFinding[];
  /** Runs an evaluation now (or joins the running one) and returns its findings. */
  evaluate(): Promise<PodFinding[]>;
  start(): void;
  stop(): Promise<void>;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createPodAudit(opts: PodAuditOptions): PodAudit {
  const log = opts.logger.child({ component: 'pod-audit' });
  const api = opts.kubeConfig.makeApiClient(CoreV1Api);
  const trim = createV1PodTrimmer();
  const informer =
    opts.informer ??
    createInformer<V1Pod>({
      name: 'pods',
      path: '/api/v1/pods',
      kubeConfig: opts.kubeConfig,
      list: pagedPodList(
        (token) =>
          api.listPodForAllNamespaces(
            { limit: PAGE_SIZE, ...(token === undefined ? {} : { _continue: token }) },
            requestOptions({}),
          ),
        trim,
      ),
      transform: trim,
      logger: opts.logger,
      ...(opts.backoff === undefined ? {} : { backoff: opts.backoff }),
      ...(opts.onRestart === undefined ? {} : { onRestart: opts.onRestart }),
    });

  const { missing, stale, pods: evaluated, duration } = podAuditMetrics(opts.registry);

  const intervalMs = opts.intervalMs ?? DEFAULT_AUDIT_INTERVAL_MS;
  const minIntervalMs = opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxNamespaces = opts.maxNamespaces ?? DEFAULT_MAX_NAMESPACES;
  const events = createEventSink(api, log, opts.events);
  let current = new Map<string, PodFinding>();
  let running: Promise<PodFinding[]> | undefined;
  let lastRunAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  /** Set by stop(): a run in progress ends at its next slice. */
  let closed = false;

  async function run(): Promise<PodFinding[]> {
    if (!informer.synced() || !opts.namespacesSynced()) return [...current.values()];
    const started = performance.now();
    const config = opts.config.current();
    const proxyConfigs = opts.proxyConfigs?.();
    const revisionTags = opts.revisionTags?.() ?? [];
    const pods = informer.list();
    const found: PodFinding[] = [];
    for (let i = 0; i < pods.length; i += batchSize) {
      if (i > 0) await yieldToLoop();
      if (closed) return [...current.values()];
      for (const pod of pods.slice(i, i + batchSize)) {
        const p = pod as unknown as Pod;
        const namespace = opts.namespace(p.metadata?.namespace ?? '');
        const finding = evaluatePod(p, namespace, config, proxyConfigs, revisionTags);
        if (finding !== undefined) found.push(finding);
      }
    }
    const diff = diffFindings(current, found, findingKey, samePodFinding);
    current = diff.current;
    for (const f of diff.added) log.warn(logFields(f), `pod ${f.problem}`);
    for (const f of diff.changed) log.warn(logFields(f), `pod ${f.problem} (changed)`);
    for (const f of diff.cleared) log.info(logFields(f), `pod ${f.problem} cleared`);
    // Reset and set in one synchronous step: a scrape never sees a half-updated set.
    missing.reset();
    stale.reset();
    for (const c of countFindings(found, maxNamespaces)) {
      if (c.metric === 'missing') {
        missing.set({ namespace: c.namespace, owner_kind: c.ownerKind }, c.count);
      } else {
        stale.set({ namespace: c.namespace, owner_kind: c.ownerKind, reason: c.reason }, c.count);
      }
    }
    evaluated.set(pods.length);
    duration.set((performance.now() - started) / 1000);
    events.report(diff.added.concat(diff.changed));
    return found;
  }

  function evaluate(): Promise<PodFinding[]> {
    if (running !== undefined) return running;
    lastRunAt = Date.now();
    running = run()
      .catch((err: unknown) => {
        log.error({ err }, 'pod audit failed');
        return [...current.values()];
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  /** Timer tick: at most one run per minIntervalMs, whatever triggered it. */
  function tick(): void {
    if (stopped) return;
    const wait = lastRunAt + minIntervalMs - Date.now();
    if (wait <= 0) void evaluate();
    schedule(Math.max(wait, 0) || intervalMs);
  }

  function schedule(ms: number): void {
    clearTimeout(timer);
    timer = setTimeout(tick, ms);
    timer.unref();
  }

  return {
    informer,
    findings: () => [...current.values()],
    evaluate,
    start(): void {
      if (!stopped) return;
      stopped = false;
      informer.start();
      // First run as soon as both caches are synced, then on the interval.
      void Promise.resolve(informer.whenSynced()).then(() => {
        if (!stopped) schedule(0);
      });
    },
    async stop(): Promise<void> {
      stopped = true;
      closed = true;
      clearTimeout(timer);
      events.stop();
      await informer.stop();
      await running;
    },
  };
}

function logFields(f: PodFinding): Record<string, unknown> {
  return {
    namespace: f.namespace,
    // Not `pod`: the logger redacts a top-level `pod` (src/logging/logger.ts), as a pod object.
    podName: f.pod,
    workload: `${f.workload.kind}/${f.workload.name}`,
    reason: f.reason,
    fix: f.fix,
  };
}

const WORKLOAD_API_VERSIONS: Readonly<Record<string, string>> = Object.freeze({
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  Pod: 'v1',
});

interface EventSink {
  report(findings: PodFinding[]): void;
  stop(): void;
}

/**
 * Events on the owning workloads: one per workload and problem per run (a Deployment with 300
 * uninjected pods gets one Event, not 300), at most `perMinute` per minute; the rest are dropped
 * and counted in the log, since the metrics and `check --cluster` already list every pod.
 */
function createEventSink(
  api: CoreV1Api,
  log: Logger,
  options: PodEventsOptions | undefined,
): EventSink {
  if (options?.enabled !== true) return { report: () => undefined, stop: () => undefined };
  const perMinute = options.perMinute ?? 10;
  let windowStart = Date.now();
  let sent = 0;
  let stopped = false;
  return {
    report(findings: PodFinding[]): void {
      if (stopped || findings.length === 0) return;
      const byWorkload = new Map<string, PodFinding[]>();
      for (const f of findings) {
        const key = `${f.namespace}/${f.workload.kind}/${f.workload.name}/${f.problem}`;
        const list = byWorkload.get(key) ?? [];
        list.push(f);
        byWorkload.set(key, list);
      }
      let dropped = 0;
      for (const group of byWorkload.values()) {
        const now = Date.now();
        if (now - windowStart >= 60_000) {
          windowStart = now;
          sent = 0;
        }
        if (sent >= perMinute) {
          dropped += 1;
          continue;
        }
        sent += 1;
        void createEvent(api, group).catch((err: unknown) => {
          log.warn({ err }, 'could not create an Event for a pod audit finding');
        });
      }
      if (dropped > 0) log.info({ dropped, perMinute }, 'pod audit Events rate-limited');
    },
    stop(): void {
      stopped = true;
    },
  };
}

async function createEvent(api: CoreV1Api, group: PodFinding[]): Promise<void> {
  const first = group[0];
  if (first === undefined) return;
  const now = new Date();
  const pods = group.map((f) => f.pod);
  const shown = pods.slice(0, 5).join(', ') + (pods.length > 5 ? `, +${pods.length - 5} more` : '');
  const reason = PROBLEM_LABELS[first.problem].eventReason;
  const body: CoreV1Event = {
    metadata: { generateName: `${first.workload.name}.sidecar-audit.`, namespace: first.namespace },
    involvedObject: {
      kind: first.workload.kind,
      name: first.workload.name,
      namespace: first.namespace,
      apiVersion: WORKLOAD_API_VERSIONS[first.workload.kind] ?? '',
    },
    type: 'Warning',
    reason,
    message: `${pods.length} pod(s) (${shown}): ${first.reason}. Fix: ${first.fix}`.slice(0, 1024),
    source: { component: 'sidecar-injector' },
    reportingComponent: 'sidecar-injector',
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  await api.createNamespacedEvent(
    { namespace: first.namespace, body },
    requestOptions({ signal: AbortSignal.timeout(5_000) }),
  );
}
