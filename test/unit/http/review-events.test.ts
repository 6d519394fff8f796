/** The admission path hands skips and denials to the Event batcher and never waits for it. */
import { afterAll, describe, expect, it } from 'vitest';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import type { ReviewEventSink } from '../../../src/http/routes.js';
import { makeHarness, staticProvider } from './harness.js';
import { makeReview } from '../../helpers/review.js';

type Reported = Parameters<ReviewEventSink['report']>[0];
const reported: Reported[] = [];
let throwing = false;
const h = makeHarness({
  config: staticProvider(defaultInjectionConfig()),
  events: {
    report(input) {
      reported.push(input);
      if (throwing) throw new Error('sink broken');
    },
  },
});
afterAll(() => h.app.close());

function review(annotations: Record<string, string>, dryRun = false): string {
  return JSON.stringify(
    makeReview({
      request: { uid: 'u1', namespace: 'shop', dryRun },
      pod: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { generateName: 'web-', annotations },
        spec: { containers: [{ name: 'app', image: 'nginx' }] },
      },
    }),
  );
}

async function send(body: string): Promise<{ allowed: boolean; patch?: string }> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/inject',
    headers: { 'content-type': 'application/json' },
    payload: body,
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ response: { allowed: boolean; patch?: string } }>().response;
}

describe('review Events from the admission path', () => {
  it('reports a skip and a denial with their reason, not an injection or a dry run', async () => {
    reported.length = 0;
    expect((await send(review({ 'sidecar.istio.io/inject': 'false' }))).allowed).toBe(true);
    expect((await send(review({ 'sidecar.istio.io/proxyCPU': 'lots' }))).allowed).toBe(false);
    expect((await send(review({}))).patch).toBeDefined();
    await send(review({ 'sidecar.istio.io/inject': 'false' }, true));
    expect(reported.map((r) => [r.namespace, r.decision, r.reason])).toEqual([
      ['shop', 'skipped', reported[0]?.reason],
      ['shop', 'denied', 'INJ_ERR_INVALID_ANNOTATION'],
    ]);
    expect(reported[0]?.reason).not.toBe('');
    expect(reported[1]?.message).toContain('proxyCPU');
  });

  it('a failing sink changes nothing in the answer', async () => {
    throwing = true;
    const answer = await send(review({ 'sidecar.istio.io/inject': 'false' }));
    throwing = false;
    expect(answer.allowed).toBe(true);
  });
});
