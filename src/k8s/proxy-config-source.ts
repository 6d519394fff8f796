/**
 * The cluster's `networking.istio.io/v1beta1` ProxyConfig resources (the `cluster` row of the
 * ProxyConfig sources in src/config-sources/choose.ts), from one cluster-wide informer.
 *
 * The CRD belongs to Istio and may not be installed, and the RBAC rule may be missing: either is
 * reported once in the log and in the readiness detail, injection goes on without the resources,
 * and the API is asked again every `recheckMs` (a CRD installed later is picked up). Neither keeps
 * the server from becoming ready. Invalid resources (which the CRD schema normally refuses) are
 * left out, each logged once per resourceVersion.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { JsonValue } from '../core/json.js';
import {
  buildProxyConfigSet,
  EMPTY_PROXY_CONFIG_SET,
  PROXY_CONFIG_GROUP,
  PROXY_CONFIG_VERSION,
  parseProxyConfigResource,
  type ProxyConfigResource,
  type ProxyConfigSet,
} from '../core/proxy-config-resources.js';
import { createInformer, type BackoffOptions } from './informer.js';
import { statusCodeOf } from './kubeconfig.js';

const PLURAL = 'proxyconfigs';
const CRD = `${PLURAL}.${PROXY_CONFIG_GROUP}`;

export type ProxyConfigSourceState = 'starting' | 'watching' | 'crd-absent' | 'forbidden';

export interface ProxyConfigSourceOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  backoff?: BackoffOptions;
  onRestart?: () => void;
  /** How often a missing CRD or permission is checked again. */
  recheckMs?: number;
}

export interface ProxyConfigSource {
  /** The current resources (a new immutable set after every change); cheap, read per request. */
  current(): ProxyConfigSet;
  /** True once the first list answered: with the resources, or with "no CRD" / "forbidden". */
  synced(): boolean;
  whenSynced(): Promise<void>;
  connected(): boolean;
  state(): ProxyConfigSourceState;
  /** For /readyz: what is applied, or why nothing is. */
  readinessDetail(): string;
  start(): void;
  stop(): Promise<void>;
}

interface ProxyConfigObject extends KubernetesObject {
  spec?: JsonValue;
}

export const DEFAULT_RECHECK_MS = 30_000;

/** Keeps what the merge reads; managedFields and annotations can be large. */
function trim(obj: ProxyConfigObject): ProxyConfigObject {
  const meta = obj.metadata ?? {};
  const out: ProxyConfigObject = {
    apiVersion: obj.apiVersion ?? `${PROXY_CONFIG_GROUP}/${PROXY_CONFIG_VERSION}`,
    kind: obj.kind ?? 'ProxyConfig',
    metadata: {
      ...(meta.name === undefined ? {} : { name: meta.name }),
      ...(meta.namespace === undefined ? {} : { namespace: meta.namespace }),
      ...(meta.resourceVersion === undefined ? {} : { resourceVersion: meta.resourceVersion }),
      ...(meta.creationTimestamp === undefined
        ? {}
        : { creationTimestamp: new Date(meta.creationTimestamp) }),
    },
  };
  if (obj.spec !== undefined) out.spec = obj.spec;
  return out;
}

export function createProxyConfigSource(opts: ProxyConfigSourceOptions): ProxyConfigSource {
  const log = opts.logger.child({ component: 'proxy-configs' });
  const api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  const recheckMs = opts.recheckMs ?? DEFAULT_RECHECK_MS;
  let state: ProxyConfigSourceState = 'starting';
  let current: ProxyConfigSet = EMPTY_PROXY_CONFIG_SET;
  let invalid = 0;
  let stopped = true;
  let rebuildScheduled = false;
  let recheckTimer: NodeJS.Timeout | undefined;
  let resolveSynced: () => void = () => undefined;
  const syncedPromise = new Promise<void>((resolve) => {
    resolveSynced = resolve;
  });
  /** `namespace/name` -> resourceVersion of invalid resources already logged. */
  const reported = new Map<string, string>();

  const informer = createInformer<ProxyConfigObject>({
    name: PLURAL,
    path: `/apis/${PROXY_CONFIG_GROUP}/${PROXY_CONFIG_VERSION}/${PLURAL}`,
    kubeConfig: opts.kubeConfig,
    list: async () => {
      let list: KubernetesListObject<ProxyConfigObject>;
      try {
        list = (await api.listClusterCustomObject({
          group: PROXY_CONFIG_GROUP,
          version: PROXY_CONFIG_VERSION,
          plural: PLURAL,
        })) as KubernetesListObject<ProxyConfigObject>;
      } catch (error) {
        unavailable(error);
        throw error;
      }
      // The informer puts the items in its cache right after this resolves (before any macrotask).
      setImmediate(listed);
      return list;
    },
    logger: opts.logger,
    transform: trim,
    ...(opts.backoff === undefined ? {} : { backoff: opts.backoff }),
    ...(opts.onRestart === undefined ? {} : { onRestart: opts.onRestart }),
    onChange: () => schedule(),
  });

  /**
   * A 404 (no CRD) or 403 (no RBAC rule) on the list: stop the informer before it reports the
   * error (so it neither logs nor retries every few seconds) and check again later.
   */
  function unavailable(error: unknown): void {
    const code = statusCodeOf(error);
    if (code !== 404 && code !== 403) return;
    const next: ProxyConfigSourceState = code === 404 ? 'crd-absent' : 'forbidden';
    void informer.stop();
    if (next !== state) {
      const reason =
        next === 'crd-absent'
          ? `the ${CRD} CRD is not installed`
          : `listing ${CRD} is forbidden (the ClusterRole needs get, list, watch on it)`;
      log.warn(
        { state: next, recheckMs },
        `${reason}: injecting without ProxyConfig resources; checking again periodically`,
      );
    }
    state = next;
    // Without the CRD there are no resources; without permission the last known ones stay.
    if (next === 'crd-absent') current = EMPTY_PROXY_CONFIG_SET;
    resolveSynced();
    clearTimeout(recheckTimer);
    recheckTimer = setTimeout(() => {
      if (!stopped) informer.start();
    }, recheckMs);
    recheckTimer.unref();
  }

  function schedule(): void {
    if (rebuildScheduled) return;
    rebuildScheduled = true;
    // One rebuild per burst (the initial list adds every object one by one).
    setImmediate(rebuild);
  }

  function rebuild(): void {
    rebuildScheduled = false;
    const resources: ProxyConfigResource[] = [];
    let bad = 0;
    for (const obj of informer.list()) {
      // The client's objects carry Date instances; the core reads plain JSON.
      const value = JSON.parse(JSON.stringify(obj)) as JsonValue;
      const parsed = parseProxyConfigResource(value, obj.metadata?.namespace ?? '');
      const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
      const version = obj.metadata?.resourceVersion ?? '';
      if (parsed.ok) {
        resources.push(parsed.resource);
        if (parsed.warnings.length > 0 && reported.get(key) !== version) {
          reported.set(key, version);
          log.warn(
            { proxyConfig: key, warnings: parsed.warnings },
            'ProxyConfig applies to no pod',
          );
        }
        continue;
      }
      bad += 1;
      if (reported.get(key) !== version) {
        reported.set(key, version);
        log.warn({ proxyConfig: key, issues: parsed.issues }, 'invalid ProxyConfig left out');
      }
    }
    invalid = bad;
    current = buildProxyConfigSet(resources);
  }

  /** A list succeeded: first start, a relist, or the CRD or permission appearing. */
  function listed(): void {
    if (stopped) return;
    rebuild();
    if (state !== 'watching') {
      log.info({ resources: current.size }, 'watching ProxyConfig resources');
    }
    state = 'watching';
    resolveSynced();
  }

  return {
    current: () => current,
    synced: () => state !== 'starting',
    whenSynced: () => syncedPromise,
    connected: () => state !== 'watching' || informer.connected(),
    state: () => state,
    readinessDetail(): string {
      switch (state) {
        case 'starting':
          return 'listing ProxyConfig resources';
        case 'crd-absent':
          return `${CRD} CRD not installed: no ProxyConfig resources applied`;
        case 'forbidden':
          return `forbidden to list ${CRD}: ProxyConfig resources not applied (last known kept)`;
        case 'watching':
          return `${current.size} ProxyConfig resources applied${invalid > 0 ? `, ${invalid} invalid left out` : ''}`;
      }
    },
    start(): void {
      if (!stopped) return;
      stopped = false;
      informer.start();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(recheckTimer);
      await informer.stop();
    },
  };
}
