import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoreV1Api, type V1Node } from '@kubernetes/client-node';
import { FakeApiServer } from '../../e2e/fake-apiserver.js';
import { loadKubeConfig } from '../../../src/k8s/kubeconfig.js';
import { createInformer, restartDelay, type ResilientInformer } from '../../../src/k8s/informer.js';
import { eventually, FAST_BACKOFF, memoryLogger, tempDir } from '../../helpers/async.js';

function node(name: string, kubeletVersion: string): Parameters<FakeApiServer['upsert']>[1] {
  return { metadata: { name }, status: { nodeInfo: { kubeletVersion } } };
}

describe('self-restarting informer', () => {
  let api: FakeApiServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let informer: ResilientInformer<V1Node>;
  let restarts: number;
  let log: ReturnType<typeof memoryLogger>;

  beforeEach(async () => {
    api = new FakeApiServer();
    dir = await tempDir();
    await api.start();
    api.upsert('nodes', node('a', 'v1.33.1'));
    api.upsert('nodes', node('b', 'v1.32.4'));
    const kc = loadKubeConfig(await api.writeKubeconfig(dir.path));
    const core = kc.makeApiClient(CoreV1Api);
    restarts = 0;
    log = memoryLogger();
    informer = createInformer<V1Node>({
      name: 'nodes',
      path: '/api/v1/nodes',
      kubeConfig: kc,
      list: () => core.listNode(),
      logger: log.logger,
      backoff: FAST_BACKOFF,
      onRestart: () => {
        restarts += 1;
      },
    });
    informer.start();
    await informer.whenSynced();
    await eventually(() => api.watchCount('nodes') === 1, 'watch open');
  });

  afterEach(async () => {
    await informer.stop();
    await api.stop();
    await dir.cleanup();
  });

  const names = (): string[] =>
    informer
      .list()
      .map((n) => n.metadata?.name ?? '')
      .sort();

  it('is synced only after the first list, with every object in the cache', () => {
    expect(informer.synced()).toBe(true);
    expect(names()).toEqual(['a', 'b']);
    expect(informer.get('b')?.status?.nodeInfo?.kubeletVersion).toBe('v1.32.4');
  });

  it('keeps its cache while the API server is away and catches up from the watch history after', async () => {
    await api.stop();
    await eventually(() => restarts > 0, 'a restart after the connection dropped');
    // Reads keep being answered from the cache.
    expect(names()).toEqual(['a', 'b']);
    api.upsert('nodes', node('c', 'v1.34.0'));
    api.upsert('nodes', node('b', 'v1.33.0'));
    await api.start();
    await eventually(() => informer.list().length === 3, 'new node seen after recovery');
    expect(informer.get('b')?.status?.nodeInfo?.kubeletVersion).toBe('v1.33.0');
    const resumed = api.requests.filter((r) => r.query['watch'] === 'true').at(-1);
    expect(resumed?.query['resourceVersion']).not.toBe('');
    expect(log.lines().some((l) => l['msg'] === 'informer failed; restarting')).toBe(true);
  });

  it('relists after 410 Gone when its resourceVersion was compacted away', async () => {
    await api.stop();
    await eventually(() => restarts > 0, 'a restart after the connection dropped');
    api.remove('nodes', 'a');
    api.upsert('nodes', node('d', 'v1.35.0'));
    api.compact();
    const listsBefore = api.requests.filter((r) => r.query['watch'] === undefined).length;
    await api.start();
    await eventually(() => names().join() === 'b,d', 'cache equal to the relisted state');
    const listsAfter = api.requests.filter((r) => r.query['watch'] === undefined).length;
    expect(listsAfter).toBeGreaterThan(listsBefore);
  });

  it('survives an API server answering errors, then recovers', async () => {
    await api.stop();
    api.failWith = 500;
    await api.start();
    await eventually(() => restarts >= 2, 'repeated restarts while the server fails');
    api.failWith = undefined;
    api.upsert('nodes', node('e', 'v1.33.2'));
    await eventually(() => informer.get('e') !== undefined, 'recovered after errors stop');
  });

  it('ignores BOOKMARK events', async () => {
    api.bookmark('nodes');
    api.upsert('nodes', node('f', 'v1.33.3'));
    await eventually(() => informer.get('f') !== undefined, 'event after bookmark');
    expect(names()).toEqual(['a', 'b', 'f']);
  });
});

describe('restart backoff', () => {
  it.each([
    [1, 100, 100],
    [2, 200, 200],
    [4, 800, 800],
    [10, 5_000, 5_000],
  ])('attempt %i waits about %i ms (jittered, capped)', (attempt, nominal) => {
    const delay = restartDelay({ initialMs: 100, maxMs: 5_000 }, attempt);
    expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
    expect(delay).toBeLessThanOrEqual(Math.min(Math.ceil(nominal * 1.2), 5_000));
  });
});
