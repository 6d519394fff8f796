/**
 * Does a webhook entry's `caBundle` verify the certificate we serve? The API server verifies the
 * webhook's serving chain against the caBundle (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#contacting-the-webhook),
 * so the served leaf must chain, possibly through intermediates sent with it, to a bundle CA.
 * Only signatures and issuers are checked here; expiry is the certificate reloader's concern.
 */
import { X509Certificate } from 'node:crypto';
import type { CaBundleVerdict } from '../core/audit/webhooks.js';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function parsePemCertificates(pem: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const block of pem.match(PEM_BLOCK) ?? []) {
    try {
      out.push(new X509Certificate(block));
    } catch {
      // An unparseable block cannot verify anything: skip it, the others may.
    }
  }
  return out;
}

const issues = (issuer: X509Certificate, subject: X509Certificate): boolean =>
  subject.checkIssued(issuer) && subject.verify(issuer.publicKey);

/** Verifies the served chain (leaf first, PEM) against a base64-encoded PEM bundle. */
export function verifyCaBundle(servedChainPem: string, caBundleBase64: string): CaBundleVerdict {
  const chain = parsePemCertificates(servedChainPem);
  const leaf = chain[0];
  if (leaf === undefined) return { ok: false, why: 'the served certificate cannot be parsed' };
  const bundle = parsePemCertificates(Buffer.from(caBundleBase64, 'base64').toString('utf8'));
  if (bundle.length === 0) return { ok: false, why: 'the caBundle holds no PEM certificate' };
  let current = leaf;
  // Walk up through the intermediates we send; a loop or a missing link ends the walk.
  for (let depth = 0; depth <= chain.length; depth += 1) {
    if (bundle.some((ca) => issues(ca, current))) return { ok: true };
    const next = chain.find((c) => c !== current && issues(c, current));
    if (next === undefined) break;
    current = next;
  }
  const issuer = current.issuer.replace(/\n/g, ', ');
  return { ok: false, why: `no bundle certificate issued ${issuer}` };
}
