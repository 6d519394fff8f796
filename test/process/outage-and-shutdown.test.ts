/**
 * The real server process in cluster mode against the fake API server: after an API-server outage
 * the informers are current again within 3 s of its return (a namespace label change is seen),
 * and SIGTERM ends the process within the drain time + 2 s, informers and watches included.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDevCertificates } from '../../src/tls/dev-cert.js';
import { FakeApiServer } from '../e2e/fake-apiserver.js';
import { PAYLOADS_DIR } from '../helpers/shared.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { h1Request } from '../server/clients.js';

const DRAIN_SECONDS = 2;
/** How soon after the API server's return a change must be seen. */
const RECOVERY_BOUND_MS = 3_000;

let dir: string;
let api: FakeApiServer;
let server: ServerProcess;
let ca: string;
let review: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'injector-outage-'));
  api = new FakeApiServer({ tls: await generateDevCertificates({ hosts: ['127.0.0.1'] }) });
  await api.start();
  api.upsert('namespaces', { metadata: { name: 'default' } });
  api.upsert('namespaces', { metadata: { name: 'shop' } });
  api.upsert('nodes', {
    metadata: { name: 'n1' },
    status: { nodeInfo: { kubeletVersion: 'v1.34.1' } },
  });
  const pair = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'tls.crt'), pair.cert);
  await writeFile(join(dir, 'tls.key'), pair.key);
  ca = pair.ca;
  server = await startServerProcess(
    [
      '--port=0',
      '--host=127.0.0.1',
      '--log-level=info',
      `--kubeconfig=${await api.writeKubeconfig(dir)}`,
      `--tls-cert=${join(dir, 'tls.crt')}`,
      `--tls-key=${join(dir, 'tls.key')}`,
      `--drain-seconds=${DRAIN_SECONDS}`,
    ],
    { maxLifetimeMs: 120_000 },
  );
  const body = JSON.parse(
    await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8'),
  ) as { request: { namespace: string } };
  body.request.namespace = 'shop';
  review = JSON.stringify(body);
  const readyBy = performance.now() + 20_000;
  while (performance.now() < readyBy) {
    const reply = await h1Request(server.port, { ca, path: '/readyz' }).catch(() => undefined);
    if (reply?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  await server?.stop();
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function injected(): Promise<boolean> {
  const reply = await h1Request(server.port, {
    ca,
    path: '/inject?timeout=10s',
    method: 'POST',
    body: review,
  });
  const answer = JSON.parse(reply.body) as { response: { allowed: boolean; patch?: string } };
  return answer.response.patch !== undefined;
}

describe('cluster mode, as a process', () => {
  it('after an API-server outage a namespace label change is seen within 3 s of its return', async () => {
    expect(await injected()).toBe(false);
    await api.stop();
    // Long enough for the informers' restart backoff to reach its cap.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    // Answers still come from the cache during the outage.
    expect(await injected()).toBe(false);
    const readiness = await h1Request(server.port, { ca, path: '/readyz' });
    console.log(`readiness during the outage: ${readiness.status} ${readiness.body}`);

    api.upsert('namespaces', {
      metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } },
    });
    await api.start();
    const back = performance.now();
    let seenAfter: number | undefined;
    while (performance.now() - back < RECOVERY_BOUND_MS + 10_000) {
      if (await injected()) {
        seenAfter = performance.now() - back;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log(`label change seen ${seenAfter?.toFixed(0)} ms after the API server returned`);
    expect(seenAfter).toBeDefined();
    expect(seenAfter).toBeLessThan(RECOVERY_BOUND_MS);
    // Readiness stays up (answers come from the cache) and says the API server is unreachable.
    expect(readiness.status).toBe(200);
    expect(readiness.body).toMatch(/unreachable/);
  }, 60_000);

  it('SIGTERM exits within the drain time + 2 s', async () => {
    // An open keep-alive connection, as the API server keeps one.
    await injected();
    const { code, ms } = await server.stop();
    console.log(`exit ${code} ${ms.toFixed(0)} ms after SIGTERM (drain ${DRAIN_SECONDS} s)`);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(DRAIN_SECONDS * 1000 + 2_000);
  }, 60_000);
});
