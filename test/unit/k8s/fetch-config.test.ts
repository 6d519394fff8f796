import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../e2e/fake-apiserver.js';
import { fetchConfigSources, fetchNamespace } from '../../../src/k8s/fetch-config.js';
import { isInjectorError } from '../../../src/errors.js';
import { generateDevCertificates } from '../../../src/tls/dev-cert.js';
import { tempDir } from '../../helpers/async.js';

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

  it('verifies the API server certificate against the kubeconfig CA', async () => {
    const serving = await generateDevCertificates({ hosts: ['127.0.0.1'] });
    const stranger = await generateDevCertificates({ hosts: ['127.0.0.1'] });
    const secure = new FakeApiServer({ tls: serving });
    await secure.start();
    try {
      secure.upsert('namespaces', { metadata: { name: 'tls-ns' } });
      const trusted = await secure.writeKubeconfig(dir.path);
      await expect(
        fetchNamespace({ kubeconfigPath: trusted, name: 'tls-ns' }),
      ).resolves.toMatchObject({
        name: 'tls-ns',
      });
      const untrusted = await secure.writeKubeconfig(dir.path, stranger.ca);
      await expect(
        fetchNamespace({ kubeconfigPath: untrusted, name: 'tls-ns' }),
      ).rejects.toMatchObject({
        code: 'INJ_ERR_KUBERNETES_API',
      });
    } finally {
      await secure.stop();
      // Later tests use the plain server's kubeconfig again.
      kubeconfigPath = await api.writeKubeconfig(dir.path);
    }
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
