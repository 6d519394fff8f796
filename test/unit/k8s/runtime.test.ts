import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { FakeApiServer, type KObject } from '../../e2e/fake-apiserver.js';
import { startClusterRuntime, type ClusterRuntime } from '../../../src/k8s/runtime.js';
import { trimNode } from '../../../src/k8s/node-facts.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { eventually, FAST_BACKOFF, memoryLogger, tempDir } from '../../helpers/async.js';
import { createStaticConfigProvider } from '../../../src/config-sources/static.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';

function node(name: string, kubeletVersion: string): KObject {
  return { metadata: { name }, status: { nodeInfo: { kubeletVersion } } };
}

const pod = (nodeName?: string): Pod => ({
  metadata: { name: 'p' },
  spec: { containers: [{ name: 'app' }], ...(nodeName === undefined ? {} : { nodeName }) },
});

describe('cluster runtime', () => {
  let api: FakeApiServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let runtime: ClusterRuntime | undefined;
  let registry: Registry;

  beforeEach(async () => {
    api = new FakeApiServer();
    dir = await tempDir();
    await api.start();
    registry = new Registry();
  });

  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    await api.stop();
    await dir.cleanup();
  });

  async function start(nativeSidecars: 'auto' | 'enabled' | 'disabled'): Promise<ClusterRuntime> {
    runtime = await startClusterRuntime({
      kubeconfigPath: await api.writeKubeconfig(dir.path),
      istioNamespace: 'istio-system',
      revision: 'default',
      nativeSidecars,
      logger: memoryLogger().logger,
      registry,
      backoff: FAST_BACKOFF,
    });
    return runtime;
  }

  it('rejects a kubeconfig that cannot be loaded', async () => {
    await expect(
      startClusterRuntime({
        kubeconfigPath: `${dir.path}/nope.yaml`,
        istioNamespace: 'istio-system',
        revision: 'default',
        nativeSidecars: 'auto',
        logger: memoryLogger().logger,
        registry,
      }),
    ).rejects.toMatchObject({ code: 'INJ_ERR_CLI_USAGE' });
  });

  it('is ready only after every informer has synced', async () => {
    // The API server answers errors at first, so no informer can sync.
    api.failWith = 503;
    const rt = await start('auto');
    expect(rt.readiness.synced()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(rt.readiness.synced()).toBe(false);
    api.failWith = undefined;
    await rt.whenSynced();
    expect(rt.readiness.synced()).toBe(true);
    expect(rt.config.ready()).toBe(true);
  });

  it('switches native sidecars as node versions change (auto)', async () => {
    api.upsert('nodes', node('old', 'v1.32.5'));
    api.upsert('nodes', node('new', 'v1.33.1'));
    const rt = await start('auto');
    await rt.whenSynced();
    expect(rt.facts.factsFor(pod(), undefined).nativeSidecars).toBe(false);
    // A pod already bound to a node is judged by that node alone.
    expect(rt.facts.factsFor(pod('new'), undefined).nativeSidecars).toBe(true);
    expect(rt.facts.factsFor(pod('old'), undefined).nativeSidecars).toBe(false);
    api.upsert('nodes', node('old', 'v1.33.0'));
    await eventually(() => rt.facts.factsFor(pod(), undefined).nativeSidecars, 'all nodes >= 1.33');
    api.upsert('nodes', node('third', 'v1.31.0'));
    await eventually(
      () => !rt.facts.factsFor(pod(), undefined).nativeSidecars,
      'an old node joined',
    );
    api.remove('nodes', 'third');
    await eventually(() => rt.facts.factsFor(pod(), undefined).nativeSidecars, 'old node left');
  });

  it.each([
    ['enabled', true],
    ['disabled', false],
  ] as const)('--native-sidecars=%s overrides the node versions', async (mode, expected) => {
    api.upsert('nodes', node('n', expected ? 'v1.20.0' : 'v1.35.0'));
    const rt = await start(mode);
    await rt.whenSynced();
    expect(rt.facts.factsFor(pod(), undefined).nativeSidecars).toBe(expected);
  });

  it('keeps only the kubelet version of a node', () => {
    const full = {
      metadata: { name: 'n1', resourceVersion: '7', labels: { zone: 'a' } },
      status: { nodeInfo: { kubeletVersion: 'v1.33.1', osImage: 'x' }, images: [{ names: ['a'] }] },
    };
    expect(trimNode(full)).toEqual({
      metadata: { name: 'n1', resourceVersion: '7' },
      status: { nodeInfo: { kubeletVersion: 'v1.33.1' } },
    });
  });

  it('passes the namespace annotations into the facts', async () => {
    const rt = await start('disabled');
    await rt.whenSynced();
    const facts = rt.facts.factsFor(pod(), {
      name: 'ns',
      labels: {},
      annotations: { 'openshift.io/sa.scc.uid-range': '1000/10' },
    });
    expect(facts.namespaceAnnotations).toEqual({ 'openshift.io/sa.scc.uid-range': '1000/10' });
  });

  it('counts informer restarts and namespace lookups on the given registry', async () => {
    api.upsert('namespaces', { metadata: { name: 'prod' } });
    const rt = await start('disabled');
    await rt.whenSynced();
    await rt.namespaces.resolve('prod');
    await api.stop();
    await eventually(async () => {
      const m = await registry.getSingleMetric('sidecar_injector_informer_restarts_total')?.get();
      return (m?.values.length ?? 0) > 0;
    }, 'restart counted');
    await api.start();
    const text = await registry.metrics();
    expect(text).toMatch(/sidecar_injector_namespace_lookups_total\{source="cache"\} 1/);
    expect(text).toContain('sidecar_injector_config_reload_errors_total 0');
  });

  it('uses a given config provider instead of watching the ConfigMaps, and leaves it open', async () => {
    let closed = false;
    const given = createStaticConfigProvider(defaultInjectionConfig());
    runtime = await startClusterRuntime({
      kubeconfigPath: await api.writeKubeconfig(dir.path),
      istioNamespace: 'istio-system',
      revision: 'default',
      nativeSidecars: 'disabled',
      logger: memoryLogger().logger,
      registry,
      backoff: FAST_BACKOFF,
      config: { ...given, close: () => ((closed = true), Promise.resolve()) },
    });
    await runtime.whenSynced();
    expect(runtime.readiness.synced()).toBe(true);
    expect(runtime.config.current()).toBe(given.current());
    expect(api.requests.some((r) => r.path.includes('/configmaps'))).toBe(false);
    expect(api.requests.some((r) => r.path === '/api/v1/namespaces')).toBe(true);
    await runtime.stop();
    runtime = undefined;
    expect(closed).toBe(false);
  });
});
