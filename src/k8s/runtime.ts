/**
 * Composition of the Kubernetes side: the Namespace cache, the ConfigMap-backed configuration, the
 * Node facts and the ProxyConfig resources, each on its own self-restarting informer. Nothing here is called on the request path
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
import { chooseProxyConfigSource } from '../config-sources/choose.js';
import type { ConfigLoader } from '../config-sources/reloading.js';
import { createConfigMapProvider, type ConfigMapProvider } from './configmap-provider.js';
import type { BackoffOptions } from './informer.js';
import { ACCEPT_PARTIAL_METADATA, AcceptingKubeConfig, loadKubeConfig } from './kubeconfig.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { createNamespaceCache, toNamespaceInfo, type NamespaceCache } from './namespace-cache.js';
import { createPodAudit, type PodAudit } from './pod-audit.js';
import { createProxyConfigSource, type ProxyConfigSource } from './proxy-config-source.js';
import { createWebhookAudit, type WebhookAudit } from './webhook-audit.js';
import {
  createWebhookConfigurationWatch,
  type WebhookConfigurationWatch,
} from './webhook-configurations.js';
import { verifyCaBundle } from '../tls/ca-bundle.js';
import { apiEventWriter, createReviewEvents, type ReviewEvents } from './review-events.js';
import { reviewEventMetrics } from '../metrics/registry.js';
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
  /** How often a missing ProxyConfig CRD (or RBAC rule) is checked again (tests shorten it). */
  proxyConfigRecheckMs?: number;
  /** Retry interval while MutatingWebhookConfigurations cannot be listed (tests shorten it). */
  forbiddenRetryMs?: number;
  /**
   * A configuration provider to use instead of watching the ConfigMaps (`--config-dir`): no
   * ConfigMap informer is started, and the caller keeps ownership of the provider.
   */
  config?: ConfigProvider;
  /** Events on the owners of skipped and denied pods; absent or false: none. */
  events?: boolean;
  /** The pod audit and webhook self-check (docs/audit.md); absent: not started. */
  audit?: ClusterAuditOptions;
  /** Overrides of the pure core functions (tests). */
  load?: ConfigLoader;
  detect?: NativeSidecarDetector;
}

export interface ClusterAuditOptions {
  /** Time between pod evaluations. */
  intervalMs?: number;
  /** Events on the workloads of reported pods (needs `create` on events). */
  events: boolean;
  /** Our MutatingWebhookConfiguration and Service. */
  webhookConfiguration: string;
  service: { namespace: string; name: string };
  /** The serving chain now (PEM), for the caBundle check. */
  servedCertificate?: () => string;
}

export interface ClusterRuntime {
  config: ConfigProvider;
  namespaces: NamespaceResolver;
  facts: ClusterFactsProvider;
  readiness: ClusterReadiness;
  /** Revision tags pointing at our revision, learned from the MutatingWebhookConfigurations. */
  revisionTags: () => readonly string[];
  /** The Event batcher for skipped and denied pods, when enabled. */
  events?: ReviewEvents;
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

  // Tags are part of the decision, so readiness waits for them unless they cannot be read at all
  // (then only values.revisionTags count, as before tags were learned).
  const webhookConfigurations = createWebhookConfigurationWatch({
    kubeConfig,
    logger,
    revision: opts.revision,
    ...backoff,
    ...(opts.forbiddenRetryMs === undefined ? {} : { forbiddenRetryMs: opts.forbiddenRetryMs }),
    onRestart: () => restarts.inc({ informer: 'mutatingwebhookconfigurations' }),
  });
  const informers = [namespaces.informer, facts.informer];
  if (watched) informers.push(watched.informer);
  for (const informer of informers) informer.start();
  // `serve` with a cluster reads the cluster's ProxyConfig resources (the table in choose.ts).
  const proxyConfigs =
    chooseProxyConfigSource({ command: 'serve', cluster: true }) === 'cluster'
      ? createProxyConfigSource({
          kubeConfig,
          logger,
          ...backoff,
          ...(opts.proxyConfigRecheckMs === undefined
            ? {}
            : { recheckMs: opts.proxyConfigRecheckMs }),
          onRestart: () => restarts.inc({ informer: 'proxyconfigs' }),
        })
      : undefined;
  proxyConfigs?.start();
  // Readiness waits for the first ProxyConfig list (a missing CRD or permission counts as done).
  const sources: Pick<ProxyConfigSource, 'synced' | 'connected' | 'whenSynced'>[] = [
    ...informers,
    ...(proxyConfigs === undefined ? [] : [proxyConfigs]),
  ];
  webhookConfigurations.start();
  // The audits are not part of readiness: they only report, and need RBAC the webhook does not.
  const audits =
    opts.audit === undefined
      ? undefined
      : startAudits(opts, kubeConfig, namespaces, config, {
          watch: webhookConfigurations,
          proxyConfigs,
        });
  const events =
    opts.events === true
      ? createReviewEvents({
          writer: apiEventWriter(kubeConfig),
          logger,
          counter: reviewEventMetrics(opts.registry).events,
        })
      : undefined;
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
    facts: withProxyConfigs(facts, proxyConfigs),
    revisionTags: () => webhookConfigurations.revisionTags(),
    ...(events === undefined ? {} : { events }),
    readiness: {
      synced: () => sources.every((i) => i.synced()) && webhookConfigurations.settled(),
      apiServerReachable: () => sources.every((i) => i.connected()),
      details: () => ({
        ...(proxyConfigs === undefined ? {} : { proxyConfigs: proxyConfigs.readinessDetail() }),
        ...(audits === undefined ? {} : { webhooks: audits.webhooks.readinessDetail() }),
      }),
    },
    async whenSynced(): Promise<void> {
      await Promise.all(sources.map((i) => i.whenSynced()));
      while (!config.ready() || !webhookConfigurations.settled()) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stop(): Promise<void> {
      await Promise.all([
        watched?.close(),
        namespaces.informer.stop(),
        facts.informer.stop(),
        proxyConfigs?.stop(),
        webhookConfigurations.stop(),
        events?.stop(),
        audits?.pods.stop(),
        audits?.webhooks.stop(),
      ]);
      logger.info('cluster runtime stopped');
    },
  };
  return runtime;
}

/** The node facts with the current ProxyConfig resources added (a cheap read per request). */
function withProxyConfigs(
  facts: ClusterFactsProvider,
  proxyConfigs: ProxyConfigSource | undefined,
): ClusterFactsProvider {
  if (proxyConfigs === undefined) return facts;
  return {
    factsFor(pod, namespace) {
      const found = facts.factsFor(pod, namespace);
      const set = proxyConfigs.current();
      return set.size === 0 ? found : { ...found, proxyConfigs: set };
    },
  };
}

function startAudits(
  opts: ClusterRuntimeOptions,
  kubeConfig: KubeConfig,
  namespaces: NamespaceCache,
  config: ConfigProvider,
  cluster: { watch: WebhookConfigurationWatch; proxyConfigs: ProxyConfigSource | undefined },
): { pods: PodAudit; webhooks: WebhookAudit } {
  const audit = opts.audit as ClusterAuditOptions;
  const { watch, proxyConfigs } = cluster;
  const { informerRestarts } = clusterMetrics(opts.registry);
  const backoff = opts.backoff === undefined ? {} : { backoff: opts.backoff };
  const pods = createPodAudit({
    kubeConfig,
    logger: opts.logger,
    registry: opts.registry,
    // The runtime's live provider (ConfigMaps or --config-dir), read at each run.
    config,
    namespace: (name) => {
      const found = namespaces.informer.get(name);
      return found === undefined ? undefined : toNamespaceInfo(found, name);
    },
    namespacesSynced: () => namespaces.informer.synced(),
    ...(proxyConfigs === undefined ? {} : { proxyConfigs: () => proxyConfigs.current() }),
    revisionTags: () => watch.revisionTags(),
    ...(audit.intervalMs === undefined ? {} : { intervalMs: audit.intervalMs }),
    events: { enabled: audit.events },
    ...backoff,
    onRestart: () => informerRestarts.inc({ informer: 'pods' }),
  });
  const webhooks = createWebhookAudit({
    kubeConfig,
    logger: opts.logger,
    registry: opts.registry,
    ownConfiguration: audit.webhookConfiguration,
    watch,
    service: audit.service,
    ...(audit.servedCertificate === undefined
      ? {}
      : { servedCertificate: audit.servedCertificate, verify: verifyCaBundle }),
  });
  pods.start();
  webhooks.start();
  return { pods, webhooks };
}
