import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { generateDevCertificates } from '../../../src/tls/dev-cert.js';
import { parsePemCertificates, verifyCaBundle } from '../../../src/tls/ca-bundle.js';

const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** root -> intermediate -> leaf, the chain a corporate CA usually issues. */
async function threeLevels(): Promise<{ root: string; intermediate: string; leaf: string }> {
  x509.cryptoProvider.set(webcrypto);
  const keys = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const [rootKeys, midKeys, leafKeys] = await Promise.all([keys(), keys(), keys()]);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const ca = [new x509.BasicConstraintsExtension(true, 1, true)];
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=root',
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    keys: rootKeys,
    extensions: ca,
  });
  const mid = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=intermediate',
    issuer: root.subject,
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    publicKey: midKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: ca,
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '03',
    subject: 'CN=sidecar-injector.sidecar-injector.svc',
    issuer: mid.subject,
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    publicKey: leafKeys.publicKey,
    signingKey: midKeys.privateKey,
  });
  return {
    root: root.toString('pem'),
    intermediate: mid.toString('pem'),
    leaf: leaf.toString('pem'),
  };
}

describe('verifyCaBundle', () => {
  it('accepts the issuing CA, also among other certificates, and rejects another CA', async () => {
    const ours = await generateDevCertificates({ hosts: ['a.svc'] });
    const other = await generateDevCertificates({ hosts: ['b.svc'] });
    expect(verifyCaBundle(ours.cert, b64(ours.ca))).toEqual({ ok: true });
    expect(verifyCaBundle(ours.cert, b64(other.ca + ours.ca))).toEqual({ ok: true });
    const wrong = verifyCaBundle(ours.cert, b64(other.ca));
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.why).toContain('sidecar-injector development CA');
  });

  it('follows the intermediates sent with the leaf up to a root in the bundle', async () => {
    const chain = await threeLevels();
    expect(verifyCaBundle(`${chain.leaf}\n${chain.intermediate}`, b64(chain.root))).toEqual({
      ok: true,
    });
    expect(verifyCaBundle(chain.leaf, b64(chain.intermediate))).toEqual({ ok: true });
    // Without the intermediate the root cannot be reached.
    expect(verifyCaBundle(chain.leaf, b64(chain.root)).ok).toBe(false);
  });

  it('says why when the bundle or the certificate is unusable', async () => {
    const ours = await generateDevCertificates({ hosts: ['a.svc'] });
    expect(verifyCaBundle(ours.cert, b64('not a certificate'))).toEqual({
      ok: false,
      why: 'the caBundle holds no PEM certificate',
    });
    expect(verifyCaBundle('garbage', b64(ours.ca))).toEqual({
      ok: false,
      why: 'the served certificate cannot be parsed',
    });
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
    expect(parsePemCertificates(`${broken}\n${ours.ca}`)).toHaveLength(1);
  });
});
