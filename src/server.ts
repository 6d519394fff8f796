/**
 * `serve`: builds the metrics, configuration, cluster adapters, certificates and the app from
 * validated options and a logger, and listens. Everything it wires is a plain dependency of
 * something else, so each part is testable. CLI dispatch and signals are src/main.ts's.
 */
import type { Server as HttpServer } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ServeOptions } from './cli/serve.js';
import {
  createStaticConfigProvider,
  loadStaticConfig,
  readConfigDir,
} from './config-sources/static.js';
import { chooseConfigSource, type ConfigSourceKind } from './config-sources/choose.js';
import { defaultInjectionConfig } from './core/config/defaults.js';
import type {
  ClusterFacts,
  ClusterFactsProvider,
  ClusterReadiness,
  ConfigProvider,
  NamespaceResolver,
} from './core/contracts.js';
import { InjectorError } from './errors.js';
import { buildApp, type InjectorApp } from './http/app.js';
import { http } from './http/node-http.js';
import type { ReviewEventSink } from './http/routes.js';
import { createMetrics, type InjectorMetrics } from './metrics/registry.js';
import { certificateNotAfter, createCertReloader, type CertReloader } from './tls/cert-reloader.js';
import { devCertHosts, ensureDevCertificates } from './tls/dev-cert.js';

/** Everything the server needs from the cluster side (the adapter types of src/core/contracts.ts). */
interface ClusterWiring {
  config?: ConfigProvider;
  namespaces?: NamespaceResolver;
  facts?: ClusterFactsProvider;
  readiness?: ClusterReadiness;
  revisionTags?: () => readonly string[];
  events?: ReviewEventSink;
  stop(): Promise<void>;
}

export interface RunningServer {
  app: InjectorApp;
  /** The bound TLS port (useful with --port 0). */
  port: number;
  metricsPort?: number;
  /** Where the development CA was written, when development certificates are in use. */
  devCaPath?: string;
  /** Marks the server not ready, keeps answering for the drain period, then closes everything. */
  shutdown(): Promise<void>;
}

/**
 * Cluster mode: the informers (namespaces, ConfigMaps, nodes) of src/k8s. Loaded on demand so
 * offline mode never loads the Kubernetes client.
 */
async function startClusterWiring(
  options: ServeOptions,
  logger: Logger,
  metrics: InjectorMetrics,
  configDir: ConfigProvider | undefined,
  servedCertificate: () => string,
): Promise<ClusterWiring> {
  const { startClusterRuntime } = await import('./k8s/runtime.js');
  const runtime = await startClusterRuntime({
    ...(options.kubeconfig !== undefined ? { kubeconfigPath: options.kubeconfig } : {}),
    istioNamespace: options.istioNamespace,
    revision: options.revision,
    nativeSidecars: options.nativeSidecars,
    logger,
    registry: metrics.registry,
    staticFacts: platformFacts(options),
    events: options.events,
    // `--config-dir` replaces the ConfigMaps: then no ConfigMap informer is started.
    ...(configDir === undefined ? {} : { config: configDir }),
    ...(options.audit
      ? {
          audit: {
            intervalMs: options.auditIntervalSeconds * 1000,
            events: options.auditEvents,
            webhookConfiguration: options.webhookConfig,
            service: options.service,
            servedCertificate,
          },
        }
      : {}),
  });
  return {
    config: runtime.config,
    namespaces: runtime.namespaces,
    facts: runtime.facts,
    readiness: runtime.readiness,
    revisionTags: runtime.revisionTags,
    ...(runtime.events === undefined ? {} : { events: runtime.events }),
    stop: () => runtime.stop(),
  };
}

/** Facts fixed for the process: istiod's PLATFORM and COMPLIANCE_POLICY equivalents. */
function platformFacts(
  options: ServeOptions,
): Pick<ClusterFacts, 'openshift' | 'compliancePolicy'> {
  return {
    ...(options.platform === 'openshift' ? { openshift: true } : {}),
    ...(options.compliancePolicy === '' ? {} : { compliancePolicy: options.compliancePolicy }),
  };
}

/** The server's provider for the source chosen by src/config-sources/choose.ts. */
function liveConfigProvider(
  kind: ConfigSourceKind,
  live: {
    dir?: ConfigProvider | undefined;
    cluster?: ConfigProvider | undefined;
    revision: string;
  },
): ConfigProvider {
  if (kind === 'config-dir' && live.dir !== undefined) return live.dir;
  if (kind === 'cluster' && live.cluster !== undefined) return live.cluster;
  const embedded = defaultInjectionConfig();
  return createStaticConfigProvider(
    live.revision === 'default' ? embedded : { ...embedded, revision: live.revision },
  );
}

/** `--config-dir`, watched for changes (validated beforehand by `startServer`). */
async function configDirProvider(
  dir: string,
  options: ServeOptions,
  logger: Logger,
  metrics: InjectorMetrics,
): Promise<ConfigProvider> {
  const { createDirConfigProvider } = await import('./config-sources/dir-provider.js');
  return createDirConfigProvider(dir, {
    logger,
    registry: metrics.registry,
    revision: options.revision,
  });
}

async function serveMetrics(
  port: number,
  host: string,
  metrics: InjectorMetrics,
): Promise<HttpServer> {
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url?.split('?')[0] === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
        },
        () => response.writeHead(500).end(),
      );
      return;
    }
    response
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ code: 'INJ_ERR_NOT_FOUND', message: 'only GET /metrics is served' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** Runs `listen`; a taken address becomes INJ_ERR_PORT_IN_USE naming the flag to change. */
async function listenOrExplain<T>(
  listen: () => Promise<T>,
  where: { host: string; port: number; flag: string; env: string },
): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const address = `${where.host}:${where.port}`;
    throw new InjectorError(
      'INJ_ERR_PORT_IN_USE',
      `${address} is already in use by another process; choose another port with ${where.flag} (or ${where.env}), or stop the other process`,
      {
        details: [{ field: where.flag, value: String(where.port), reason: 'address in use' }],
        cause: error,
      },
    );
  }
}

/** What the routes read from the cluster wiring: nothing offline. */
function clusterRouteOptions(cluster: ClusterWiring | undefined) {
  if (cluster === undefined) return {};
  return {
    namespaces: cluster.namespaces,
    facts: cluster.facts,
    clusterReadiness: cluster.readiness,
    revisionTags: cluster.revisionTags,
    events: cluster.events,
  };
}

/** Builds and starts the webhook server from validated options. */
export async function startServer(
  options: ServeOptions,
  context: { logger: Logger; cwd: string; metrics?: InjectorMetrics },
): Promise<RunningServer> {
  const { logger } = context;
  const metrics = context.metrics ?? createMetrics();
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn();
  };

  try {
    // A broken --config-dir is a usage error (exit 2): find out before creating anything.
    if (options.configDir !== undefined) {
      loadStaticConfig(await readConfigDir(options.configDir), { revision: options.revision });
    }
    let certPath = options.tlsCert;
    let keyPath = options.tlsKey;
    let devCaPath: string | undefined;
    if (certPath === undefined || keyPath === undefined) {
      const files = await ensureDevCertificates(
        join(context.cwd, 'certs', 'dev'),
        devCertHosts(options.istioNamespace),
      );
      certPath = files.certPath;
      keyPath = files.keyPath;
      devCaPath = files.caPath;
      logger.warn(
        { caFile: files.caPath, reused: files.reused },
        'no --tls-cert/--tls-key: serving a development certificate; trust the CA file to connect',
      );
    }
    const reloader: CertReloader = await createCertReloader({
      certPath,
      keyPath,
      contextOptions: { minVersion: 'TLSv1.2' },
      onReload: (pair) => {
        metrics.certificateExpiry.set(certificateNotAfter(pair.cert));
        logger.info({ certPath }, 'serving certificate reloaded');
      },
      onError: (error) =>
        logger.error(
          { code: error.code, err: error },
          'new certificate rejected; keeping the old one',
        ),
    });
    cleanups.push(() => reloader.close());
    metrics.certificateExpiry.set(certificateNotAfter(reloader.current().cert));

    const dirConfig =
      options.configDir === undefined
        ? undefined
        : await configDirProvider(options.configDir, options, logger, metrics);
    let cluster: ClusterWiring | undefined;
    if (options.clusterMode !== 'offline') {
      cluster = await startClusterWiring(
        options,
        logger,
        metrics,
        dirConfig,
        () => reloader.current().cert,
      );
      cleanups.push(() => cluster?.stop());
    }
    const config = liveConfigProvider(
      chooseConfigSource({
        configDir: options.configDir,
        cluster: options.clusterMode !== 'offline',
      }),
      { dir: dirConfig, cluster: cluster?.config, revision: options.revision },
    );
    cleanups.push(() => config.close());

    // Offline there is no node informer: `auto` cannot prove every kubelet is new enough (spec §2.4).
    const staticFacts: ClusterFacts = {
      nativeSidecars: options.nativeSidecars === 'enabled',
      ...platformFacts(options),
    };
    let draining = false;
    const app = buildApp({
      config,
      logger,
      metrics,
      ...clusterRouteOptions(cluster),
      staticFacts,
      certificateReady: () => true,
      draining: () => draining,
      tls: reloader.current(),
    });
    reloader.attach(app.server as unknown as Http2SecureServer);
    await listenOrExplain(() => app.listen({ port: options.port, host: options.host }), {
      host: options.host,
      port: options.port,
      flag: '--port',
      env: 'INJECTOR_PORT',
    });
    cleanups.push(() => app.close());
    const port = (app.server.address() as AddressInfo).port;

    let metricsPort: number | undefined;
    if (options.metricsPort !== undefined) {
      const metricsPortFlag = options.metricsPort;
      const metricsServer = await listenOrExplain(
        () => serveMetrics(metricsPortFlag, options.host, metrics),
        {
          host: options.host,
          port: metricsPortFlag,
          flag: '--metrics-port',
          env: 'INJECTOR_METRICS_PORT',
        },
      );
      metricsPort = (metricsServer.address() as AddressInfo).port;
      cleanups.push(() => new Promise<void>((resolve) => metricsServer.close(() => resolve())));
    }
    logger.info(
      {
        port,
        host: options.host,
        clusterMode: options.clusterMode,
        revision: options.revision,
        ...(metricsPort !== undefined ? { metricsPort } : {}),
      },
      'sidecar injector listening',
    );

    let closing: Promise<void> | undefined;
    return {
      app,
      port,
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      ...(devCaPath !== undefined ? { devCaPath } : {}),
      shutdown() {
        closing ??= (async () => {
          // kubernetes/kubernetes#127335: the API server keeps using open connections to a
          // terminating pod; fail readiness, keep answering until the endpoint is gone, then close.
          draining = true;
          logger.info({ drainSeconds: options.drainSeconds }, 'draining before shutdown');
          await new Promise((resolve) => setTimeout(resolve, options.drainSeconds * 1000));
          await cleanup();
          logger.info('shut down');
        })();
        return closing;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
