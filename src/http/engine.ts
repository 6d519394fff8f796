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

export interface RealEngineOptions {
  /**
   * Revision tags pointing at our revision, learned from the cluster (src/k8s/webhook-configurations.ts):
   * a cheap read of a ready array, honoured beside `values.revisionTags`.
   */
  revisionTags?: () => readonly string[];
}

export function createRealEngine(options: RealEngineOptions = {}): InjectionEngine {
  const learned = options.revisionTags;
  return {
    decide,
    inject,
    evaluateWebhookSelectors({ namespace, pod, config }) {
      const entries = webhookEntriesOptionsOf(config);
      const extra = learned?.() ?? [];
      return evaluateWebhookSelectors({
        ...entries,
        ...(extra.length === 0 ? {} : { tags: mergeTags(entries.tags ?? [], extra) }),
        namespaceName: namespace.name,
        namespaceLabels: namespace.labels,
        podLabels: pod.metadata?.labels ?? {},
      });
    },
  };
}

/** Sorted and without repeats, so the entry cache sees one key per tag set. */
function mergeTags(configured: readonly string[], learned: readonly string[]): string[] {
  return [...new Set([...configured, ...learned])].sort();
}
