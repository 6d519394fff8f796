/**
 * The real transport: `startServer` (the composition root) over TLS on 127.0.0.1 with an ephemeral
 * port, spoken to with node:https (HTTP/1.1) and node:http2 on the same port.
 */
import { mkdtemp, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { HTTP2_WINDOW_BYTES, MAX_CONCURRENT_STREAMS } from '../../src/http/app.js';
import { generateDevCertificates, type DevCertificates } from '../../src/tls/dev-cert.js';
import { PAYLOADS_DIR } from '../helpers/shared.js';
import { startTestServer } from '../helpers/tls-server.js';
import {
  closeSession,
  eventually,
  fingerprintOf,
  h1Request,
  h2Connect,
  h2Request,
  handshake,
} from './clients.js';

const HOSTS = ['localhost', '127.0.0.1'];

/**
 * Lays files out like a Kubernetes Secret volume: `tls.crt -> ..data/tls.crt`, `..data` a symlink
 * to a timestamped directory, swapped atomically on update.
 */
async function writeSecretVolume(dir: string, pair: DevCertificates, generation: number) {
  const target = `..gen_${generation}`;
  await mkdir(join(dir, target));
  await writeFile(join(dir, target, 'tls.crt'), pair.cert);
  await writeFile(join(dir, target, 'tls.key'), pair.key);
  await symlink(target, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  if (generation === 1) {
    await symlink('..data/tls.crt', join(dir, 'tls.crt'));
    await symlink('..data/tls.key', join(dir, 'tls.key'));
  }
}

let dir: string;
let first: DevCertificates;
let second: DevCertificates;
let server: RunningServer;
let review: string;
const CAS: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'injector-tls-'));
  [first, second] = await Promise.all([
    generateDevCertificates({ hosts: HOSTS }),
    generateDevCertificates({ hosts: HOSTS }),
  ]);
  CAS.push(first.ca, second.ca);
  await writeSecretVolume(dir, first, 1);
  review = await readFile(join(PAYLOADS_DIR, 'bookinfo-ratings-v1.json'), 'utf8');
  server = await startTestServer(
    { tlsCert: join(dir, 'tls.crt'), tlsKey: join(dir, 'tls.key') },
    { cwd: dir },
  );
});

afterAll(async () => {
  await server?.shutdown();
  await rm(dir, { recursive: true, force: true });
});

describe('one TLS port, two protocols', () => {
  it('HTTP/1.1 (ALPN http/1.1) answers an AdmissionReview', async () => {
    const reply = await h1Request(server.port, {
      ca: first.ca,
      path: '/inject?timeout=10s',
      method: 'POST',
      body: review,
    });
    expect(reply.status).toBe(200);
    expect(reply.protocol).toBe('http/1.1');
    const body = JSON.parse(reply.body) as { response: { allowed: boolean; patchType?: string } };
    expect(body.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
  });

  it('HTTP/2 answers an AdmissionReview on the same port', async () => {
    const session = await h2Connect(server.port, first.ca);
    try {
      expect(session.alpnProtocol).toBe('h2');
      const reply = await h2Request(session, {
        path: '/inject?timeout=10s',
        method: 'POST',
        body: review,
      });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toMatchObject({ response: { allowed: true } });
    } finally {
      await closeSession(session);
    }
  });

  it('advertises a bounded number of concurrent HTTP/2 streams', async () => {
    const session = await h2Connect(server.port, first.ca);
    try {
      // The server's SETTINGS frame may arrive after 'connect'; a request guarantees it was read.
      await h2Request(session, { path: '/healthz' });
      expect(session.remoteSettings.maxConcurrentStreams).toBe(MAX_CONCURRENT_STREAMS);
    } finally {
      await closeSession(session);
    }
  });

  it('opens a 1 MiB HTTP/2 receive window per stream and per connection', async () => {
    const session = await h2Connect(server.port, first.ca);
    try {
      await h2Request(session, { path: '/healthz' });
      // Per stream: the SETTINGS value. Per connection: the window the server's WINDOW_UPDATE
      // opened, which is what this client may still send (65 535 by the protocol's default).
      expect(session.remoteSettings.initialWindowSize).toBe(HTTP2_WINDOW_BYTES);
      expect(session.state.remoteWindowSize).toBe(HTTP2_WINDOW_BYTES);
      // 64 Bookinfo-sized bodies at once (~220 KiB, over three times the default window) are all
      // answered on the one connection.
      const review = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
      const replies = await Promise.all(
        Array.from({ length: 64 }, () =>
          h2Request(session, { path: '/inject?timeout=10s', method: 'POST', body: review }),
        ),
      );
      expect(replies.map((r) => r.status)).toEqual(Array.from({ length: 64 }, () => 200));
    } finally {
      await closeSession(session);
    }
  });

  it('TLS 1.2 is accepted, TLS 1.1 is refused', async () => {
    const ok = await handshake(server.port, { ca: first.ca, maxVersion: 'TLSv1.2' });
    expect(ok.version).toBe('TLSv1.2');
    // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal comes from the server.
    await expect(
      handshake(server.port, {
        ca: first.ca,
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      }),
    ).rejects.toThrow(/protocol version|unsupported protocol|alert/i);
  });
});

describe('certificate rotation while serving', () => {
  it('new connections get the new certificate; an open HTTP/2 session keeps working', async () => {
    const before = await handshake(server.port, { ca: CAS });
    expect(before.fingerprint).toBe(fingerprintOf(first.cert));

    const session = await h2Connect(server.port, CAS);
    try {
      expect((await h2Request(session, { path: '/healthz' })).status).toBe(200);

      await writeSecretVolume(dir, second, 2);
      const rotated = await eventually(async () => {
        const now = await handshake(server.port, { ca: CAS });
        return now.fingerprint === fingerprintOf(second.cert);
      });
      expect(rotated).toBe(true);

      // The session opened before the swap still serves requests.
      const reply = await h2Request(session, {
        path: '/inject?timeout=10s',
        method: 'POST',
        body: review,
      });
      expect(reply.status).toBe(200);
    } finally {
      await closeSession(session);
    }
  });

  it('a bad new pair is rejected and the current certificate stays', async () => {
    const current = (await handshake(server.port, { ca: CAS })).fingerprint;
    // A certificate with a key that does not belong to it.
    await writeSecretVolume(dir, { ...first, key: second.key, ca: first.ca }, 3);
    // Give the watcher well past its debounce to (not) apply the change.
    await new Promise((resolve) => setTimeout(resolve, 800));
    const after = await handshake(server.port, { ca: CAS });
    expect(after.fingerprint).toBe(current);
    expect((await h1Request(server.port, { ca: CAS, path: '/readyz' })).status).toBe(200);
  });
});
