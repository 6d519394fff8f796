/**
 * Starting the real server (`startServer`, the composition root) in tests: 127.0.0.1 only, an
 * ephemeral port, offline, silent logs and a private metrics registry, so each test states only
 * the options it is about.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServeOptions } from '../../src/cli/serve.js';
import { createLogger } from '../../src/logging/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createMetrics, type InjectorMetrics } from '../../src/metrics/registry.js';
import type { DevCertificates } from '../../src/tls/dev-cert.js';

/** The options every test server shares; `port: 0` lets the system pick a free port. */
export const TEST_SERVE_OPTIONS: ServeOptions = {
  port: 0,
  host: '127.0.0.1',
  clusterMode: 'offline',
  istioNamespace: 'istio-system',
  revision: 'default',
  nativeSidecars: 'disabled',
  platform: 'kubernetes',
  compliancePolicy: '',
  logLevel: 'silent',
  drainSeconds: 1,
  audit: true,
  auditIntervalSeconds: 15,
  auditEvents: false,
  events: false,
  webhookConfig: 'sidecar-injector',
  service: { namespace: 'sidecar-injector', name: 'sidecar-injector' },
};

/** Writes a serving pair as `tls.crt` / `tls.key` in `dir` and returns the two paths. */
export async function writeServingPair(
  dir: string,
  pair: DevCertificates,
): Promise<Pick<ServeOptions, 'tlsCert' | 'tlsKey'>> {
  const tlsCert = join(dir, 'tls.crt');
  const tlsKey = join(dir, 'tls.key');
  await writeFile(tlsCert, pair.cert);
  await writeFile(tlsKey, pair.key);
  return { tlsCert, tlsKey };
}

/** Starts a test server with `options` over TEST_SERVE_OPTIONS; the caller shuts it down. */
export function startTestServer(
  options: Partial<ServeOptions>,
  context: { cwd: string; metrics?: InjectorMetrics },
): Promise<RunningServer> {
  return startServer(
    { ...TEST_SERVE_OPTIONS, ...options },
    {
      logger: createLogger({ level: 'silent' }),
      cwd: context.cwd,
      metrics: context.metrics ?? createMetrics({ processMetrics: false }),
    },
  );
}
