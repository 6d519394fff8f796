/**
 * istiod's webhook cert patcher (its rules restated in test/helpers/istiod-cert-patcher.ts) must
 * select no entry of our kustomize webhook configuration; the chart's are checked in
 * test/helm/chart.test.ts. The base file is read as it is, so this runs without any tool.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/tools.js';
import type { WebhookConfiguration } from '../helpers/k8s-objects.js';
import {
  candidateRevisions,
  entriesPatchedByIstiod,
  ISTIOD_WEBHOOK_NAME,
} from '../helpers/istiod-cert-patcher.js';

const base = parse(
  await readFile(join(ROOT, 'manifests/base/mutatingwebhookconfiguration.yaml'), 'utf8'),
) as WebhookConfiguration;

/** A configuration shaped like the one istiod's chart installs for a revision. */
function istioShaped(revision: string, name = 'istio-sidecar-injector'): WebhookConfiguration {
  return {
    ...structuredClone(base),
    metadata: { name, labels: { 'istio.io/rev': revision, app: 'sidecar-injector' } },
    webhooks: base.webhooks.map((w) => ({
      ...w,
      name: `${w.name.split('.').slice(0, 2).join('.')}.${ISTIOD_WEBHOOK_NAME}`,
    })),
  };
}

describe('istiod webhook cert patcher', () => {
  it('the predicate selects istiod’s own entries for its revision only (it can fail)', () => {
    const istio = istioShaped('1-32');
    expect(entriesPatchedByIstiod(istio, '1-32')).toHaveLength(base.webhooks.length);
    expect(entriesPatchedByIstiod(istio, '1-31')).toEqual([]);
    // The label is what the revision-aware patcher lists by; without it only the legacy rule applies.
    const unlabelled = { ...istio, metadata: { name: 'x' } };
    expect(entriesPatchedByIstiod(unlabelled, '1-32')).toEqual([]);
    // Legacy patcher: the configuration istio-sidecar-injector and its entry sidecar-injector.istio.io.
    const legacy = {
      ...unlabelled,
      metadata: { name: 'istio-sidecar-injector' },
      webhooks: [{ ...istio.webhooks[0]!, name: ISTIOD_WEBHOOK_NAME }],
    };
    expect(entriesPatchedByIstiod(legacy, 'default')).toEqual([ISTIOD_WEBHOOK_NAME]);
  });

  it('selects none of the kustomize base’s entries, for any revision it or istiod may run', () => {
    expect(base.metadata.labels?.['istio.io/rev']).toBe('default');
    for (const rev of candidateRevisions([base]))
      expect(entriesPatchedByIstiod(base, rev), `istiod ${rev}`).toEqual([]);
  });

  it('would have selected every entry of the names used before (the rename is what protects)', () => {
    const before = {
      ...base,
      webhooks: base.webhooks.map((w) => ({
        ...w,
        name: w.name.replace('.inject.sidecar-injector.io', '.sidecar-injector.istio.io'),
      })),
    };
    expect(entriesPatchedByIstiod(before, 'default')).toHaveLength(4);
  });
});
