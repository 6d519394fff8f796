import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { tempDir } from '../helpers/async.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const openssl = await run('openssl', ['version'])
  .then(() => true)
  .catch(() => false);
if (!openssl) console.warn('openssl not found on PATH: certs/generate.sh tests are skipped');

describe.skipIf(!openssl)('certs/generate.sh', () => {
  it('makes a CA, a serving certificate for the Service, the Secret and the caBundle patch', async () => {
    const dir = await tempDir();
    try {
      const patchPath = join(dir.path, 'cabundle-patch.yaml');
      await run('bash', [
        join(ROOT, 'certs/generate.sh'),
        '--out',
        dir.path,
        '--patch',
        patchPath,
        '--service',
        'hook',
        '--namespace',
        'mesh',
      ]);
      const caPem = await readFile(join(dir.path, 'ca.crt'), 'utf8');
      const ca = new X509Certificate(caPem);
      const leaf = new X509Certificate(await readFile(join(dir.path, 'tls.crt')));
      expect(ca.ca).toBe(true);
      expect(leaf.ca).toBe(false);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.subjectAltName?.split(', ')).toEqual(
        expect.arrayContaining(['DNS:hook.mesh.svc', 'DNS:hook.mesh.svc.cluster.local']),
      );
      expect((await stat(join(dir.path, 'tls.key'))).mode & 0o077).toBe(0);

      const secret = parse(await readFile(join(dir.path, 'tls-secret.yaml'), 'utf8')) as {
        type: string;
        metadata: { name: string; namespace: string };
        data: Record<string, string>;
      };
      expect(secret.type).toBe('kubernetes.io/tls');
      expect(secret.metadata).toEqual({ name: 'sidecar-injector-tls', namespace: 'mesh' });
      expect(Buffer.from(secret.data['ca.crt'] ?? '', 'base64').toString()).toBe(caPem);

      const ops = parse(await readFile(patchPath, 'utf8')) as {
        op: string;
        path: string;
        value: string;
      }[];
      expect(ops.map((o) => o.path)).toEqual(
        [0, 1, 2, 3].map((i) => `/webhooks/${i}/clientConfig/caBundle`),
      );
      for (const op of ops) expect(Buffer.from(op.value, 'base64').toString()).toBe(caPem);
    } finally {
      await dir.cleanup();
    }
  });

  it('patches as many webhook entries as the base configuration has', async () => {
    const mwc = parse(
      await readFile(join(ROOT, 'manifests/base/mutatingwebhookconfiguration.yaml'), 'utf8'),
    ) as { webhooks: unknown[] };
    const placeholder = parse(
      await readFile(join(ROOT, 'manifests/overlays/self-signed/cabundle-patch.yaml'), 'utf8'),
    ) as unknown[];
    expect(placeholder).toHaveLength(mwc.webhooks.length);
  });
});
