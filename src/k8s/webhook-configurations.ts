/**
 * One MutatingWebhookConfiguration informer per process (RBAC: list and watch on
 * mutatingwebhookconfigurations), shared by the revision-tag learning and the webhook self-check.
 * Tags are recomputed when a configuration changes, never per request: the request path reads a
 * ready array. Without the permission (403) or the API (404) the server keeps only the tags of
 * `values.revisionTags`, says so once, and retries slowly.
 */
import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { tagsPointingAt } from '../core/revision-tags.js';
import { createInformer, type BackoffOptions, type ResilientInformer } from './informer.js';
import { requestOptions, statusCodeOf } from './kubeconfig.js';

export const MWC_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
/** Between attempts while the list is forbidden: RBAC is fixed by a person, not in seconds. */
export const FORBIDDEN_RETRY_MS = 60_000;

export interface WebhookConfigurationWatchOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Our revision (`default` for the default revision). */
  revision: string;
  backoff?: BackoffOptions;
  forbiddenRetryMs?: number;
  onRestart?: () => void;
}

export interface WebhookConfigurationWatch {
  informer: ResilientInformer<V1MutatingWebhookConfiguration>;
  /** Tags pointing at our revision (sorted); the same array until a configuration changes. */
  revisionTags(): readonly string[];
  /** Synced, or known not to be readable (forbidden, no such API): readiness does not wait then. */
  settled(): boolean;
  /** Called after every change of the cache (add, update, delete). */
  onChange(listener: () => void): void;
  start(): void;
  stop(): Promise<void>;
}

/** Keeps the fields the tag learning and the self-check read; drops managedFields and annotations. */
export function trimConfiguration(
  obj: V1MutatingWebhookConfiguration,
): V1MutatingWebhookConfiguration {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      ...(obj.metadata?.name === undefined ? {} : { name: obj.metadata.name }),
      ...(obj.metadata?.resourceVersion === undefined
        ? {}
        : { resourceVersion: obj.metadata.resourceVersion }),
      ...(obj.metadata?.labels === undefined ? {} : { labels: obj.metadata.labels }),
    },
    ...(obj.webhooks === undefined ? {} : { webhooks: obj.webhooks }),
  };
}

export function createWebhookConfigurationWatch(
  opts: WebhookConfigurationWatchOptions,
): WebhookConfigurationWatch {
  const log = opts.logger.child({ component: 'revision-tags' });
  const api = opts.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const listeners: (() => void)[] = [];
  let tags: readonly string[] = Object.freeze([]);
  let unreadable = false;

  const recompute = (): void => {
    const next = tagsPointingAt(
      informer.list().map((c) => ({ labels: c.metadata?.labels })),
      opts.revision,
    );
    if (next.join('\u0000') !== tags.join('\u0000')) {
      log.info({ revision: opts.revision, tags: next }, 'revision tags pointing at us changed');
      tags = Object.freeze(next);
    }
  };

  const informer = createInformer<V1MutatingWebhookConfiguration>({
    name: 'mutatingwebhookconfigurations',
    path: MWC_PATH,
    kubeConfig: opts.kubeConfig,
    list: async () => {
      try {
        const list = await api.listMutatingWebhookConfiguration({}, requestOptions({}));
        if (unreadable) log.info('MutatingWebhookConfigurations readable again');
        unreadable = false;
        return list;
      } catch (err) {
        const status = statusCodeOf(err);
        if ((status === 403 || status === 404) && !unreadable) {
          unreadable = true;
          log.warn(
            { status, retryMs: opts.forbiddenRetryMs ?? FORBIDDEN_RETRY_MS },
            status === 403
              ? 'cannot list MutatingWebhookConfigurations (forbidden): revision tags come only from values.revisionTags; grant list and watch on mutatingwebhookconfigurations (the chart does)'
              : 'the API server does not serve MutatingWebhookConfigurations: revision tags come only from values.revisionTags',
          );
        }
        throw err;
      }
    },
    transform: trimConfiguration,
    logger: opts.logger,
    retryDelay: (err) =>
      statusCodeOf(err) === 403 || statusCodeOf(err) === 404
        ? (opts.forbiddenRetryMs ?? FORBIDDEN_RETRY_MS)
        : undefined,
    quiet: () => unreadable,
    onChange: () => {
      recompute();
      for (const listener of listeners) listener();
    },
    ...(opts.backoff === undefined ? {} : { backoff: opts.backoff }),
    ...(opts.onRestart === undefined ? {} : { onRestart: opts.onRestart }),
  });

  return {
    informer,
    revisionTags: () => tags,
    settled: () => informer.synced() || unreadable,
    onChange(listener): void {
      listeners.push(listener);
    },
    start(): void {
      informer.start();
      // An empty list produces no change event: compute once the first list is in.
      void informer.whenSynced().then(recompute);
    },
    stop: () => informer.stop(),
  };
}
