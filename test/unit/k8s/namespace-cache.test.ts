import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../e2e/fake-apiserver.js';
import {
  AcceptingKubeConfig,
  ACCEPT_PARTIAL_METADATA,
  loadKubeConfig,
} from '../../../src/k8s/kubeconfig.js';
import { createNamespaceCache, type NamespaceCache } from '../../../src/k8s/namespace-cache.js';
import { eventually, FAST_BACKOFF, memoryLogger, tempDir } from '../../helpers/async.js';

describe('namespace cache over list/watch', () => {
  const api = new FakeApiServer();
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let cache: NamespaceCache;
  const sources: string[] = [];

  beforeAll(async () => {
    dir = await tempDir();
    await api.start();
    api.upsert('namespaces', {
      metadata: { name: 'prod', labels: { 'istio-injection': 'enabled' } },
    });
    api.upsert('namespaces', {
      metadata: { name: 'plain', annotations: { 'openshift.io/sa.scc.uid-range': '1000/10' } },
    });
    const kubeconfig = await api.writeKubeconfig(dir.path);
    cache = createNamespaceCache({
      kubeConfig: loadKubeConfig(kubeconfig),
      watchKubeConfig: AcceptingKubeConfig.from(kubeconfig, ACCEPT_PARTIAL_METADATA),
      logger: memoryLogger().logger,
      backoff: FAST_BACKOFF,
      onLookup: (s) => sources.push(s),
    });
    cache.informer.start();
    await cache.informer.whenSynced();
  });

  afterAll(async () => {
    await cache.informer.stop();
    await api.stop();
    await dir.cleanup();
  });

  it('asks for PartialObjectMetadata on the list and the watch', async () => {
    await eventually(() => api.watchCount('namespaces') === 1, 'namespace watch open');
    const list = api.requests.find(
      (r) => r.path === '/api/v1/namespaces' && r.query['watch'] === undefined,
    );
    const watch = api.requests.find(
      (r) => r.path === '/api/v1/namespaces' && r.query['watch'] === 'true',
    );
    expect(list?.accept).toContain('as=PartialObjectMetadataList;g=meta.k8s.io;v=v1');
    expect(watch?.accept).toContain('as=PartialObjectMetadata;g=meta.k8s.io;v=v1');
    expect(watch?.query['resourceVersion']).not.toBe('');
  });

  it('answers from the cache after the first sync, with labels and annotations', async () => {
    const before = api.requests.length;
    await expect(cache.resolve('prod')).resolves.toEqual({
      source: 'cache',
      namespace: { name: 'prod', labels: { 'istio-injection': 'enabled' }, annotations: {} },
    });
    const plain = await cache.resolve('plain');
    expect(plain.namespace?.annotations).toEqual({ 'openshift.io/sa.scc.uid-range': '1000/10' });
    expect(api.requests.length).toBe(before);
  });

  it('follows label changes through the watch', async () => {
    api.upsert('namespaces', { metadata: { name: 'prod', labels: { 'istio.io/rev': 'canary' } } });
    await eventually(
      async () => (await cache.resolve('prod')).namespace?.labels['istio.io/rev'] === 'canary',
      'relabelled namespace seen',
    );
    expect((await cache.resolve('prod')).namespace?.labels).toEqual({ 'istio.io/rev': 'canary' });
  });

  it('falls back to one metadata GET on a miss, and reports a missing namespace as answered', async () => {
    const missing = await cache.resolve('does-not-exist');
    expect(missing).toEqual({ source: 'api' });
    const get = api.requests.filter((r) => r.path === '/api/v1/namespaces/does-not-exist');
    expect(get).toHaveLength(1);
    expect(get[0]?.accept).toContain('as=PartialObjectMetadata;');
  });

  it('finds a namespace the cache has not seen through the GET', async () => {
    // A resolver whose informer never started stands for a cache lagging behind the API server.
    const kubeconfig = await api.writeKubeconfig(dir.path);
    const cold = createNamespaceCache({
      kubeConfig: loadKubeConfig(kubeconfig),
      watchKubeConfig: AcceptingKubeConfig.from(kubeconfig, ACCEPT_PARTIAL_METADATA),
      logger: memoryLogger().logger,
    });
    await expect(cold.resolve('plain')).resolves.toEqual({
      source: 'api',
      namespace: {
        name: 'plain',
        labels: {},
        annotations: { 'openshift.io/sa.scc.uid-range': '1000/10' },
      },
    });
  });

  it('is unavailable, without throwing, when the API answers with an error', async () => {
    api.failWith = 503;
    try {
      await expect(cache.resolve('ghost')).resolves.toEqual({ source: 'unavailable' });
    } finally {
      api.failWith = undefined;
    }
  });

  // The request's deadline is raced by the caller (test/unit/admission/admit.test.ts).
  it('bounds a slow GET by its own 1 s', async () => {
    api.getDelayMs = 3_000;
    try {
      await expect(cache.resolve('slow-too')).resolves.toEqual({ source: 'unavailable' });
    } finally {
      api.getDelayMs = 0;
    }
  });

  it('shares one GET between concurrent misses of the same name', async () => {
    api.getDelayMs = 100;
    try {
      const results = await Promise.all([
        cache.resolve('burst'),
        cache.resolve('burst'),
        cache.resolve('burst'),
      ]);
      expect(results.map((r) => r.source)).toEqual(['api', 'api', 'api']);
      expect(api.requests.filter((r) => r.path === '/api/v1/namespaces/burst')).toHaveLength(1);
    } finally {
      api.getDelayMs = 0;
    }
  });

  it('caches only the metadata it reads (no managedFields, no last-applied copy)', async () => {
    api.upsert('namespaces', {
      metadata: {
        name: 'heavy',
        labels: { team: 'a' },
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"big":"blob"}',
          owner: 'team-a',
        },
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
        uid: '1234',
      },
    });
    await eventually(() => cache.informer.get('heavy') !== undefined, 'heavy namespace cached');
    const cached = cache.informer.get('heavy');
    expect(Object.keys(cached?.metadata ?? {}).sort()).toEqual([
      'annotations',
      'labels',
      'name',
      'resourceVersion',
    ]);
    expect((await cache.resolve('heavy')).namespace?.annotations).toEqual({ owner: 'team-a' });
  });

  it('records the source of every lookup', () => {
    expect(sources).toContain('cache');
    expect(sources).toContain('api');
    expect(sources).toContain('unavailable');
  });
});
