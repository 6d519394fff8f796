/**
 * Graceful shutdown (drain, then close), the certificate reloader on its own, and the development
 * certificate files.
 */
import { X509Certificate } from 'node:crypto';
import * as https from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertReloader } from '../../src/tls/cert-reloader.js';
import {
  devCertHosts,
  ensureDevCertificates,
  generateDevCertificates,
  type DevCertificates,
} from '../../src/tls/dev-cert.js';
import type { InjectorError } from '../../src/errors.js';
import { PAYLOADS_DIR } from '../helpers/shared.js';
import { startTestServer, writeServingPair } from '../helpers/tls-server.js';
import { h1Request, h2Connect, h2Request } from './clients.js';
import { rejectionText } from '../helpers/errors.js';

const HOSTS = ['localhost', '127.0.0.1'];
let dir: string;
let pair: DevCertificates;
let other: DevCertificates;
let servingPair: Awaited<ReturnType<typeof writeServingPair>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'injector-shutdown-'));
  [pair, other] = await Promise.all([
    generateDevCertificates({ hosts: HOSTS }),
    generateDevCertificates({ hosts: HOSTS }),
  ]);
  servingPair = await writeServingPair(dir, pair);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('graceful shutdown', () => {
  it('keeps answering during the drain with readiness failing, then refuses connections', async () => {
    const server = await startTestServer(servingPair, { cwd: dir });
    const review = await readFile(join(PAYLOADS_DIR, 'bookinfo-reviews-v2.json'), 'utf8');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const port = server.port;
      expect((await h1Request(port, { ca: pair.ca, path: '/readyz', agent })).status).toBe(200);

      const closed = server.shutdown();
      // During the drain: not ready, but reviews on the open connection and on new ones succeed.
      expect((await h1Request(port, { ca: pair.ca, path: '/readyz', agent })).status).toBe(503);
      const onOpen = await h1Request(port, {
        ca: pair.ca,
        path: '/inject',
        method: 'POST',
        body: review,
        agent,
      });
      expect(onOpen.status).toBe(200);
      const onNew = await h1Request(port, {
        ca: pair.ca,
        path: '/inject',
        method: 'POST',
        body: review,
      });
      expect(onNew.status).toBe(200);
      expect(JSON.parse(onNew.body)).toMatchObject({ response: { allowed: true } });

      await closed;
      await expect(h1Request(port, { ca: pair.ca, path: '/healthz' })).rejects.toThrow(
        /ECONNREFUSED/,
      );
    } finally {
      agent.destroy();
      await server.shutdown();
    }
  });
});

describe('graceful shutdown with an idle HTTP/2 session', () => {
  it('the session keeps working during the drain, then gets GOAWAY and the server closes', async () => {
    const server = await startTestServer(servingPair, { cwd: dir });
    const session = await h2Connect(server.port, pair.ca);
    session.on('error', () => undefined);
    try {
      const goaway = new Promise<boolean>((resolve) => {
        session.once('goaway', () => resolve(true));
        session.once('close', () => resolve(true));
      });
      expect((await h2Request(session, { path: '/healthz' })).status).toBe(200);
      const closed = server.shutdown();
      expect((await h2Request(session, { path: '/readyz' })).status).toBe(503);
      expect((await h2Request(session, { path: '/healthz' })).status).toBe(200);
      // The session is left open by the client: shutdown must still finish and tell it to go.
      await closed;
      expect(await goaway).toBe(true);
    } finally {
      session.destroy();
      await server.shutdown();
    }
  });
});

describe('certificate reloader', () => {
  it('applies a good new pair and rejects a mismatched one, keeping the old', async () => {
    const certPath = join(dir, 'r.crt');
    const keyPath = join(dir, 'r.key');
    await writeFile(certPath, pair.cert);
    await writeFile(keyPath, pair.key);
    const applied: string[] = [];
    const errors: InjectorError[] = [];
    const reloader = await createCertReloader({
      certPath,
      keyPath,
      debounceMs: 10_000, // only explicit reload() calls in this test
      onError: (error) => errors.push(error),
    });
    reloader.attach({ setSecureContext: (options) => applied.push(String(options.cert)) });
    try {
      expect(await reloader.reload()).toBe(false); // unchanged files: nothing to do

      await writeFile(certPath, other.cert); // key still the old one: mismatch
      expect(await reloader.reload()).toBe(false);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.code).toBe('INJ_ERR_TLS');
      expect(applied).toHaveLength(0);
      expect(reloader.current().cert).toBe(pair.cert);

      await writeFile(keyPath, other.key);
      expect(await reloader.reload()).toBe(true);
      expect(applied).toEqual([other.cert]);
      expect(reloader.current().cert).toBe(other.cert);
    } finally {
      reloader.close();
    }
  });

  it('refuses to start on an unreadable pair with INJ_ERR_TLS naming the files', async () => {
    expect(
      await rejectionText(
        createCertReloader({
          certPath: join(dir, 'missing.crt'),
          keyPath: join(dir, 'missing.key'),
        }),
      ),
    ).toMatch(/INJ_ERR_TLS.*missing\.crt/);
  });
});

describe('development certificates', () => {
  it('are generated once for the expected hosts, then reused while valid', async () => {
    const certDir = join(dir, 'certs', 'dev');
    const hosts = devCertHosts('istio-system');
    const created = await ensureDevCertificates(certDir, hosts);
    expect(created.reused).toBe(false);
    const cert = new X509Certificate(await readFile(created.certPath, 'utf8'));
    const ca = new X509Certificate(await readFile(created.caPath, 'utf8'));
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    for (const host of ['localhost', 'sidecar-injector.istio-system.svc']) {
      expect(cert.checkHost(host)).toBe(host);
    }
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');

    const again = await ensureDevCertificates(certDir, hosts);
    expect(again.reused).toBe(true);
    expect(await readFile(again.certPath, 'utf8')).toBe(await readFile(created.certPath, 'utf8'));

    // A different namespace is not covered: new certificates are made.
    const other = await ensureDevCertificates(certDir, devCertHosts('mesh'));
    expect(other.reused).toBe(false);
  });

  it('expired certificates are replaced', async () => {
    const certDir = join(dir, 'certs', 'expiring');
    await ensureDevCertificates(certDir, HOSTS);
    const later = new Date(Date.now() + 60 * 24 * 60 * 60 * 1000);
    expect((await ensureDevCertificates(certDir, HOSTS, later)).reused).toBe(false);
  });
});
