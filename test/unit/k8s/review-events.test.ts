import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { CoreV1Event } from '@kubernetes/client-node';
import {
  createReviewEvents,
  type EventWriter,
  type ReviewEventInput,
  type ReviewEvents,
} from '../../../src/k8s/review-events.js';
import { reviewEventMetrics } from '../../../src/metrics/registry.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { FakeApiServer } from '../../e2e/fake-apiserver.js';
import { startClusterRuntime, type ClusterRuntime } from '../../../src/k8s/runtime.js';
import { FAST_BACKOFF, memoryLogger, tempDir } from '../../helpers/async.js';

class RecordingWriter implements EventWriter {
  readonly created: { namespace: string; event: CoreV1Event }[] = [];
  readonly updates: { name: string; count: number }[] = [];
  fail: { code: number } | undefined;
  create(namespace: string, event: CoreV1Event): Promise<string> {
    if (this.fail) return Promise.reject(Object.assign(new Error('nope'), this.fail));
    this.created.push({ namespace, event });
    return Promise.resolve(`ev-${this.created.length}`);
  }
  update(_ns: string, name: string, count: number): Promise<void> {
    if (this.fail) return Promise.reject(Object.assign(new Error('nope'), this.fail));
    this.updates.push({ name, count });
    return Promise.resolve();
  }
}

const replicaSetPod = (i: number, rs = 'web-7d9f8b'): Pod => ({
  metadata: {
    generateName: `${rs}-`,
    labels: { 'pod-template-hash': '7d9f8b' },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `uid-${rs}`, controller: true },
    ],
    ...(i % 2 === 0 ? {} : { name: `${rs}-p${i}` }),
  },
  spec: { containers: [{ name: 'app' }] },
});

const skip = (pod: Pod, reason = 'policy-disabled'): ReviewEventInput => ({
  namespace: 'shop',
  pod,
  decision: 'skipped',
  reason,
  message: 'injection policy is disabled',
});

describe('review Events', () => {
  let events: ReviewEvents | undefined;
  afterEach(async () => {
    await events?.stop();
    events = undefined;
  });

  function make(
    writer: EventWriter,
    extra: Partial<Parameters<typeof createReviewEvents>[0]> = {},
  ): { events: ReviewEvents; log: ReturnType<typeof memoryLogger>; registry: Registry } {
    const log = memoryLogger();
    const registry = new Registry();
    events = createReviewEvents({
      writer,
      logger: log.logger,
      counter: reviewEventMetrics(registry).events,
      flushMs: 60_000,
      ...extra,
    });
    return { events, log, registry };
  }

  it('aggregates many pods of one workload into one Event on its owner, then raises its count', async () => {
    const writer = new RecordingWriter();
    const { events } = make(writer);
    for (let i = 0; i < 100; i += 1) events.report(skip(replicaSetPod(i)));
    // report() writes nothing by itself.
    expect(writer.created).toEqual([]);
    await events.flush();
    expect(writer.created).toHaveLength(1);
    const ev = writer.created[0]?.event;
    expect(ev?.involvedObject).toEqual({
      kind: 'ReplicaSet',
      name: 'web-7d9f8b',
      apiVersion: 'apps/v1',
      uid: 'uid-web-7d9f8b',
      namespace: 'shop',
    });
    expect(ev).toMatchObject({ type: 'Normal', reason: 'SidecarInjectionSkipped', count: 100 });
    expect(ev?.message).toMatch(
      /^100 pod\(s\) of Deployment\/web \(web-7d9f8b-\*, web-7d9f8b-p1, .*, \.\.\.\) not injected: policy-disabled: injection policy is disabled$/,
    );
    for (let i = 0; i < 3; i += 1) events.report(skip(replicaSetPod(i)));
    await events.flush();
    expect(writer.created).toHaveLength(1);
    expect(writer.updates).toEqual([{ name: 'ev-1', count: 103 }]);
  });

  it('denials are Warnings, one per reason', async () => {
    const writer = new RecordingWriter();
    const { events } = make(writer);
    events.report({
      ...skip(replicaSetPod(1)),
      decision: 'denied',
      reason: 'INJ_ERR_INVALID_ANNOTATION',
    });
    events.report(skip(replicaSetPod(1)));
    await events.flush();
    expect(writer.created.map((c) => [c.event.type, c.event.reason])).toEqual([
      ['Warning', 'SidecarInjectionDenied'],
      ['Normal', 'SidecarInjectionSkipped'],
    ]);
  });

  it('the batch is bounded: distinct workloads beyond it are dropped and counted', async () => {
    const writer = new RecordingWriter();
    const { events, registry } = make(writer, { maxPending: 3 });
    for (let i = 0; i < 10; i += 1) events.report(skip(replicaSetPod(1, `rs-${i}`)));
    await events.flush();
    expect(writer.created).toHaveLength(3);
    const metric = await registry.getSingleMetric('sidecar_injector_review_events_total')?.get();
    const byResult: Record<string, number> = {};
    for (const v of metric?.values ?? []) byResult[String(v.labels.result)] = v.value;
    expect(byResult).toEqual({ dropped: 7, sent: 3 });
  });

  it('writes at most perMinute Events a minute; the rest wait for the next window', async () => {
    const writer = new RecordingWriter();
    let t = 1_000_000;
    const { events } = make(writer, { perMinute: 2, now: () => t });
    for (let i = 0; i < 5; i += 1) events.report(skip(replicaSetPod(1, `rs-${i}`)));
    await events.flush();
    expect(writer.created).toHaveLength(2);
    await events.flush();
    expect(writer.created).toHaveLength(2);
    t += 60_000;
    await events.flush();
    expect(writer.created).toHaveLength(4);
  });

  it('forbidden: one warning, then no writes until the pause is over', async () => {
    const writer = new RecordingWriter();
    writer.fail = { code: 403 };
    let t = 1_000_000;
    const { events, log } = make(writer, { now: () => t, forbiddenPauseMs: 300_000 });
    events.report(skip(replicaSetPod(1)));
    await events.flush();
    writer.fail = undefined;
    events.report(skip(replicaSetPod(1, 'other')));
    await events.flush();
    expect(writer.created).toEqual([]);
    expect(
      log.lines().filter((l) => String(l.msg).startsWith('cannot create Events')),
    ).toHaveLength(1);
    t += 300_000;
    events.report(skip(replicaSetPod(1, 'third')));
    await events.flush();
    expect(writer.created).toHaveLength(1);
  });

  it('a bare pod is reported on itself', async () => {
    const writer = new RecordingWriter();
    const { events } = make(writer);
    events.report(skip({ metadata: { name: 'solo' }, spec: { containers: [{ name: 'a' }] } }));
    await events.flush();
    expect(writer.created[0]?.event.involvedObject).toEqual({
      kind: 'Pod',
      name: 'solo',
      apiVersion: 'v1',
      namespace: 'shop',
    });
  });
});

describe('review Events through the cluster runtime', () => {
  let api: FakeApiServer;
  let runtime: ClusterRuntime | undefined;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  afterEach(async () => {
    await runtime?.stop();
    await api.stop();
    await dir.cleanup();
  });

  it('are POSTed to the namespace of the pod', async () => {
    api = new FakeApiServer();
    await api.start();
    dir = await tempDir();
    runtime = await startClusterRuntime({
      kubeconfigPath: await api.writeKubeconfig(dir.path),
      istioNamespace: 'istio-system',
      revision: 'default',
      nativeSidecars: 'disabled',
      logger: memoryLogger().logger,
      registry: new Registry(),
      backoff: FAST_BACKOFF,
      events: true,
    });
    expect(runtime.events).toBeDefined();
    runtime.events?.report(skip(replicaSetPod(1)));
    await runtime.events?.flush();
    expect(api.events).toHaveLength(1);
    expect(api.events[0]).toMatchObject({
      reason: 'SidecarInjectionSkipped',
      involvedObject: { kind: 'ReplicaSet', name: 'web-7d9f8b' },
    });
  });
});
