/** `startServer` with --compliance-policy: the policy reaches the injected proxy's environment. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Operation } from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/core/pod-types.js';
import { applyPatchStrict } from '../../src/core/patch/apply-strict.js';
import type { RunningServer } from '../../src/server.js';
import { generateDevCertificates, type DevCertificates } from '../../src/tls/dev-cert.js';
import { PAYLOADS_DIR } from '../helpers/shared.js';
import { startTestServer, writeServingPair } from '../helpers/tls-server.js';
import { h1Request } from './clients.js';

let dir: string;
let pair: DevCertificates;
let server: RunningServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'injector-facts-'));
  pair = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
  server = await startTestServer(
    { ...(await writeServingPair(dir, pair)), compliancePolicy: 'fips-140-3', drainSeconds: 0 },
    { cwd: dir },
  );
});

afterAll(async () => {
  await server?.shutdown();
  await rm(dir, { recursive: true, force: true });
});

describe('serve --compliance-policy', () => {
  it('sets COMPLIANCE_POLICY (and GODEBUG for FIPS 140-3) on the injected proxy', async () => {
    const text = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
    const review = JSON.parse(text) as { request: { object: Pod } };
    const reply = await h1Request(server.port, {
      ca: pair.ca,
      path: '/inject',
      method: 'POST',
      body: text,
    });
    const body = JSON.parse(reply.body) as { response: { patch: string } };
    const ops = JSON.parse(
      Buffer.from(body.response.patch, 'base64').toString('utf8'),
    ) as Operation[];
    const pod = applyPatchStrict(review.request.object, ops);
    const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
      (c) => c.name === 'istio-proxy',
    );
    const env = Object.fromEntries((proxy?.env ?? []).map((e) => [e.name, e.value]));
    expect(env['COMPLIANCE_POLICY']).toBe('fips-140-3');
    expect(env['GODEBUG']).toBe('fips140=only');
  });
});
