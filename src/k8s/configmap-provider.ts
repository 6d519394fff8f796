/**
 * `ConfigProvider` over the `istio-sidecar-injector[-<rev>]` (keys `config`, `values`) and `istio[-<rev>]`
 * (key `mesh`) ConfigMaps of the Istio namespace, watched by one informer restricted to that namespace.
 * Changes are coalesced briefly, parsed once and swapped in; a missing ConfigMap means the embedded default.
 */
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ConfigProvider, ConfigSources } from '../core/contracts.js';
import { createReloadingConfig, type ConfigLoader } from '../config-sources/reloading.js';
import { createInformer, type BackoffOptions, type ResilientInformer } from './informer.js';

/** ConfigMap names for a revision (`default` and empty mean the unsuffixed names), spec §8.1/§8.2. */
export function configMapNames(revision: string): { injector: string; mesh: string } {
  const suffix = revision === '' || revision === 'default' ? '' : `-${revision}`;
  return { injector: `istio-sidecar-injector${suffix}`, mesh: `istio${suffix}` };
}

/** Reads the three configuration inputs out of the two ConfigMaps (absent keys stay absent). */
export function sourcesFromConfigMaps(
  injector: Pick<V1ConfigMap, 'data'> | undefined,
  mesh: Pick<V1ConfigMap, 'data'> | undefined,
): ConfigSources {
  const sources: ConfigSources = {};
  const config = injector?.data?.['config'];
  const values = injector?.data?.['values'];
  const meshText = mesh?.data?.['mesh'];
  if (config !== undefined) sources.config = config;
  if (values !== undefined) sources.values = values;
  if (meshText !== undefined) sources.mesh = meshText;
  return sources;
}

export interface ConfigMapProviderOptions {
  kubeConfig: KubeConfig;
  istioNamespace: string;
  revision: string;
  load: ConfigLoader;
  logger: Logger;
  registry: Registry;
  backoff?: BackoffOptions;
  onRestart?: () => void;
}

export interface ConfigMapProvider extends ConfigProvider {
  informer: ResilientInformer<V1ConfigMap>;
}

/** Coalesces the two ConfigMaps of one `kubectl apply` into a single parse. */
const COALESCE_MS = 50;

export function createConfigMapProvider(opts: ConfigMapProviderOptions): ConfigMapProvider {
  const api = opts.kubeConfig.makeApiClient(CoreV1Api);
  const names = configMapNames(opts.revision);
  const ns = opts.istioNamespace;
  const reloading = createReloadingConfig({
    load: opts.load,
    logger: opts.logger,
    registry: opts.registry,
    origin: `configmap:${ns}/${names.injector},${names.mesh}`,
  });
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const informer = createInformer<V1ConfigMap>({
    name: 'configmaps',
    path: `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps`,
    kubeConfig: opts.kubeConfig,
    list: () => api.listNamespacedConfigMap({ namespace: ns }),
    logger: opts.logger,
    // Other ConfigMaps of the namespace are kept as names only.
    transform: (cm) => {
      const name = cm.metadata?.name;
      if (name === names.injector || name === names.mesh) return cm;
      return {
        metadata: {
          name,
          namespace: cm.metadata?.namespace,
          resourceVersion: cm.metadata?.resourceVersion,
        },
      };
    },
    ...(opts.backoff === undefined ? {} : { backoff: opts.backoff }),
    ...(opts.onRestart === undefined ? {} : { onRestart: opts.onRestart }),
    onChange: (_verb, cm) => {
      const name = cm.metadata?.name;
      if (name === names.injector || name === names.mesh) schedule();
    },
  });

  function reload(): void {
    timer = undefined;
    if (closed || !informer.synced()) return;
    reloading.apply(
      sourcesFromConfigMaps(informer.get(names.injector, ns), informer.get(names.mesh, ns)),
    );
  }

  function schedule(): void {
    if (timer !== undefined || closed) return;
    timer = setTimeout(reload, COALESCE_MS);
    timer.unref();
  }

  // The first load happens once the initial list is in the cache, whether or not the ConfigMaps exist.
  void informer.whenSynced().then(() => {
    if (!closed) reload();
  });

  return {
    informer,
    current: () => reloading.current(),
    ready: () => reloading.ready(),
    async close(): Promise<void> {
      closed = true;
      clearTimeout(timer);
      await informer.stop();
    },
  };
}
