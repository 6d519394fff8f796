/**
 * Development certificates: a throw-away CA and a serving certificate signed by it, ECDSA P-256,
 * made with Node's WebCrypto. Used by `serve` when no --tls-cert/--tls-key are given, by tests and
 * by the bench. Never for production: the CA key sits next to the certificate.
 */
import { X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

type X509 = typeof import('@peculiar/x509');
let x509Module: Promise<X509> | undefined;

/**
 * @peculiar/x509 and reflect-metadata, loaded on first use: together ~140 ms of start-up, which
 * a server given --tls-cert/--tls-key (every production one) never needs.
 */
function loadX509(): Promise<X509> {
  x509Module ??= (async () => {
    // @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs the Reflect
    // metadata API installed before it loads.
    await import('reflect-metadata');
    // Node gives a CommonJS package's named exports on the namespace; in the bundle
    // (scripts/bundle.mjs) a dynamically imported CommonJS chunk has only its default export.
    const loaded = (await import('@peculiar/x509')) as X509 & { default?: X509 };
    const x509 = loaded.cryptoProvider === undefined && loaded.default ? loaded.default : loaded;
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return x509Module;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface DevCertificates {
  /** PEM of the CA certificate: what a client (or a webhook `caBundle`) trusts. */
  ca: string;
  /** PEM of the serving certificate. */
  cert: string;
  /** PEM (PKCS#8) of the serving certificate's private key. */
  key: string;
}

export interface DevCertOptions {
  /** DNS names and IP addresses the serving certificate is valid for. */
  hosts: readonly string[];
  /** Validity in days (default 30). */
  days?: number;
  /** Common name of the serving certificate (default: the first host). */
  commonName?: string;
  now?: Date;
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

async function exportKey(x509: X509, key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function randomSerial(): string {
  // Positive 16-byte serial: clear the top bit so the DER integer is not negative.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** Creates a fresh CA and a serving certificate for `hosts`, in memory. */
export async function generateDevCertificates(options: DevCertOptions): Promise<DevCertificates> {
  const x509 = await loadX509();
  const now = options.now ?? new Date();
  // Back-date a little so a client with a slightly slow clock accepts the certificate at once.
  const notBefore = new Date(now.getTime() - 5 * 60 * 1000);
  const notAfter = new Date(now.getTime() + (options.days ?? 30) * DAY_MS);

  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=sidecar-injector development CA, O=sidecar-injector',
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const hosts = [...new Set(options.hosts)];
  const leafKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${options.commonName ?? hosts[0] ?? 'localhost'}`,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((host) => ({ type: isIpAddress(host) ? 'ip' : 'dns', value: host })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
    ],
  });

  return {
    ca: caCert.toString('pem') + '\n',
    cert: leaf.toString('pem') + '\n',
    key: (await exportKey(x509, leafKeys.privateKey)) + '\n',
  };
}

/** The hosts a development serving certificate covers. */
export function devCertHosts(istioNamespace: string): string[] {
  return [
    'localhost',
    '127.0.0.1',
    '::1',
    `sidecar-injector.${istioNamespace}.svc`,
    `sidecar-injector.${istioNamespace}.svc.cluster.local`,
  ];
}

export interface DevCertFiles {
  dir: string;
  caPath: string;
  certPath: string;
  keyPath: string;
  /** True when valid files from an earlier start were reused. */
  reused: boolean;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** True when `certPem` is valid for another day, signed by `caPem` and covers every host. */
function stillUsable(caPem: string, certPem: string, hosts: readonly string[], now: Date): boolean {
  try {
    const ca = new NodeX509Certificate(caPem);
    const cert = new NodeX509Certificate(certPem);
    const margin = now.getTime() + DAY_MS;
    if (new Date(cert.validTo).getTime() < margin || new Date(ca.validTo).getTime() < margin) {
      return false;
    }
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    return hosts.every((host) =>
      isIpAddress(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined,
    );
  } catch {
    return false;
  }
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode });
  await rename(temp, path);
}

/**
 * Makes sure `dir` holds a usable development CA (`ca.crt`), serving certificate (`tls.crt`) and
 * key (`tls.key`) for `hosts`; reuses them when still valid, regenerates otherwise.
 */
export async function ensureDevCertificates(
  dir: string,
  hosts: readonly string[],
  now = new Date(),
): Promise<DevCertFiles> {
  const files = {
    dir,
    caPath: join(dir, 'ca.crt'),
    certPath: join(dir, 'tls.crt'),
    keyPath: join(dir, 'tls.key'),
  };
  const [ca, cert, key] = await Promise.all([
    readIfPresent(files.caPath),
    readIfPresent(files.certPath),
    readIfPresent(files.keyPath),
  ]);
  if (ca && cert && key && stillUsable(ca, cert, hosts, now)) return { ...files, reused: true };

  const fresh = await generateDevCertificates({ hosts, now });
  await mkdir(dir, { recursive: true });
  await writeAtomically(files.keyPath, fresh.key, 0o600);
  await writeAtomically(files.certPath, fresh.cert, 0o644);
  await writeAtomically(files.caPath, fresh.ca, 0o644);
  return { ...files, reused: false };
}
