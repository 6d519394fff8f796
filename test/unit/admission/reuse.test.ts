/**
 * The reused answer (src/admission/reuse.ts) is the whole path's answer, byte for byte, with the
 * same log line and metrics, for generated pods sent again under new uids; and a body that differs
 * anywhere else, or inputs that changed, take the whole path. `REVIEW_REUSE_PODS` sets how many
 * generated pods (CI: 10 000), `REVIEW_REUSE_SEED` the seed (CI: the tree hash of src/).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type {
  ConfigProvider,
  NamespaceLookupResult,
  NamespaceResolver,
} from '../../../src/core/contracts.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import type { InjectionConfig } from '../../../src/core/config/types.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { createLogger } from '../../../src/logging/logger.js';
import { createMetrics, type InjectorMetrics } from '../../../src/metrics/registry.js';
import { reviewHandler, type ReviewHandler, type RouteOptions } from '../../../src/http/routes.js';
import type { InjectorApp } from '../../../src/http/types.js';
import { generatePod, rng, seedFrom } from '../../helpers/generated-pods.js';

const PODS = Number(process.env.REVIEW_REUSE_PODS ?? '1000');
const SEED = seedFrom(process.env.REVIEW_REUSE_SEED ?? 'review-reuse');

/** A managedFields entry as the API server writes it, at `time`. */
function managed(time: string) {
  return {
    manager: 'kube-controller-manager',
    operation: 'Update',
    apiVersion: 'v1',
    time,
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:labels': { '.': {} } }, 'f:spec': { 'f:containers': {} } },
  };
}

/** A second of one day, as metav1.Time writes it. */
function timeAt(second: number): string {
  const hms = [Math.floor(second / 3600) % 24, Math.floor(second / 60) % 60, second % 60];
  return `2026-11-20T${hms.map((n) => String(n).padStart(2, '0')).join(':')}Z`;
}

/**
 * A body as the API server writes it: kind, apiVersion, then request with uid first; with
 * `times`, the pod carries managedFields entries at those times.
 */
function body(
  pod: Pod,
  uid: string,
  extra: { dryRun?: boolean; namespace?: string; times?: string[] } = {},
): Buffer {
  const object =
    extra.times === undefined
      ? pod
      : { ...pod, metadata: { ...pod.metadata, managedFields: extra.times.map(managed) } };
  return Buffer.from(
    JSON.stringify({
      kind: 'AdmissionReview',
      apiVersion: 'admission.k8s.io/v1',
      request: {
        uid,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        requestKind: { group: '', version: 'v1', kind: 'Pod' },
        requestResource: { group: '', version: 'v1', resource: 'pods' },
        namespace: extra.namespace ?? 'default',
        operation: 'CREATE',
        userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
        object,
        oldObject: null,
        dryRun: extra.dryRun ?? false,
        options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
      },
    }),
    'utf8',
  );
}

interface Harness {
  handler: ReviewHandler;
  lines: () => string[];
  metrics: InjectorMetrics;
}

function harness(opts: Partial<RouteOptions> & { config: ConfigProvider }): Harness {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  const log = createLogger({ level: 'info', destination });
  const metrics = createMetrics();
  const app = { log } as unknown as InjectorApp;
  const handler = reviewHandler(app, { metrics, ...opts }, () => performance.now());
  return { handler, metrics, lines: () => text.split('\n').filter(Boolean) };
}

const staticConfig = (config: InjectionConfig): ConfigProvider => ({
  current: () => config,
  ready: () => true,
  close: () => Promise.resolve(),
});

/**
 * The whole path's answer to `raw` (the body parsed, the review run); with `remember`, the answer
 * is remembered for the body, as the direct route does.
 */
function whole(h: Harness, raw: Buffer, reqId: string, remember = false): string {
  const answer = h.handler({
    body: JSON.parse(raw.toString('utf8')) as unknown,
    ...(remember ? { raw, text: raw.toString('utf8') } : {}),
    url: '/inject?timeout=10s',
    timeout: '10s',
    started: performance.now(),
    reqId,
    log: () => {
      throw new Error('no request log expected');
    },
  });
  if (typeof answer !== 'string') throw new Error('expected an answer without waiting');
  return answer;
}

const remember = (h: Harness, raw: Buffer, reqId: string): string => whole(h, raw, reqId, true);

function reused(h: Harness, raw: Buffer, reqId: string): string | undefined {
  return h.handler.fromBody(raw, {
    url: '/inject?timeout=10s',
    timeout: '10s',
    started: performance.now(),
    reqId,
  });
}

const opt = (times: string[] | undefined) => (times === undefined ? {} : { times });

const withoutDuration = (line: string) => line.replace(/,"durationMs":[0-9.e+-]+/, '');
const withoutTime = (line: string) => line.replace(/,"time":"[^"]*"/, '');

describe('review reuse: the whole path answer, for a body seen before but for its uid', () => {
  it(
    `${PODS} generated pods (seed ${SEED}), each sent again under a new uid (half at other managedFields times)`,
    { timeout: 3_600_000 },
    () => {
      const config = defaultInjectionConfig();
      const ours = harness({ config: staticConfig(config) });
      const reference = harness({ config: staticConfig(config) });
      let hits = 0;
      let injected = 0;
      let timedCount = 0;
      for (let i = 0; i < PODS; i++) {
        const seed = (SEED + i) >>> 0;
        const r = rng(seed ^ 0x2545f491);
        const pod = generatePod(seed, { payloadRate: 0.05 });
        const dryRun = r() < 0.1;
        // Half of them as pods of other seconds: managedFields at other times (1 or 2 entries).
        const timed = r() < 0.5;
        const entries = r() < 0.5 ? 1 : 2;
        const times = (base: number) =>
          timed ? Array.from({ length: entries }, (_, k) => timeAt(base + k * 7)) : undefined;
        const first = body(pod, `uid-${i}-a`, { dryRun, ...opt(times(i)) });
        const again = body(pod, `${seed.toString(16)}-${i}-b`, {
          dryRun,
          ...opt(times(i + 4321)),
        });
        if (timed) timedCount++;
        remember(ours, first, `req-a${i}`);
        const answer = reused(ours, again, `req-b${i}`);
        const expected = whole(reference, again, `req-b${i}`);
        if (expected.includes('"patch"')) injected++;
        if (answer === undefined) continue;
        hits++;
        expect(answer).toBe(expected);
        // The log line: the whole path's, but for the time and the duration.
        const line = ours.lines().at(-1) ?? '';
        const referenceLine = reference.lines().at(-1) ?? '';
        expect(withoutTime(withoutDuration(line))).toBe(
          withoutTime(withoutDuration(referenceLine)),
        );
      }
      console.log(
        `review reuse proof: ${PODS} generated pods (${timedCount} at other managedFields times), ${injected} injected, ${hits} reused`,
      );
      // Every injected pod's answer is reused; the others (skipped, refused) never are.
      expect(hits).toBe(injected);
      expect(timedCount).toBeGreaterThan(PODS / 4);
      expect(injected).toBeGreaterThan(PODS / 4);
    },
  );

  it('counts a reused review in the metrics as the whole path does', async () => {
    const config = defaultInjectionConfig();
    const ours = harness({ config: staticConfig(config) });
    const reference = harness({ config: staticConfig(config) });
    const pod = generatePod(7);
    remember(ours, body(pod, 'a'), 'req-1');
    whole(reference, body(pod, 'a'), 'req-1');
    for (let i = 0; i < 5; i++) {
      expect(reused(ours, body(pod, `b${i}`), `req-${i + 2}`)).toBeDefined();
      whole(reference, body(pod, `b${i}`), `req-${i + 2}`);
    }
    const counters = async (m: InjectorMetrics) =>
      (await m.registry.metrics())
        .split('\n')
        .filter((l) => /^sidecar_injection_(success|skip|failure)/.test(l));
    expect(await counters(ours.metrics)).toEqual(await counters(reference.metrics));
    expect((await counters(ours.metrics)).join('\n')).toMatch(/ 6$/m);
  });

  it('a body that differs anywhere but the uid takes the whole path (generated positions)', () => {
    const config = defaultInjectionConfig();
    const ours = harness({ config: staticConfig(config) });
    let checked = 0;
    for (let i = 0; i < 200; i++) {
      const pod = generatePod((SEED + i) >>> 0);
      const first = body(pod, 'uid-a');
      if (!remember(ours, first, 'r').includes('"patch"')) continue;
      const r = rng(i);
      const uidEnd = first.indexOf('"', first.indexOf('"uid":"') + 7);
      const at = uidEnd + 1 + Math.floor(r() * (first.length - uidEnd - 1));
      const changed = Buffer.from(first);
      changed[at] = (changed[at] as number) === 0x41 ? 0x42 : 0x41;
      expect(reused(ours, changed, 'r')).toBeUndefined();
      // A byte more or less too.
      expect(reused(ours, Buffer.concat([first, Buffer.from(' ')]), 'r')).toBeUndefined();
      expect(reused(ours, first.subarray(0, first.length - 1), 'r')).toBeUndefined();
      // And the same body is still answered.
      expect(reused(ours, body(pod, 'uid-b'), 'r')).toBeDefined();
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('reuses across managedFields times only for times the API server writes', () => {
    const config = defaultInjectionConfig();
    const ours = harness({ config: staticConfig(config) });
    const reference = harness({ config: staticConfig(config) });
    const pod = generatePod(11);
    remember(ours, body(pod, 'a', { times: [timeAt(1), timeAt(2)] }), 'r');
    const later = body(pod, 'b', { times: [timeAt(5000), timeAt(6000)] });
    expect(reused(ours, later, 'r')).toBe(whole(reference, later, 'r'));
    // Not a time of that shape (same length), a longer time, another entry, another field's value.
    for (const times of [
      ['2026-11-20T00:00:0xZ', timeAt(2)],
      [timeAt(1), '2026-11-20 00:00:02Z'],
      ['2026-11-20T00:00:01.5Z', timeAt(2)],
      [timeAt(1)],
      [timeAt(1), timeAt(2), timeAt(3)],
    ]) {
      expect(reused(ours, body(pod, 'c', { times }), 'r')).toBeUndefined();
    }
    const renamed = body({ ...pod, metadata: { ...pod.metadata, generateName: 'other-' } }, 'd', {
      times: [timeAt(1), timeAt(2)],
    });
    expect(reused(ours, renamed, 'r')).toBeUndefined();
  });

  it('takes the whole path when the configuration, namespace or uid is not the one remembered', () => {
    let config = defaultInjectionConfig();
    let labels: Record<string, string> = { 'istio-injection': 'enabled' };
    const namespaces: NamespaceResolver = {
      resolve: () => Promise.resolve(lookup()),
      resolveCached: () => lookup(),
    };
    const lookup = (): NamespaceLookupResult => ({
      namespace: { name: 'default', labels: { ...labels }, annotations: {} },
      source: 'cache',
    });
    const ours = harness({
      config: { current: () => config, ready: () => true, close: () => Promise.resolve() },
      namespaces,
    });
    const pod = generatePod(3);
    remember(ours, body(pod, 'a'), 'r');
    expect(reused(ours, body(pod, 'b'), 'r')).toBeDefined();
    // The namespace's labels changed: the answer may differ.
    labels = { 'istio-injection': 'disabled' };
    expect(reused(ours, body(pod, 'c'), 'r')).toBeUndefined();
    labels = { 'istio-injection': 'enabled' };
    expect(reused(ours, body(pod, 'd'), 'r')).toBeDefined();
    // A new configuration object.
    config = { ...config };
    expect(reused(ours, body(pod, 'e'), 'r')).toBeUndefined();
    // A uid that is not a plain token is never taken from the body.
    remember(ours, body(pod, 'a'), 'r');
    expect(reused(ours, body(pod, 'x"y'), 'r')).toBeUndefined();
    expect(reused(ours, body(pod, 'x\\u0041'), 'r')).toBeUndefined();
    expect(reused(ours, body(pod, 'ok-1'), 'r')).toBeDefined();
  });
});
