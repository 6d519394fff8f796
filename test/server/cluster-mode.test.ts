/**
 * `startServer` in cluster mode (--kubeconfig) against the fake API server: the composition root
 * wires the informers, readiness waits for them, and namespace labels drive the answer.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { generateDevCertificates, type DevCertificates } from '../../src/tls/dev-cert.js';
import { FakeApiServer } from '../e2e/fake-apiserver.js';
import { PAYLOADS_DIR } from '../helpers/shared.js';
import { startTestServer } from '../helpers/tls-server.js';
import { eventually, h1Request } from './clients.js';

let dir: string;
let api: FakeApiServer;
let server: RunningServer;
let certs: DevCertificates;
const metrics = createMetrics({ processMetrics: false });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'injector-cluster-'));
  api = new FakeApiServer({ tls: await generateDevCertificates({ hosts: ['127.0.0.1'] }) });
  await api.start();
  api.upsert('namespaces', { metadata: { name: 'default' } });
  api.upsert('namespaces', {
    metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } },
  });
  api.upsert('nodes', {
    metadata: { name: 'n1' },
    status: { nodeInfo: { kubeletVersion: 'v1.34.1' } },
  });
  // Development certificates are written below cwd (certs/dev): a temporary directory here.
  server = await startTestServer(
    {
      clusterMode: 'kubeconfig',
      kubeconfig: await api.writeKubeconfig(dir),
      nativeSidecars: 'auto',
      drainSeconds: 0,
    },
    { cwd: dir, metrics },
  );
  const caFile = server.devCaPath ?? '';
  certs = { ca: await readFile(caFile, 'utf8'), cert: '', key: '' };
});

afterAll(async () => {
  await server?.shutdown();
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function review(namespace: string) {
  const text = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
  const body = JSON.parse(text) as { request: { namespace: string; object: { metadata: object } } };
  body.request.namespace = namespace;
  const reply = await h1Request(server.port, {
    ca: certs.ca,
    path: '/inject?timeout=10s',
    method: 'POST',
    body: JSON.stringify(body),
  });
  return JSON.parse(reply.body) as { response: { allowed: boolean; patch?: string } };
}

describe('cluster mode through the composition root', () => {
  it('becomes ready once the informers have synced', async () => {
    const ready = await eventually(async () => {
      const reply = await h1Request(server.port, { ca: certs.ca, path: '/readyz' });
      return reply.status === 200;
    });
    expect(ready).toBe(true);
    expect(server.devCaPath).toBe(join(dir, 'certs', 'dev', 'ca.crt'));
  });

  it('a namespace labelled istio-injection=enabled gets the sidecar', async () => {
    const { response } = await review('shop');
    expect(response.allowed).toBe(true);
    expect(response.patch).toBeTypeOf('string');
  });

  it('an unlabelled namespace is skipped by the in-process selector check', async () => {
    const { response } = await review('default');
    expect(response.allowed).toBe(true);
    expect(response.patch).toBeUndefined();
    const skips = await metrics.registry.getSingleMetricAsString('sidecar_injection_skip_total');
    expect(skips).toContain('reason="no-injection-label"} 1');
  });
});
