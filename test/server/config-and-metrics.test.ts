/** `startServer` with --config-dir (policy disabled) and a plain-HTTP --metrics-port. */
import * as http from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { generateDevCertificates, type DevCertificates } from '../../src/tls/dev-cert.js';
import { PAYLOADS_DIR } from '../helpers/shared.js';
import { startTestServer, writeServingPair } from '../helpers/tls-server.js';
import { X509Certificate } from 'node:crypto';
import { eventually, h1Request } from './clients.js';

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

  it("istiod's sidecar_injection_time_seconds is observed on every review, beside ours", async () => {
    const count = (body: string, name: string) =>
      Number(new RegExp(`^${name}_count (\\d+)$`, 'm').exec(body)?.[1] ?? NaN);
    const before = (await getPlain(server.metricsPort ?? 0, '/metrics')).body;
    const review = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
    for (let i = 0; i < 3; i += 1) {
      await h1Request(server.port, { ca: pair.ca, path: '/inject', method: 'POST', body: review });
    }
    await h1Request(server.port, { ca: pair.ca, path: '/inject', method: 'POST', body: '{' });
    const after = (await getPlain(server.metricsPort ?? 0, '/metrics')).body;
    const istio = count(after, 'sidecar_injection_time_seconds');
    expect(istio - count(before, 'sidecar_injection_time_seconds')).toBe(4);
    expect(istio).toBe(count(after, 'sidecar_injection_duration_seconds'));
    expect(after).toMatch(/^sidecar_injection_time_seconds_bucket\{le="0.001"\} \d+$/m);
  });

  it('the certificate-expiry gauge is the notAfter of the certificate in use, updated on reload', async () => {
    const gauge = async () => {
      const body = (await getPlain(server.metricsPort ?? 0, '/metrics')).body;
      const m = /^sidecar_injector_certificate_expiration_timestamp_seconds (\d+)$/m.exec(body);
      return Number(m?.[1] ?? NaN);
    };
    const notAfter = (pem: string) =>
      Math.floor(new X509Certificate(pem).validToDate.getTime() / 1000);
    expect(await gauge()).toBe(notAfter(pair.cert));
    const longer = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'], days: 90 });
    expect(notAfter(longer.cert)).not.toBe(notAfter(pair.cert));
    await writeServingPair(dir, longer);
    expect(await eventually(async () => (await gauge()) === notAfter(longer.cert))).toBe(true);
  });
});
