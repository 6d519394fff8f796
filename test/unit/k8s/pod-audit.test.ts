import { describe, expect, it } from 'vitest';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { createStaticConfigProvider } from '../../../src/config-sources/static.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import type { NamespaceInfo } from '../../../src/core/contracts.js';
import type { ResilientInformer } from '../../../src/k8s/informer.js';
import { createPodAudit, pagedPodList } from '../../../src/k8s/pod-audit.js';
import { memoryLogger } from '../../helpers/async.js';

function pod(name: string, namespace: string): V1Pod {
  return {
    metadata: { name, namespace, labels: { app: name } },
    spec: { containers: [{ name: 'app', image: 'app:1' }] },
  };
}

function fakeInformer(pods: V1Pod[]): ResilientInformer<V1Pod> & { lists: number } {
  const informer = {
    lists: 0,
    get: () => undefined,
    list: () => {
      informer.lists += 1;
      return pods;
    },
    synced: () => true,
    connected: () => true,
    whenSynced: () => Promise.resolve(),
    start: () => undefined,
    stop: () => Promise.resolve(),
  };
  return informer;
}

function setup(pods: V1Pod[], extra: { maxNamespaces?: number; batchSize?: number } = {}) {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    { name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false },
    { name: 'u' },
  );
  const registry = new Registry();
  const informer = fakeInformer(pods);
  const { logger, lines } = memoryLogger();
  const namespaces = new Map<string, NamespaceInfo>();
  const audit = createPodAudit({
    kubeConfig,
    logger,
    registry,
    config: createStaticConfigProvider(defaultInjectionConfig()),
    namespace: (name) => namespaces.get(name),
    namespacesSynced: () => true,
    informer,
    intervalMs: 40,
    minIntervalMs: 200,
    ...extra,
  });
  const enable = (name: string) =>
    namespaces.set(name, { name, labels: { 'istio-injection': 'enabled' }, annotations: {} });
  return { audit, registry, informer, lines, enable };
}

describe('pod audit runner', () => {
  it('bounds the namespace label values and counts every finding', async () => {
    const pods = Array.from({ length: 30 }, (_, i) => pod(`p${i}`, `ns-${i % 10}`));
    const { audit, registry, enable } = setup(pods, { maxNamespaces: 3, batchSize: 7 });
    for (let i = 0; i < 10; i += 1) enable(`ns-${i}`);
    expect(await audit.evaluate()).toHaveLength(30);
    const metric = await registry.getSingleMetric('sidecar_injector_pods_missing_sidecar')?.get();
    const values = metric?.values ?? [];
    expect(values.reduce((n, v) => n + v.value, 0)).toBe(30);
    const names = new Set(values.map((v) => v.labels.namespace));
    expect(names.size).toBe(4);
    expect(names.has('_other')).toBe(true);
  });

  it('joins a run in progress instead of starting another', async () => {
    const { audit, informer, enable } = setup([pod('a', 'shop')]);
    enable('shop');
    const [first, second] = [audit.evaluate(), audit.evaluate()];
    expect(first).toBe(second);
    await first;
    expect(informer.lists).toBe(1);
  });

  it('runs at most once per minIntervalMs however short the interval, and stops', async () => {
    const { audit, informer } = setup([pod('a', 'shop')]);
    audit.start();
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 700));
    const runs = informer.lists;
    // Ticks every 40 ms, a floor of 200 ms between runs: the first run at once, then one per
    // 200 ms at most (timers only ever fire late, so a slow machine gives fewer, never more).
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / 200));
    await audit.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(informer.lists).toBe(runs);
  });

  it('logs each new finding once and its clearing once', async () => {
    const pods = [pod('a', 'shop')];
    const { audit, lines, enable } = setup(pods);
    enable('shop');
    await audit.evaluate();
    await audit.evaluate();
    pods.pop();
    await audit.evaluate();
    const msgs = lines().map((l) => l.msg);
    expect(msgs.filter((m) => m === 'pod missing-sidecar')).toHaveLength(1);
    expect(msgs.filter((m) => m === 'pod missing-sidecar cleared')).toHaveLength(1);
  });
});

describe('pagedPodList', () => {
  it('follows continue tokens, trims each page, and keeps the snapshot resourceVersion', async () => {
    const pages = [
      {
        items: [pod('a', 'n'), pod('b', 'n')],
        metadata: { resourceVersion: '7', _continue: 't1' },
      },
      { items: [pod('c', 'n')], metadata: { resourceVersion: '7', _continue: '' } },
    ];
    const tokens: (string | undefined)[] = [];
    const list = pagedPodList(
      (token) => {
        tokens.push(token);
        return Promise.resolve(pages[tokens.length - 1]!);
      },
      (p) => ({ metadata: { name: p.metadata?.name ?? '' } }),
    );
    const result = await list();
    expect(tokens).toEqual([undefined, 't1']);
    expect(result.items).toEqual([
      { metadata: { name: 'a' } },
      { metadata: { name: 'b' } },
      { metadata: { name: 'c' } },
    ]);
    expect(result.metadata?.resourceVersion).toBe('7');
  });
});
