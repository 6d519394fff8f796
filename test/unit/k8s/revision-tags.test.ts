import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { KObject } from '../../e2e/fake-apiserver.js';
import { startClusterRuntime, type ClusterRuntime } from '../../../src/k8s/runtime.js';
import { parseAdmissionReview } from '../../../src/core/review-envelope.js';
import { reviewParsed } from '../../../src/core/review.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import { eventually, FAST_BACKOFF } from '../../helpers/async.js';
import { useFakeApiServer } from '../../helpers/fake-cluster.js';
import { makeReview } from '../../helpers/review.js';

const tagConfiguration = (
  tag: string,
  rev: string,
  name = `istio-revision-tag-${tag}`,
): KObject => ({
  metadata: { name, labels: { 'istio.io/tag': tag, 'istio.io/rev': rev, app: 'sidecar-injector' } },
  webhooks: [],
});

describe('revision tags learned from the cluster', () => {
  const cluster = useFakeApiServer();

  async function start(revision: string, forbiddenRetryMs?: number): Promise<ClusterRuntime> {
    const runtime = await startClusterRuntime({
      kubeconfigPath: await cluster.kubeconfigPath(),
      istioNamespace: 'istio-system',
      revision,
      nativeSidecars: 'disabled',
      logger: cluster.log.logger,
      registry: new Registry(),
      backoff: FAST_BACKOFF,
      ...(forbiddenRetryMs === undefined ? {} : { forbiddenRetryMs }),
    });
    return cluster.stopAfterTest(runtime);
  }

  it('follows tags pointing at our revision as they are set, moved and removed', async () => {
    cluster.api.upsert('mutatingwebhookconfigurations', tagConfiguration('prod', '1-32'));
    cluster.api.upsert('mutatingwebhookconfigurations', tagConfiguration('old', '1-31'));
    const rt = await start('1-32');
    await rt.whenSynced();
    expect(rt.revisionTags()).toEqual(['prod']);
    // The same array until something changes: the request path reads it as is.
    expect(rt.revisionTags()).toBe(rt.revisionTags());

    cluster.api.upsert('mutatingwebhookconfigurations', tagConfiguration('old', '1-32'));
    await eventually(() => rt.revisionTags().join() === 'old,prod', 'tag old moved to 1-32');
    cluster.api.remove('mutatingwebhookconfigurations', 'istio-revision-tag-prod');
    await eventually(() => rt.revisionTags().join() === 'old', 'tag prod removed');
  });

  it('the review honours a learned tag: a namespace labelled with it is selected', async () => {
    cluster.api.upsert('mutatingwebhookconfigurations', tagConfiguration('prod', 'default'));
    const rt = await start('default');
    await rt.whenSynced();
    const config = defaultInjectionConfig();
    const body = makeReview({ request: { namespace: 'tagged' } });
    const outcome = (revisionTags?: readonly string[]) =>
      reviewParsed(parseAdmissionReview(body), {
        config,
        cluster: { nativeSidecars: false },
        namespace: {
          source: 'cache',
          namespace: { name: 'tagged', labels: { 'istio.io/rev': 'prod' }, annotations: {} },
        },
        ...(revisionTags === undefined ? {} : { revisionTags }),
      }).outcome;
    expect(outcome()).toMatchObject({ decision: 'skipped', reason: 'revision-mismatch' });
    const tagged = outcome(rt.revisionTags());
    expect(tagged.decision).toBe('injected');
    expect(tagged.message).toContain('Namespace label istio.io/rev=prod matches');
  });

  it('without RBAC for webhook configurations: ready with no learned tags, one warning, slow retries', async () => {
    cluster.api.forbidden.add('mutatingwebhookconfigurations');
    const rt = await start('default', 100);
    await rt.whenSynced();
    expect(rt.readiness.synced()).toBe(true);
    expect(rt.revisionTags()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const lists = cluster.api.requests.filter(
      (r) => r.path.endsWith('/mutatingwebhookconfigurations') && r.query.watch === undefined,
    ).length;
    // Retried every 100 ms (the slow interval), not at the 20 ms restart backoff.
    expect(lists).toBeGreaterThanOrEqual(2);
    expect(lists).toBeLessThanOrEqual(6);
    const warnings = cluster.log
      .lines()
      .filter((l) => String(l.msg).startsWith('cannot list MutatingWebhookConfigurations'));
    expect(warnings).toHaveLength(1);
    expect(
      cluster.log
        .lines()
        .filter((l) => l.level === 40 && l.informer === 'mutatingwebhookconfigurations'),
    ).toEqual([]);

    // RBAC granted later: the tags arrive without a restart.
    cluster.api.upsert('mutatingwebhookconfigurations', tagConfiguration('prod', 'default'));
    cluster.api.forbidden.delete('mutatingwebhookconfigurations');
    await eventually(() => rt.revisionTags().join() === 'prod', 'tags after RBAC fixed', 3_000);
  });
});
