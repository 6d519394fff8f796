import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { FakeApiServer, type KObject } from '../../e2e/fake-apiserver.js';
import { loadKubeConfig } from '../../../src/k8s/kubeconfig.js';
import {
  configMapNames,
  createConfigMapProvider,
  sourcesFromConfigMaps,
  type ConfigMapProvider,
} from '../../../src/k8s/configmap-provider.js';
import { loadInjectionConfig } from '../../../src/core/config/load.js';
import { eventually, FAST_BACKOFF, memoryLogger, tempDir } from '../../helpers/async.js';

const NS = 'istio-system';

function injectorCm(name: string, config: string, values?: string): KObject {
  return {
    metadata: { name, namespace: NS },
    data: { config, ...(values === undefined ? {} : { values }) },
  };
}

async function reloadErrors(registry: Registry): Promise<number> {
  const metric = await registry
    .getSingleMetric('sidecar_injector_config_reload_errors_total')
    ?.get();
  return metric?.values[0]?.value ?? 0;
}

describe('configMapNames', () => {
  it.each([
    ['', 'istio-sidecar-injector', 'istio'],
    ['default', 'istio-sidecar-injector', 'istio'],
    ['canary', 'istio-sidecar-injector-canary', 'istio-canary'],
  ])('revision %j reads %s and %s', (revision, injector, mesh) => {
    expect(configMapNames(revision)).toEqual({ injector, mesh });
  });

  it('takes config and values from the injector ConfigMap and mesh from the mesh ConfigMap', () => {
    expect(
      sourcesFromConfigMaps(
        { data: { config: 'policy: enabled', values: '{}', other: 'x' } },
        { data: { mesh: 'trustDomain: td' } },
      ),
    ).toEqual({ config: 'policy: enabled', values: '{}', mesh: 'trustDomain: td' });
    expect(sourcesFromConfigMaps(undefined, undefined)).toEqual({});
  });
});

describe('ConfigMap-backed configuration', () => {
  let api: FakeApiServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let provider: ConfigMapProvider | undefined;
  let registry: Registry;
  let log: ReturnType<typeof memoryLogger>;
  let loads: number;

  beforeEach(async () => {
    api = new FakeApiServer();
    dir = await tempDir();
    await api.start();
    registry = new Registry();
    log = memoryLogger();
    loads = 0;
  });

  afterEach(async () => {
    await provider?.close();
    provider = undefined;
    await api.stop();
    await dir.cleanup();
  });

  async function startProvider(revision = 'default'): Promise<ConfigMapProvider> {
    const p = createConfigMapProvider({
      kubeConfig: loadKubeConfig(await api.writeKubeconfig(dir.path)),
      istioNamespace: NS,
      revision,
      load: (sources) => {
        loads += 1;
        return loadInjectionConfig(sources, { revision });
      },
      logger: log.logger,
      registry,
      backoff: FAST_BACKOFF,
    });
    provider = p;
    p.informer.start();
    await eventually(() => p.ready(), 'first configuration loaded');
    return p;
  }

  it('uses the embedded default when the ConfigMaps do not exist', async () => {
    const p = await startProvider();
    expect(p.current()).toEqual(
      (loadInjectionConfig({}, { revision: 'default' }) as { config: unknown }).config,
    );
    expect(api.requests.some((r) => r.path === `/api/v1/namespaces/${NS}/configmaps`)).toBe(true);
  });

  it('applies a policy change without a restart and ignores unrelated ConfigMaps', async () => {
    api.upsert('configmaps', injectorCm('istio-sidecar-injector', 'policy: enabled'));
    const p = await startProvider();
    expect(p.current().injector.policy).toBe('enabled');
    const loadsBefore = loads;
    api.upsert('configmaps', {
      metadata: { name: 'unrelated', namespace: NS },
      data: { config: 'policy: disabled' },
    });
    api.upsert('configmaps', injectorCm('istio-sidecar-injector', 'policy: disabled'));
    await eventually(() => p.current().injector.policy === 'disabled', 'policy flipped');
    expect(loads).toBe(loadsBefore + 1);
  });

  it('reads the revisioned ConfigMaps only', async () => {
    api.upsert('configmaps', injectorCm('istio-sidecar-injector', 'policy: enabled'));
    api.upsert('configmaps', injectorCm('istio-sidecar-injector-canary', 'policy: disabled'));
    api.upsert('configmaps', {
      metadata: { name: 'istio-canary', namespace: NS },
      data: { mesh: 'trustDomain: canary.local' },
    });
    const p = await startProvider('canary');
    expect(p.current().injector.policy).toBe('disabled');
    expect(p.current().mesh.trustDomain).toBe('canary.local');
    expect(p.current().revision).toBe('canary');
  });

  it('keeps the last good configuration on a broken change, logs the path and counts the error', async () => {
    api.upsert('configmaps', injectorCm('istio-sidecar-injector', 'policy: disabled'));
    const p = await startProvider();
    api.upsert('configmaps', injectorCm('istio-sidecar-injector', 'policy: [unclosed'));
    await eventually(async () => (await reloadErrors(registry)) === 1, 'reload error counted');
    expect(p.current().injector.policy).toBe('disabled');
    expect(p.ready()).toBe(true);
    const rejected = log.lines().filter((l) => l['msg'] === 'configuration rejected');
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.map((l) => l['path'])).toContain('config');
    // A fixed ConfigMap is picked up again.
    api.upsert('configmaps', injectorCm('istio-sidecar-injector', 'policy: enabled'));
    await eventually(
      () => p.current().injector.policy === 'enabled',
      'fixed configuration applied',
    );
    expect(await reloadErrors(registry)).toBe(1);
  });

  it('falls back to the default when the ConfigMap is deleted', async () => {
    api.upsert('configmaps', injectorCm('istio-sidecar-injector', 'policy: disabled'));
    const p = await startProvider();
    api.remove('configmaps', 'istio-sidecar-injector', NS);
    await eventually(
      () => p.current().injector.policy === 'enabled',
      'default policy after delete',
    );
  });

  it('is not ready while the only configuration ever seen is broken', async () => {
    api.upsert('configmaps', injectorCm('istio-sidecar-injector', 'policy: [unclosed'));
    const p = createConfigMapProvider({
      kubeConfig: loadKubeConfig(await api.writeKubeconfig(dir.path)),
      istioNamespace: NS,
      revision: 'default',
      load: (s) => loadInjectionConfig(s),
      logger: log.logger,
      registry,
      backoff: FAST_BACKOFF,
    });
    provider = p;
    p.informer.start();
    await eventually(async () => (await reloadErrors(registry)) === 1, 'initial error counted');
    expect(p.ready()).toBe(false);
    api.upsert('configmaps', injectorCm('istio-sidecar-injector', 'policy: disabled'));
    await eventually(() => p.ready(), 'ready once fixed');
    expect(p.current().injector.policy).toBe('disabled');
  });
});
