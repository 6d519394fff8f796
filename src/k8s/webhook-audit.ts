/**
 * The webhook self-check in cluster mode: a read-only MutatingWebhookConfiguration informer
 * (RBAC: list and watch on mutatingwebhookconfigurations; the server's shared one from
 * webhook-configurations.ts, or its own) whose changes re-run the analysis of
 * src/core/audit/webhooks.ts, debounced. Findings become a gauge per code, one log line per change
 * and a readiness detail; they never make the injector unready (the webhook still answers).
 */
import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
} from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { webhookAuditMetrics } from '../metrics/registry.js';
import type { Logger } from 'pino';
import {
  auditWebhooks,
  sameWebhookFinding,
  WEBHOOK_FINDING_CODES,
  webhookFindingKey,
  type CaBundleVerdict,
  type WebhookAuditOptions,
  type WebhookConfiguration,
  type WebhookFinding,
} from '../core/audit/webhooks.js';
import { diffFindings } from '../core/audit/pods.js';
import { createInformer, type BackoffOptions, type ResilientInformer } from './informer.js';
import { requestOptions } from './kubeconfig.js';
import {
  MWC_PATH,
  trimConfiguration,
  type WebhookConfigurationWatch,
} from './webhook-configurations.js';

const DEBOUNCE_MS = 200;

/** What the analysis reads of a configuration (the API object carries managedFields and more). */
export function toWebhookConfiguration(obj: V1MutatingWebhookConfiguration): WebhookConfiguration {
  return {
    name: obj.metadata?.name ?? '',
    ...(obj.metadata?.labels === undefined ? {} : { labels: obj.metadata.labels }),
    webhooks: (obj.webhooks ?? []).map((w) => ({
      name: w.name,
      clientConfig: {
        ...(w.clientConfig.service === undefined
          ? {}
          : {
              service: {
                name: w.clientConfig.service.name,
                namespace: w.clientConfig.service.namespace,
                ...(w.clientConfig.service.path === undefined
                  ? {}
                  : { path: w.clientConfig.service.path }),
              },
            }),
        ...(w.clientConfig.url === undefined ? {} : { url: w.clientConfig.url }),
        ...(w.clientConfig.caBundle === undefined ? {} : { caBundle: w.clientConfig.caBundle }),
      },
      ...(w.rules === undefined ? {} : { rules: w.rules }),
      ...(w.namespaceSelector === undefined
        ? {}
        : {
            namespaceSelector:
              w.namespaceSelector as WebhookConfiguration['webhooks'][0]['namespaceSelector'],
          }),
      ...(w.objectSelector === undefined
        ? {}
        : {
            objectSelector:
              w.objectSelector as WebhookConfiguration['webhooks'][0]['objectSelector'],
          }),
      ...(w.failurePolicy === undefined ? {} : { failurePolicy: w.failurePolicy }),
      ...(w.timeoutSeconds === undefined ? {} : { timeoutSeconds: w.timeoutSeconds }),
      ...(w.matchConditions === undefined ? {} : { matchConditions: w.matchConditions }),
    })),
  };
}

export interface WebhookAuditRuntimeOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  registry: Registry;
  ownConfiguration: string;
  service: { namespace: string; name: string };
  /** The serving chain (PEM) now; absent: caBundles are not checked. */
  servedCertificate?: () => string;
  verify?: (served: string, caBundle: string) => CaBundleVerdict;
  backoff?: BackoffOptions;
  onRestart?: () => void;
  /** The process's shared configuration informer; absent: the audit runs its own. */
  watch?: WebhookConfigurationWatch;
}

export interface WebhookAudit {
  informer: ResilientInformer<V1MutatingWebhookConfiguration>;
  findings(): WebhookFinding[];
  /** For /readyz: informational, never a readiness failure. */
  readinessDetail(): { synced: boolean; findings: { code: string; webhook: string }[] };
  /** Re-runs the analysis now (e.g. after the serving certificate changed). */
  refresh(): WebhookFinding[];
  start(): void;
  stop(): Promise<void>;
}

export function createWebhookAudit(opts: WebhookAuditRuntimeOptions): WebhookAudit {
  const log = opts.logger.child({ component: 'webhook-audit' });
  const api = opts.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  let timer: NodeJS.Timeout | undefined;
  const onChange = (): void => {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
    timer.unref();
  };
  const shared = opts.watch;
  const informer =
    shared?.informer ??
    createInformer<V1MutatingWebhookConfiguration>({
      name: 'mutatingwebhookconfigurations',
      path: MWC_PATH,
      kubeConfig: opts.kubeConfig,
      list: () => api.listMutatingWebhookConfiguration({}, requestOptions({})),
      transform: trimConfiguration,
      logger: opts.logger,
      onChange,
      ...(opts.backoff === undefined ? {} : { backoff: opts.backoff }),
      ...(opts.onRestart === undefined ? {} : { onRestart: opts.onRestart }),
    });
  shared?.onChange(onChange);
  const gauge = webhookAuditMetrics(opts.registry).findings;
  let current = new Map<string, WebhookFinding>();

  function refresh(): WebhookFinding[] {
    if (!informer.synced()) return [...current.values()];
    const served = opts.servedCertificate?.();
    const verify = opts.verify;
    const options: WebhookAuditOptions = {
      ownConfiguration: opts.ownConfiguration,
      service: opts.service,
      ...(served === undefined || verify === undefined
        ? {}
        : { verifyCaBundle: (bundle: string) => verify(served, bundle) }),
    };
    const found = auditWebhooks(informer.list().map(toWebhookConfiguration), options);
    const diff = diffFindings(current, found, webhookFindingKey, sameWebhookFinding);
    current = diff.current;
    for (const f of [...diff.added, ...diff.changed]) {
      const line = { code: f.code, configuration: f.configuration, webhook: f.webhook, fix: f.fix };
      if (f.severity === 'warning') log.warn(line, f.message);
      else log.info(line, f.message);
    }
    for (const f of diff.cleared) {
      log.info(
        { code: f.code, configuration: f.configuration, webhook: f.webhook },
        'webhook finding cleared',
      );
    }
    for (const code of WEBHOOK_FINDING_CODES) {
      gauge.set({ code }, found.filter((f) => f.code === code).length);
    }
    return found;
  }

  return {
    informer,
    findings: () => [...current.values()],
    readinessDetail: () => ({
      synced: informer.synced(),
      findings: [...current.values()].map((f) => ({
        code: f.code,
        webhook: f.webhook || f.configuration,
      })),
    }),
    refresh,
    start(): void {
      // A shared informer is started and stopped by its owner.
      if (shared === undefined) informer.start();
      void Promise.resolve(informer.whenSynced()).then(refresh);
    },
    async stop(): Promise<void> {
      clearTimeout(timer);
      if (shared === undefined) await informer.stop();
    },
  };
}
