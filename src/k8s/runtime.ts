/**
 * Composition of the Kubernetes side: the Namespace cache, the ConfigMap-backed configuration and the
 * Node facts, each on its own self-restarting informer. Nothing here is called on the request path
 * except the caches' reads and the namespace resolver's bounded GET on a miss.
 */
import type { Registry } from 'prom-client';
import { clusterMetrics } from '../metrics/registry.js';
import type { Logger } from 'pino';
import { loadInjectionConfig } from '../core/config/load.js';
import { detectNativeSidecars } from '../core/native-sidecars.js';
import type {
  ClusterFacts,
  ClusterFactsProvider,
  ClusterReadiness,
  ConfigProvider,
  NamespaceResolver,
} from '../core/contracts.js';
import type { ConfigLoader } from '../config-sources/reloading.js';
import { createConfigMapProvider, type ConfigMapProvider } from './configmap-provider.js';
import type { BackoffOptions } from './informer.js';
import { ACCEPT_PARTIAL_METADATA, AcceptingKubeConfig, loadKubeConfig } from './kubeconfig.js';
import { createNamespaceCache } from './namespace-cache.js';
import {
  createNodeFacts,
  type NativeSidecarDetector,
  type NativeSidecarMode,
} from './node-facts.js';

export interface ClusterRuntimeOptions {
  /** Path of a kubeconfig file; in-cluster service-account configuration when absent. */
  kubeconfigPath?: string;
  istioNamespace: string;
  revision: string;
  nativeSidecars: NativeSidecarMode;
  logger: Logger;
  registry: Registry;
  /** OpenShift UID handling and compliance policy, copied into every ClusterFacts. */
  staticFacts?: Omit<ClusterFacts, 'nativeSidecars' | 'namespaceAnnotations'>;
  /** Restart backoff of the informers (tests shorten it). */
  backoff?: BackoffOptions;
  /**
   * A configuration provider to use instead of watching the ConfigMaps (`--config-dir`): no
   * ConfigMap informer is started, and the caller keeps ownership of the provider.
   */
  config?: ConfigProvider;
  /** Overrides of the pure core functions (tests). */
  load?: ConfigLoader;
  detect?: NativeSidecarDetector;
}

export interface ClusterRuntime {
  config: ConfigProvider;
  namespaces: NamespaceResolver;
  facts: ClusterFactsProvider;
  readiness: ClusterReadiness;
  /** Resolves once every informer has synced and a configuration is loaded. */
  whenSynced(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the informers and returns at once: readiness reports when they have synced. Rejects with
 * INJ_ERR_CLI_USAGE when the kubeconfig cannot be loaded.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- async so that load errors reject
export async function startClusterRuntime(opts: ClusterRuntimeOptions): Promise<ClusterRuntime> {
  const logger = opts.logger.child({ component: 'k8s' });
  const kubeConfig = loadKubeConfig(opts.kubeconfigPath);
  const watchMetadataConfig = AcceptingKubeConfig.from(
    opts.kubeconfigPath,
    ACCEPT_PARTIAL_METADATA,
  );
  const { informerRestarts: restarts, namespaceLookups: lookups } = clusterMetrics(opts.registry);
  const backoff = opts.backoff === undefined ? {} : { backoff: opts.backoff };

  const namespaces = createNamespaceCache({
    kubeConfig,
    watchKubeConfig: watchMetadataConfig,
    logger,
    ...backoff,
    onRestart: () => restarts.inc({ informer: 'namespaces' }),
    onLookup: (source) => lookups.inc({ source }),
  });
  // With a caller-supplied provider (`--config-dir`) no ConfigMap informer runs at all.
  let config: ConfigProvider;
  let watched: ConfigMapProvider | undefined;
  if (opts.config !== undefined) {
    config = opts.config;
  } else {
    watched = createConfigMapProvider({
      kubeConfig,
      istioNamespace: opts.istioNamespace,
      revision: opts.revision,
      load: opts.load ?? ((sources) => loadInjectionConfig(sources, { revision: opts.revision })),
      logger,
      registry: opts.registry,
      ...backoff,
      onRestart: () => restarts.inc({ informer: 'configmaps' }),
    });
    config = watched;
  }
  const facts = createNodeFacts({
    kubeConfig,
    mode: opts.nativeSidecars,
    detect: opts.detect ?? detectNativeSidecars,
    logger,
    ...(opts.staticFacts === undefined ? {} : { staticFacts: opts.staticFacts }),
    ...backoff,
    onRestart: () => restarts.inc({ informer: 'nodes' }),
  });

  const informers = [namespaces.informer, facts.informer];
  if (watched) informers.push(watched.informer);
  for (const informer of informers) informer.start();
  logger.info(
    {
      istioNamespace: opts.istioNamespace,
      revision: opts.revision,
      nativeSidecars: opts.nativeSidecars,
    },
    'cluster runtime started',
  );

  const runtime: ClusterRuntime = {
    config,
    namespaces,
    facts,
    readiness: { synced: () => informers.every((i) => i.synced()) },
    async whenSynced(): Promise<void> {
      await Promise.all(informers.map((i) => i.whenSynced()));
      while (!config.ready()) await new Promise((resolve) => setTimeout(resolve, 10));
    },
    async stop(): Promise<void> {
      await Promise.all([watched?.close(), namespaces.informer.stop(), facts.informer.stop()]);
      logger.info('cluster runtime stopped');
    },
  };
  return runtime;
}
