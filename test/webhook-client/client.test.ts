/**
 * test/webhook-client, the bench's API-server-like client (Go's net/http, HTTP/1.1, full TLS
 * handshakes): built with Go (skipped, saying so, without it) and run against a TLS server on
 * 127.0.0.1 that counts connections and requests, so its figures are known to come from `n`
 * fresh connections and one kept-alive one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generateDevCertificates } from '../../src/tls/dev-cert.js';
import { tempDir } from '../helpers/async.js';
import { ROOT, run } from '../helpers/tools.js';

const DIR = join(ROOT, 'test/webhook-client');
const haveGo = await run('go', ['version'], { timeout: 20_000 }).then(
  () => true,
  () => false,
);
if (!haveGo) console.warn('go not found: the webhook-client tests are skipped');

let work: Awaited<ReturnType<typeof tempDir>>;
let binary: string;
let server: Server;
let port: number;
let caFile: string;
let bodyFile: string;
const seen = { connections: 0, requests: 0, status: 200, bodies: [] as string[] };

beforeAll(async () => {
  if (!haveGo) return;
  work = await tempDir();
  binary = join(work.path, 'webhook-client');
  await run('go', ['build', '-trimpath', '-o', binary, '.'], { cwd: DIR, timeout: 300_000 });
  const certs = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
  caFile = join(work.path, 'ca.pem');
  bodyFile = join(work.path, 'review.json');
  await writeFile(caFile, certs.ca);
  await writeFile(bodyFile, '{"kind":"AdmissionReview"}');
  server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    seen.requests += 1;
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.bodies.push(`${req.method} ${req.url} ${req.httpVersion} ${body}`);
      res.writeHead(seen.status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.on('secureConnection', () => (seen.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
}, 320_000);

afterAll(async () => {
  if (!haveGo) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await work.cleanup();
});

const firstRequest = (url: string, n: number) =>
  run(
    binary,
    ['first-request', '--url', url, '--body', bodyFile, '--ca', caFile, '--n', String(n)],
    {
      timeout: 60_000,
    },
  );

describe.skipIf(!haveGo)('webhook-client first-request', () => {
  it('makes n fresh connections and one kept-alive one, HTTP/1.1, and prints their medians', async () => {
    Object.assign(seen, { connections: 0, requests: 0, status: 200, bodies: [] });
    const { stdout } = await firstRequest(`https://127.0.0.1:${port}/inject?timeout=10s`, 5);
    const r = JSON.parse(stdout) as Record<string, number | string>;
    // One warm-up on the kept connection, then 5 rounds of one fresh and one kept request.
    expect(seen).toMatchObject({ connections: 6, requests: 11 });
    expect(new Set(seen.bodies)).toEqual(
      new Set(['POST /inject?timeout=10s 1.1 {"kind":"AdmissionReview"}']),
    );
    expect(r['rounds']).toBe(5);
    expect(typeof r['group']).toBe('string');
    for (const key of ['connect', 'handshake', 'afterHandshake', 'first', 'steady'])
      expect(r[key], key).toBeGreaterThan(0);
    expect(Number(r['first'])).toBeGreaterThan(Number(r['afterHandshake']));
    expect(Number(r['first'])).toBeGreaterThan(Number(r['handshake']));
  });

  it('fails on an answer other than 200, and refuses an address that is not loopback', async () => {
    seen.status = 500;
    await expect(firstRequest(`https://127.0.0.1:${port}/inject`, 1)).rejects.toThrow(/500/);
    seen.status = 200;
    await expect(firstRequest('https://192.0.2.1:443/inject', 1)).rejects.toThrow(
      /loopback addresses only/,
    );
  });
});
