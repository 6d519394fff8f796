/**
 * Kubernetes Events about pods the webhook skipped or denied, on the pod's owner (the ReplicaSet,
 * Job, StatefulSet... named in its controller ownerReference, with its uid so `kubectl describe`
 * shows them), as Linkerd's injector reports skips. Never on the request path: `report()` only
 * counts into a bounded map; a timer writes at most `perMinute` Events per minute. A workload
 * whose pods keep being skipped for the same reason gets one Event whose `count` rises (as the
 * kubelet's event correlator does), not one per pod. Forbidden (no RBAC): one warning, then
 * nothing is sent for a while. Event fields: https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/
 */
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { workloadOf } from '../core/audit/pods.js';
import type { Pod } from '../core/pod-types.js';
import { requestOptions, statusCodeOf } from './kubeconfig.js';

export interface ReviewEventInput {
  /** `request.namespace`. */
  namespace: string;
  pod: Pod | undefined;
  decision: 'skipped' | 'denied';
  /** Skip reason or error code. */
  reason: string;
  message: string;
}

export interface ReviewEvents {
  /** O(1), no I/O: counts the review into the pending batch (or drops it when the batch is full). */
  report(input: ReviewEventInput): void;
  /** Writes what is pending now (tests; the timer calls it). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** The API calls, so the batching is testable without a server. */
export interface EventWriter {
  create(namespace: string, event: CoreV1Event): Promise<string>;
  /** Sets `count` and `lastTimestamp` of an Event this writer created. */
  update(namespace: string, name: string, count: number, last: Date): Promise<void>;
}

export interface ReviewEventsOptions {
  writer: EventWriter;
  logger: Logger;
  counter?: Counter<'result'>;
  /** Between batches. */
  flushMs?: number;
  /** At most this many API writes per minute; the rest wait in the batch (bounded). */
  perMinute?: number;
  /** Distinct (workload, decision, reason) keys held at once; further reviews are dropped. */
  maxPending?: number;
  /** An Event is updated instead of created again within this time. */
  reuseMs?: number;
  /** After a 403: no writes for this long. */
  forbiddenPauseMs?: number;
  now?: () => number;
}

interface Involved {
  kind: string;
  name: string;
  apiVersion: string;
  uid?: string;
}

interface Pending {
  namespace: string;
  involved: Involved;
  decision: 'skipped' | 'denied';
  reason: string;
  message: string;
  pods: Set<string>;
  count: number;
  /** Named workload (the Deployment behind a ReplicaSet) for the message. */
  workload: string;
}

interface Sent {
  name: string;
  count: number;
  at: number;
}

const MAX_MESSAGE = 1024;
const MAX_PODS_NAMED = 5;

function involvedOf(input: ReviewEventInput): { involved: Involved; workload: string } {
  const pod = input.pod;
  const refs = pod?.metadata?.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller === true) ?? refs[0];
  const named = pod === undefined ? undefined : workloadOf(pod).workload;
  if (ref?.kind !== undefined && ref.name !== undefined) {
    return {
      involved: {
        kind: ref.kind,
        name: ref.name,
        apiVersion: ref.apiVersion ?? '',
        ...(ref.uid === undefined ? {} : { uid: ref.uid }),
      },
      workload: named === undefined ? `${ref.kind}/${ref.name}` : `${named.kind}/${named.name}`,
    };
  }
  const name = pod?.metadata?.name || pod?.metadata?.generateName || '(unnamed)';
  return { involved: { kind: 'Pod', name, apiVersion: 'v1' }, workload: `Pod/${name}` };
}

const podName = (pod: Pod | undefined): string =>
  pod?.metadata?.name || (pod?.metadata?.generateName ? `${pod.metadata.generateName}*` : '');

export function createReviewEvents(opts: ReviewEventsOptions): ReviewEvents {
  const log = opts.logger.child({ component: 'review-events' });
  const now = opts.now ?? Date.now;
  const flushMs = opts.flushMs ?? 5_000;
  const perMinute = opts.perMinute ?? 30;
  const maxPending = opts.maxPending ?? 500;
  const reuseMs = opts.reuseMs ?? 10 * 60_000;
  const forbiddenPauseMs = opts.forbiddenPauseMs ?? 5 * 60_000;
  const pending = new Map<string, Pending>();
  const sent = new Map<string, Sent>();
  let windowStart = now();
  let written = 0;
  let dropped = 0;
  let pausedUntil = 0;
  let stopped = false;
  let flushing: Promise<void> | undefined;

  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  function report(input: ReviewEventInput): void {
    // While forbidden, nothing would be written: keep nothing.
    if (stopped || (pausedUntil !== 0 && now() < pausedUntil)) return;
    const { involved, workload } = involvedOf(input);
    const key = `${input.namespace}\u0000${involved.kind}\u0000${involved.name}\u0000${input.decision}\u0000${input.reason}`;
    let entry = pending.get(key);
    if (entry === undefined) {
      if (pending.size >= maxPending) {
        dropped += 1;
        opts.counter?.inc({ result: 'dropped' });
        return;
      }
      entry = {
        namespace: input.namespace,
        involved,
        decision: input.decision,
        reason: input.reason,
        message: input.message,
        pods: new Set(),
        count: 0,
        workload,
      };
      pending.set(key, entry);
    }
    entry.count += 1;
    entry.message = input.message;
    const name = podName(input.pod);
    if (name !== '' && entry.pods.size < MAX_PODS_NAMED) entry.pods.add(name);
  }

  function flush(): Promise<void> {
    flushing ??= writeBatch().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  async function writeBatch(): Promise<void> {
    if (pending.size === 0 && dropped === 0) return;
    if (dropped > 0) {
      log.info(
        { dropped, maxPending },
        'review Events dropped: too many distinct workloads at once',
      );
      dropped = 0;
    }
    const t = now();
    if (t < pausedUntil) return;
    if (t - windowStart >= 60_000) {
      windowStart = t;
      written = 0;
    }
    for (const [key, entry] of pending) {
      if (stopped) return;
      if (written >= perMinute) {
        // Kept for the next window; the map bound keeps the memory bounded meanwhile.
        return;
      }
      pending.delete(key);
      written += 1;
      try {
        await write(key, entry, new Date(now()));
        opts.counter?.inc({ result: 'sent' });
      } catch (err) {
        opts.counter?.inc({ result: 'failed' });
        if (statusCodeOf(err) === 403) {
          pausedUntil = now() + forbiddenPauseMs;
          pending.clear();
          log.warn(
            { pauseMs: forbiddenPauseMs },
            'cannot create Events (forbidden): grant create and patch on events (the chart does), or run with --events=off',
          );
          return;
        }
        log.warn(
          { err, namespace: entry.namespace, involved: entry.involved.name },
          'could not write a review Event',
        );
      }
    }
  }

  async function write(key: string, entry: Pending, at: Date): Promise<void> {
    const previous = sent.get(key);
    if (previous !== undefined && at.getTime() - previous.at < reuseMs) {
      const count = previous.count + entry.count;
      await opts.writer.update(entry.namespace, previous.name, count, at);
      sent.set(key, { ...previous, count });
      return;
    }
    const verb = entry.decision === 'skipped' ? 'not injected' : 'denied';
    const pods = [...entry.pods].join(', ');
    const more = entry.count > entry.pods.size && pods !== '' ? ', ...' : '';
    const message =
      `${entry.count} pod(s) of ${entry.workload}${pods === '' ? '' : ` (${pods}${more})`} ${verb}: ${entry.reason}: ${entry.message}`.slice(
        0,
        MAX_MESSAGE,
      );
    const name = await opts.writer.create(entry.namespace, {
      metadata: {
        generateName: `${entry.involved.name.slice(0, 200)}.sidecar-injector.`,
        namespace: entry.namespace,
      },
      involvedObject: { ...entry.involved, namespace: entry.namespace },
      type: entry.decision === 'skipped' ? 'Normal' : 'Warning',
      reason: entry.decision === 'skipped' ? 'SidecarInjectionSkipped' : 'SidecarInjectionDenied',
      message,
      source: { component: 'sidecar-injector' },
      reportingComponent: 'sidecar-injector',
      firstTimestamp: at,
      lastTimestamp: at,
      count: entry.count,
    });
    sent.set(key, { name, count: entry.count, at: at.getTime() });
    // Bounded: forget the oldest correlations first (Map keeps insertion order).
    while (sent.size > maxPending) sent.delete(sent.keys().next().value as string);
  }

  return {
    report,
    flush,
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await flushing;
    },
  };
}

/** The writer on the real API server: create, and a JSON patch of count and lastTimestamp. */
export function apiEventWriter(kubeConfig: KubeConfig): EventWriter {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const options = () => requestOptions({ signal: AbortSignal.timeout(5_000) });
  return {
    async create(namespace, event) {
      const created = await api.createNamespacedEvent({ namespace, body: event }, options());
      return created.metadata?.name ?? '';
    },
    async update(namespace, name, count, last) {
      await api.patchNamespacedEvent(
        {
          name,
          namespace,
          body: [
            { op: 'replace', path: '/count', value: count },
            { op: 'replace', path: '/lastTimestamp', value: last.toISOString() },
          ],
        },
        options(),
      );
    },
  };
}
