import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../e2e/fake-apiserver.js';
import { fetchConfigSources, fetchNamespace } from '../../src/k8s/fetch-config.js';
import { isInjectorError } from '../../src/errors.js';
import { tempDir } from './helpers.js';

describe('one-shot reads for the offline commands', () => {
  const api = new FakeApiServer();
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let kubeconfigPath: string;

  beforeAll(async () => {
    dir = await tempDir();
    await api.start();
    kubeconfigPath = await api.writeKubeconfig(dir.path);
    api.upsert('configmaps', {
      metadata: { name: 'istio-sidecar-injector-canary', namespace: 'istio-system' },
      data: { config: 'policy: disabled', values: '{"revision":"canary"}' },
    });
    api.upsert('configmaps', {
      metadata: { name: 'istio-canary', namespace: 'istio-system' },
      data: { mesh: 'trustDomain: canary.local' },
    });
    api.upsert('namespaces', { metadata: { name: 'shop', labels: { 'istio.io/rev': 'canary' } } });
  });

  afterAll(async () => {
    await api.stop();
    await dir.cleanup();
  });

  it('reads the revision ConfigMaps', async () => {
    await expect(
      fetchConfigSources({ kubeconfigPath, istioNamespace: 'istio-system', revision: 'canary' }),
    ).resolves.toEqual({
      config: 'policy: disabled',
      values: '{"revision":"canary"}',
      mesh: 'trustDomain: canary.local',
    });
  });

  it('treats missing ConfigMaps as absent keys (embedded defaults)', async () => {
    await expect(
      fetchConfigSources({ kubeconfigPath, istioNamespace: 'istio-system', revision: 'default' }),
    ).resolves.toEqual({});
  });

  it('reads a namespace, or undefined when it does not exist', async () => {
    await expect(fetchNamespace({ kubeconfigPath, name: 'shop' })).resolves.toEqual({
      name: 'shop',
      labels: { 'istio.io/rev': 'canary' },
      annotations: {},
    });
    await expect(fetchNamespace({ kubeconfigPath, name: 'nope' })).resolves.toBeUndefined();
  });

  it('rejects an unreadable kubeconfig with INJ_ERR_CLI_USAGE', async () => {
    const err: unknown = await fetchNamespace({
      kubeconfigPath: `${dir.path}/missing.yaml`,
      name: 'shop',
    }).catch((e: unknown) => e);
    expect(isInjectorError(err) && err.code).toBe('INJ_ERR_CLI_USAGE');
    expect(String(err)).toContain('missing.yaml');
  });

  it('fails with INJ_ERR_KUBERNETES_API naming what it read', async () => {
    api.failWith = 403;
    try {
      const err: unknown = await fetchNamespace({ kubeconfigPath, name: 'shop' }).catch(
        (e: unknown) => e,
      );
      expect(isInjectorError(err) && err.code).toBe('INJ_ERR_KUBERNETES_API');
      expect(String(err)).toContain('Namespace shop');
      expect(String(err)).toContain('403');
    } finally {
      api.failWith = undefined;
    }
  });
});
