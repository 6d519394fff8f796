/**
 * `ClusterFactsProvider` fed by a Node informer. The native-sidecar decision (spec §2.4) is recomputed
 * once per node change, not per request; a pod already bound to a known node (`spec.nodeName`) is
 * judged by that node alone.
 */
import { CoreV1Api, type KubeConfig, type V1ObjectMeta } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterFacts, ClusterFactsProvider, NamespaceInfo } from '../core/contracts.js';
import type { Pod } from '../core/pod-types.js';
import type { NativeSidecarMode, NodeVersion } from '../core/native-sidecars.js';
import { createInformer, type BackoffOptions, type ResilientInformer } from './informer.js';

export type { NativeSidecarMode, NodeVersion };

/** The pure decision (src/core/native-sidecars.ts): `(mode, nodes, podNodeName) => native sidecars on?`. */
export type NativeSidecarDetector = (
  mode: NativeSidecarMode,
  nodes: readonly NodeVersion[],
  podNodeName: string | undefined,
) => boolean;

export interface NodeFactsOptions {
  kubeConfig: KubeConfig;
  mode: NativeSidecarMode;
  detect: NativeSidecarDetector;
  logger: Logger;
  /** Extra facts copied into every answer (OpenShift, compliance policy). */
  staticFacts?: Omit<ClusterFacts, 'nativeSidecars' | 'namespaceAnnotations'>;
  backoff?: BackoffOptions;
  onRestart?: () => void;
}

/** The part of a Node the decision reads; full Nodes carry image lists and conditions. */
export interface NodeInfo {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  status?: { nodeInfo?: { kubeletVersion?: string } };
}

export interface NodeFacts extends ClusterFactsProvider {
  informer: ResilientInformer<NodeInfo>;
}

export function trimNode(node: NodeInfo): NodeInfo {
  const metadata: V1ObjectMeta = {};
  if (node.metadata?.name !== undefined) metadata.name = node.metadata.name;
  if (node.metadata?.resourceVersion !== undefined) {
    metadata.resourceVersion = node.metadata.resourceVersion;
  }
  const kubeletVersion = node.status?.nodeInfo?.kubeletVersion;
  return kubeletVersion === undefined
    ? { metadata }
    : { metadata, status: { nodeInfo: { kubeletVersion } } };
}

export function nodeVersion(node: NodeInfo): NodeVersion {
  return {
    name: node.metadata?.name ?? '',
    kubeletVersion: node.status?.nodeInfo?.kubeletVersion,
  };
}

export function createNodeFacts(opts: NodeFactsOptions): NodeFacts {
  const api = opts.kubeConfig.makeApiClient(CoreV1Api);
  const log = opts.logger.child({ component: 'node-facts' });
  let clusterWide = opts.detect(opts.mode, [], undefined);
  let timer: NodeJS.Timeout | undefined;

  const informer = createInformer<NodeInfo>({
    name: 'nodes',
    path: '/api/v1/nodes',
    kubeConfig: opts.kubeConfig,
    list: () => api.listNode(),
    logger: opts.logger,
    transform: trimNode,
    ...(opts.backoff === undefined ? {} : { backoff: opts.backoff }),
    ...(opts.onRestart === undefined ? {} : { onRestart: opts.onRestart }),
    onChange: () => schedule(),
  });

  function recompute(): void {
    timer = undefined;
    const next = opts.detect(opts.mode, informer.list().map(nodeVersion), undefined);
    if (next !== clusterWide) {
      log.info({ nativeSidecars: next, mode: opts.mode }, 'native sidecar decision changed');
    }
    clusterWide = next;
  }

  // A relist delivers one event per node; recompute once after the burst.
  function schedule(): void {
    if (timer !== undefined) return;
    timer = setTimeout(recompute, 0);
    timer.unref();
  }

  void informer.whenSynced().then(recompute);

  function nativeFor(pod: Pod): boolean {
    const nodeName = pod.spec?.nodeName;
    if (nodeName !== undefined && nodeName !== '') {
      const node = informer.get(nodeName);
      if (node !== undefined) return opts.detect(opts.mode, [nodeVersion(node)], nodeName);
    }
    return clusterWide;
  }

  return {
    informer,
    factsFor(pod: Pod, namespace: NamespaceInfo | undefined): ClusterFacts {
      return {
        ...opts.staticFacts,
        nativeSidecars: nativeFor(pod),
        ...(namespace === undefined ? {} : { namespaceAnnotations: namespace.annotations }),
      };
    },
  };
}
