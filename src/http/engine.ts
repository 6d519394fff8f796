/**
 * The real injection engine behind the server's InjectionEngine port: the core's decision,
 * webhook-selector evaluation and injection pipeline.
 */
import { decide } from '../core/decide.js';
import { inject } from '../core/inject.js';
import { getPath } from '../core/json.js';
import { parsePathParams } from '../core/path-params.js';
import type { InjectionEngine } from '../core/review.js';
import { evaluateWebhookSelectors } from '../core/webhook-selectors.js';

export { parsePathParams };

export function createRealEngine(): InjectionEngine {
  return {
    decide,
    inject,
    evaluateWebhookSelectors({ namespace, pod, config }) {
      const tags = getPath(config.values, 'revisionTags');
      return evaluateWebhookSelectors({
        revision: config.revision === 'default' ? '' : config.revision,
        tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
        enableNamespacesByDefault:
          getPath(config.values, 'sidecarInjectorWebhook.enableNamespacesByDefault') === true,
        namespaceName: namespace.name,
        namespaceLabels: namespace.labels,
        podLabels: pod.metadata?.labels ?? {},
      });
    },
  };
}
