/**
 * The cluster's ProxyConfig resources through a real list/watch (the fake API server): changes
 * reach the set the core reads, and a missing CRD or RBAC rule is reported once, keeps nothing
 * from becoming ready, and is checked again until it is fixed.
 */
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { KObject } from '../../e2e/fake-apiserver.js';
import { loadKubeConfig } from '../../../src/k8s/kubeconfig.js';
import {
  createProxyConfigSource,
  type ProxyConfigSource,
} from '../../../src/k8s/proxy-config-source.js';
import { startClusterRuntime, type ClusterRuntime } from '../../../src/k8s/runtime.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { eventually, FAST_BACKOFF } from '../../helpers/async.js';
import { useFakeApiServer } from '../../helpers/fake-cluster.js';

const RECHECK_MS = 150;

function proxyConfig(namespace: string, name: string, spec: Record<string, unknown>): KObject {
  return {
    metadata: { name, namespace, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec,
  };
}

describe('ProxyConfig resources from the cluster', () => {
  const cluster = useFakeApiServer();

  async function start(): Promise<ProxyConfigSource> {
    const s = cluster.stopAfterTest(
      createProxyConfigSource({
        kubeConfig: loadKubeConfig(await cluster.kubeconfigPath()),
        logger: cluster.log.logger,
        backoff: FAST_BACKOFF,
        recheckMs: RECHECK_MS,
      }),
    );
    s.start();
    await s.whenSynced();
    return s;
  }

  const warnings = (text: string) =>
    cluster.log.lines().filter((l) => l['level'] === 40 && String(l['msg']).includes(text));

  it('follows additions, changes and deletions', async () => {
    cluster.api.proxyConfigCrd = true;
    cluster.api.upsert('proxyconfigs', proxyConfig('shop', 'a', { concurrency: 2 }));
    const s = await start();
    expect(s.state()).toBe('watching');
    expect(s.current().byNamespace.get('shop')?.[0]?.overlay).toEqual({ concurrency: 2 });

    cluster.api.upsert('proxyconfigs', proxyConfig('shop', 'a', { concurrency: 5 }));
    cluster.api.upsert(
      'proxyconfigs',
      proxyConfig('pay', 'b', { environmentVariables: { X: '1' } }),
    );
    await eventually(
      () =>
        s.current().size === 2 &&
        s.current().byNamespace.get('shop')?.[0]?.overlay['concurrency'] === 5,
      'change and addition seen',
    );
    cluster.api.remove('proxyconfigs', 'a', 'shop');
    await eventually(() => s.current().size === 1, 'deletion seen');
    expect(s.readinessDetail()).toBe('1 ProxyConfig resources applied');
  });

  it('leaves an invalid resource out, logged once', async () => {
    cluster.api.proxyConfigCrd = true;
    cluster.api.upsert('proxyconfigs', proxyConfig('shop', 'bad', { concurrency: -1 }));
    cluster.api.upsert('proxyconfigs', proxyConfig('shop', 'good', { concurrency: 1 }));
    const s = await start();
    expect(s.current().size).toBe(1);
    expect(s.readinessDetail()).toBe('1 ProxyConfig resources applied, 1 invalid left out');
    cluster.api.upsert('proxyconfigs', proxyConfig('shop', 'other', {}));
    await eventually(() => s.current().size === 2, 'next change applied');
    expect(warnings('invalid ProxyConfig left out')).toHaveLength(1);
  });

  it('without the CRD: synced at once, one warning, rechecked until the CRD appears', async () => {
    const s = await start();
    expect(s.synced()).toBe(true);
    expect(s.state()).toBe('crd-absent');
    expect(s.current().size).toBe(0);
    expect(s.readinessDetail()).toContain('CRD not installed');
    // Several rechecks later: still one warning, and no informer restart noise.
    await new Promise((resolve) => setTimeout(resolve, RECHECK_MS * 4));
    const lists = cluster.api.requests.filter((r) => r.path.endsWith('/proxyconfigs')).length;
    expect(lists).toBeGreaterThanOrEqual(3);
    expect(warnings('CRD is not installed')).toHaveLength(1);
    expect(warnings('informer failed')).toHaveLength(0);

    cluster.api.proxyConfigCrd = true;
    cluster.api.upsert('proxyconfigs', proxyConfig('shop', 'a', { concurrency: 3 }));
    await eventually(() => s.state() === 'watching' && s.current().size === 1, 'CRD picked up');
  });

  it('forbidden: reported once, rechecked, and picked up once the rule exists', async () => {
    cluster.api.proxyConfigCrd = true;
    cluster.api.forbidden.add('proxyconfigs');
    const s = await start();
    expect(s.state()).toBe('forbidden');
    expect(s.readinessDetail()).toContain('forbidden');
    await new Promise((resolve) => setTimeout(resolve, RECHECK_MS * 3));
    expect(warnings('is forbidden')).toHaveLength(1);
    cluster.api.forbidden.delete('proxyconfigs');
    cluster.api.upsert('proxyconfigs', proxyConfig('shop', 'a', {}));
    await eventually(() => s.state() === 'watching' && s.current().size === 1, 'RBAC fixed');
  });
});

describe('the cluster runtime with ProxyConfig resources', () => {
  const cluster = useFakeApiServer();

  async function start(): Promise<ClusterRuntime> {
    const runtime = await startClusterRuntime({
      kubeconfigPath: await cluster.kubeconfigPath(),
      istioNamespace: 'istio-system',
      revision: 'default',
      nativeSidecars: 'disabled',
      logger: cluster.log.logger,
      registry: new Registry(),
      backoff: FAST_BACKOFF,
      proxyConfigRecheckMs: RECHECK_MS,
    });
    cluster.stopAfterTest(runtime);
    await runtime.whenSynced();
    return runtime;
  }

  const pod: Pod = { metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [] } };

  it('gives the resources to every injection through the cluster facts', async () => {
    cluster.api.proxyConfigCrd = true;
    cluster.api.upsert('proxyconfigs', proxyConfig('shop', 'a', { concurrency: 2 }));
    const r = await start();
    expect(r.readiness.synced()).toBe(true);
    await eventually(() => r.facts.factsFor(pod, undefined).proxyConfigs?.size === 1, 'set');
    expect(r.readiness.details?.()).toMatchObject({
      proxyConfigs: '1 ProxyConfig resources applied',
    });
  });

  it('without the CRD it becomes ready and injects without resources', async () => {
    const r = await start();
    expect(r.readiness.synced()).toBe(true);
    expect(r.readiness.apiServerReachable?.()).toBe(true);
    expect(r.facts.factsFor(pod, undefined).proxyConfigs).toBeUndefined();
    expect(r.readiness.details?.()).toMatchObject({
      proxyConfigs: expect.stringContaining('CRD not installed') as unknown,
    });
  });
});
