/**
 * Serving certificate and key read from files and swapped into the running TLS server when they
 * change. Kubernetes Secret volumes update through a `..data` symlink swap, so the parent
 * directory is watched rather than the files. Node keeps existing connections on their old
 * context: "Existing connections to the server are not interrupted"
 * (https://nodejs.org/api/tls.html#serversetsecurecontextoptions).
 */
import { watch, readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { dirname } from 'node:path';
import { InjectorError } from '../errors.js';

export interface CertificatePair {
  cert: string;
  key: string;
}

/** Reads both files and checks they form a usable pair; throws INJ_ERR_TLS naming the problem. */
export async function readCertificatePair(
  certPath: string,
  keyPath: string,
): Promise<CertificatePair> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  } catch (error) {
    throw new InjectorError(
      'INJ_ERR_TLS',
      `cannot read --tls-cert ${certPath} or --tls-key ${keyPath}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    // createSecureContext fails when the key does not match the certificate or either is garbage.
    createSecureContext({ cert, key });
    new X509Certificate(cert);
  } catch (error) {
    throw new InjectorError(
      'INJ_ERR_TLS',
      `--tls-cert ${certPath} and --tls-key ${keyPath} are not a valid certificate and matching key: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { cert, key };
}

/** notAfter of the first certificate in `pem` (the leaf), in seconds since the epoch. */
export function certificateNotAfter(pem: string): number {
  return Math.floor(new X509Certificate(pem).validToDate.getTime() / 1000);
}

/** What the reloader needs from the server: `tls.Server#setSecureContext`. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

export interface CertReloaderOptions {
  certPath: string;
  keyPath: string;
  /** Extra options kept on every new context (e.g. minVersion). */
  contextOptions?: SecureContextOptions;
  /** Quiet period after the last file event before reloading (default 200 ms). */
  debounceMs?: number;
  onReload?: (pair: CertificatePair) => void;
  onError?: (error: InjectorError) => void;
}

export interface CertReloader {
  /** The pair currently served. */
  current(): CertificatePair;
  /** Starts applying changes to `target`. */
  attach(target: SecureContextTarget): void;
  /** Re-reads the files now; keeps the old pair (and reports) when the new one is bad. */
  reload(): Promise<boolean>;
  close(): void;
}

/** Loads the initial pair (throws INJ_ERR_TLS when unusable) and starts watching. */
export async function createCertReloader(options: CertReloaderOptions): Promise<CertReloader> {
  let pair = await readCertificatePair(options.certPath, options.keyPath);
  let target: SecureContextTarget | undefined;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let reloading: Promise<boolean> | undefined;

  const reload = async (): Promise<boolean> => {
    try {
      const next = await readCertificatePair(options.certPath, options.keyPath);
      if (next.cert === pair.cert && next.key === pair.key) return false;
      target?.setSecureContext({ ...options.contextOptions, cert: next.cert, key: next.key });
      pair = next;
      options.onReload?.(next);
      return true;
    } catch (error) {
      // A half-written or mismatched pair: keep serving the old one and say so.
      const injectorError =
        error instanceof InjectorError
          ? error
          : new InjectorError('INJ_ERR_TLS', (error as Error).message, { cause: error });
      options.onError?.(injectorError);
      return false;
    }
  };

  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      // Serialise reloads so a burst of events never applies an older read after a newer one.
      const previous = reloading ?? Promise.resolve(false);
      reloading = previous.then(reload, reload);
    }, options.debounceMs ?? 200);
    timer.unref();
  };

  const watchDir = async (dir: string) => {
    try {
      // Any event in the directory may be the swap; the reload itself checks what changed.
      const events = watch(dir, { signal: abort.signal, persistent: false });
      for await (const event of events) if (event.eventType) schedule();
    } catch (error) {
      if ((error as Error).name !== 'AbortError') {
        options.onError?.(
          new InjectorError('INJ_ERR_TLS', `cannot watch ${dir}: ${(error as Error).message}`),
        );
      }
    }
  };
  for (const dir of new Set([dirname(options.certPath), dirname(options.keyPath)])) {
    void watchDir(dir);
  }

  return {
    current: () => pair,
    attach(server) {
      target = server;
    },
    reload,
    close() {
      abort.abort();
      if (timer) clearTimeout(timer);
    },
  };
}
