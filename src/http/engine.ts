/**
 * The real injection engine behind the server's InjectionEngine port: the core's decision,
 * webhook-selector evaluation and injection pipeline.
 */
import { decide } from '../core/decide.js';
import { inject } from '../core/inject.js';
import { parsePathParams } from '../core/path-params.js';
import type { InjectionEngine } from '../core/review.js';
import { evaluateWebhookSelectors, webhookEntriesOptionsOf } from '../core/webhook-selectors.js';

export { parsePathParams };

export function createRealEngine(): InjectionEngine {
  return {
    decide,
    inject,
    evaluateWebhookSelectors({ namespace, pod, config }) {
      return evaluateWebhookSelectors({
        ...webhookEntriesOptionsOf(config),
        namespaceName: namespace.name,
        namespaceLabels: namespace.labels,
        podLabels: pod.metadata?.labels ?? {},
      });
    },
  };
}
