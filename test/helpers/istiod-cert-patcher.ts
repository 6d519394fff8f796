/**
 * Which MutatingWebhookConfiguration entries istiod's webhook cert patcher rewrites, restated from
 * Istio's behaviour (not its code):
 *
 * - istio/istio pkg/webhooks/webhookpatch.go, WebhookCertPatcher.patchMutatingWebhookConfig: a
 *   configuration is skipped unless its label `istio.io/rev` equals istiod's revision (the
 *   REVISION variable, "default" for the unnamed revision); in a matching configuration every
 *   entry whose name ends with the patcher's webhook name gets istiod's CA as caBundle.
 * - pilot/pkg/bootstrap/sidecarinjector.go: that webhook name is `sidecar-injector.istio.io`, and
 *   the patcher runs whenever INJECTION_WEBHOOK_CONFIG_NAME is not empty (its default).
 * - Before the revision-aware patcher (PatchCertLoop, same file in Istio 1.5 to 1.9) istiod
 *   patched the configuration named INJECTION_WEBHOOK_CONFIG_NAME (`istio-sidecar-injector`) and
 *   in it the entry named exactly `sidecar-injector.istio.io`.
 */
import type { WebhookConfiguration } from './k8s-objects.js';

export const ISTIOD_WEBHOOK_NAME = 'sidecar-injector.istio.io';
export const ISTIOD_DEFAULT_CONFIG_NAME = 'istio-sidecar-injector';

/** Entry names istiod running `istiodRevision` would overwrite the caBundle of. */
export function entriesPatchedByIstiod(
  config: WebhookConfiguration,
  istiodRevision: string,
): string[] {
  const labels = config.metadata.labels ?? {};
  const revisionAware =
    Object.hasOwn(labels, 'istio.io/rev') && labels['istio.io/rev'] === istiodRevision
      ? config.webhooks.filter((w) => w.name.endsWith(ISTIOD_WEBHOOK_NAME))
      : [];
  const legacy =
    config.metadata.name === ISTIOD_DEFAULT_CONFIG_NAME ||
    config.metadata.name.startsWith(`${ISTIOD_DEFAULT_CONFIG_NAME}-`)
      ? config.webhooks.filter((w) => w.name === ISTIOD_WEBHOOK_NAME)
      : [];
  return [...new Set([...revisionAware, ...legacy].map((w) => w.name))];
}

/**
 * Revisions worth checking for a set of configurations: every revision or tag label value they
 * carry (istiod at our own revision is the case that matters) plus common names.
 */
export function candidateRevisions(configs: readonly WebhookConfiguration[]): string[] {
  const seen = new Set(['default', '1-31', '1-32', 'canary', 'stable']);
  for (const c of configs) {
    const labels = c.metadata.labels ?? {};
    for (const key of ['istio.io/rev', 'istio.io/tag'])
      if (Object.hasOwn(labels, key)) seen.add(labels[key] ?? '');
  }
  return [...seen];
}
