/**
 * Metadata-only Namespace cache implementing `NamespaceResolver`.
 *
 * Lists and watches `PartialObjectMetadata` (only labels and annotations are needed), which keeps the
 * memory of large clusters small. A miss (a namespace created a moment ago, or the cache not synced yet)
 * costs one GET bounded to 1 s; concurrent misses for the same name share that GET. The request's own
 * deadline is raced once, by the caller (src/admission/admit.ts). The resolver never throws: if
 * neither the cache nor the API answers, it says `unavailable`.
 */
import {
  CoreV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type V1Namespace,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { NamespaceInfo, NamespaceLookupResult, NamespaceResolver } from '../core/contracts.js';
import {
  ACCEPT_PARTIAL_METADATA,
  ACCEPT_PARTIAL_METADATA_LIST,
  requestOptions,
  statusCodeOf,
} from './kubeconfig.js';
import { createInformer, type BackoffOptions, type ResilientInformer } from './informer.js';

/** Upper bound of the namespace GET on a cache miss, whatever the caller's deadline. */
export const NAMESPACE_GET_TIMEOUT_MS = 1_000;

/** Only metadata is read, so both full Namespaces and PartialObjectMetadata fit. */
interface NamespaceMeta {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

export interface NamespaceCacheOptions {
  /** Plain connection, used for the list and the GET (Accept set per call). */
  kubeConfig: KubeConfig;
  /** Connection whose requests ask for PartialObjectMetadata (used by the watch). */
  watchKubeConfig: KubeConfig;
  logger: Logger;
  backoff?: BackoffOptions;
  onRestart?: () => void;
  /** Observes every lookup (for metrics). */
  onLookup?: (source: NamespaceLookupResult['source']) => void;
}

export interface NamespaceCache extends NamespaceResolver {
  informer: ResilientInformer<NamespaceMeta>;
}

export function createNamespaceCache(opts: NamespaceCacheOptions): NamespaceCache {
  const api = opts.kubeConfig.makeApiClient(CoreV1Api);
  const log = opts.logger.child({ component: 'namespace-cache' });
  const informer = createInformer<NamespaceMeta>({
    name: 'namespaces',
    path: '/api/v1/namespaces',
    kubeConfig: opts.watchKubeConfig,
    list: (): Promise<KubernetesListObject<NamespaceMeta>> =>
      api.listNamespace({}, requestOptions({ accept: ACCEPT_PARTIAL_METADATA_LIST })),
    logger: opts.logger,
    transform: trimNamespace,
    ...(opts.backoff === undefined ? {} : { backoff: opts.backoff }),
    ...(opts.onRestart === undefined ? {} : { onRestart: opts.onRestart }),
  });
  const inflight = new Map<string, Promise<NamespaceLookupResult>>();

  function fetchOnce(name: string): Promise<NamespaceLookupResult> {
    const pending = inflight.get(name);
    if (pending !== undefined) return pending;
    const request = api
      .readNamespace(
        { name },
        requestOptions({
          accept: ACCEPT_PARTIAL_METADATA,
          signal: AbortSignal.timeout(NAMESPACE_GET_TIMEOUT_MS),
        }),
      )
      .then(
        (ns: V1Namespace): NamespaceLookupResult => ({
          namespace: toNamespaceInfo(ns, name),
          source: 'api',
        }),
        (err: unknown): NamespaceLookupResult => {
          // A 404 is an answer: the namespace does not exist (the API server will refuse the pod anyway).
          if (statusCodeOf(err) === 404) return { source: 'api' };
          log.warn({ err, namespace: name }, 'namespace lookup failed');
          return { source: 'unavailable' };
        },
      )
      .finally(() => inflight.delete(name));
    inflight.set(name, request);
    return request;
  }

  function cachedResult(name: string): NamespaceLookupResult | undefined {
    const cached = informer.get(name);
    return cached === undefined
      ? undefined
      : { namespace: toNamespaceInfo(cached, name), source: 'cache' };
  }

  async function resolve(name: string): Promise<NamespaceLookupResult> {
    return cachedResult(name) ?? fetchOnce(name);
  }

  return {
    informer,
    async resolve(name: string): Promise<NamespaceLookupResult> {
      const result = await resolve(name);
      opts.onLookup?.(result.source);
      return result;
    },
    resolveCached(name: string): NamespaceLookupResult | undefined {
      const result = cachedResult(name);
      if (result !== undefined) opts.onLookup?.(result.source);
      return result;
    },
  };
}

/** Large and never read: kubectl's copy of the last applied object. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Keeps what lookups and the informer need (name, resourceVersion, labels, annotations). */
export function trimNamespace(obj: NamespaceMeta): NamespaceMeta {
  const meta = obj.metadata ?? {};
  const annotations = { ...(meta.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  const metadata: V1ObjectMeta = {};
  if (meta.name !== undefined) metadata.name = meta.name;
  if (meta.resourceVersion !== undefined) metadata.resourceVersion = meta.resourceVersion;
  if (meta.labels !== undefined) metadata.labels = meta.labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { metadata };
}

export function toNamespaceInfo(obj: NamespaceMeta, fallbackName: string): NamespaceInfo {
  return {
    name: obj.metadata?.name ?? fallbackName,
    labels: { ...(obj.metadata?.labels ?? {}) },
    annotations: { ...(obj.metadata?.annotations ?? {}) },
  };
}
