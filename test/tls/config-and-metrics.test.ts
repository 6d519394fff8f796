/** `startServer` with --config-dir (policy disabled) and a plain-HTTP --metrics-port. */
import * as http from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.js';
import { generateDevCertificates, type DevCertificates } from '../../src/tls/dev-cert.js';
import { PAYLOADS_DIR } from '../helpers/shared.js';
import { startTestServer, writeServingPair } from '../helpers/tls-server.js';
import { h1Request } from './clients.js';

let dir: string;
let pair: DevCertificates;
let server: RunningServer;

function getPlain(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'injector-configdir-'));
  pair = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
  const servingPair = await writeServingPair(dir, pair);
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'config', 'config'), 'policy: disabled\n');
  server = await startTestServer(
    { ...servingPair, configDir: join(dir, 'config'), metricsPort: 0, drainSeconds: 0 },
    { cwd: dir },
  );
});

afterAll(async () => {
  await server?.shutdown();
  await rm(dir, { recursive: true, force: true });
});

describe('serve with --config-dir and --metrics-port', () => {
  it('the directory configuration is in force (policy disabled: no injection)', async () => {
    const review = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
    const reply = await h1Request(server.port, {
      ca: pair.ca,
      path: '/inject',
      method: 'POST',
      body: review,
    });
    const body = JSON.parse(reply.body) as { response: { allowed: boolean; patch?: string } };
    expect(body.response.allowed).toBe(true);
    expect(body.response.patch).toBeUndefined();
  });

  it('the plain metrics port serves the counters, and nothing else', async () => {
    expect(server.metricsPort).toBeGreaterThan(0);
    const metrics = await getPlain(server.metricsPort ?? 0, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^sidecar_injection_requests_total [1-9]/m);
    expect(metrics.body).toMatch(/^sidecar_injection_skip_total\{reason="policy-disabled"\} 1$/m);
    expect((await getPlain(server.metricsPort ?? 0, '/inject')).status).toBe(404);
  });
});
