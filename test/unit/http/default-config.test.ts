/**
 * End to end over the HTTP layer with the real engine and the embedded default configuration:
 * the realistic AdmissionReviews of ../shared/perf/payloads, answered, decoded, applied strictly.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Operation } from 'fast-json-patch';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { applyPatchStrict } from '../../../src/core/patch/apply-strict.js';
import { PAYLOADS_DIR } from '../../helpers/shared.js';
import { validatePod } from '../../helpers/pod-schema.js';
import { makeHarness, staticProvider } from './harness.js';

interface PayloadEntry {
  name: string;
  file: string;
  expect: 'inject' | 'skip';
}

interface ReviewBody {
  apiVersion: string;
  response: {
    uid: string;
    allowed: boolean;
    patch?: string;
    patchType?: string;
    status?: { message: string };
    warnings?: string[];
  };
}

const index = JSON.parse(
  await readFile(join(PAYLOADS_DIR, 'index.json'), 'utf8'),
) as PayloadEntry[];

const h = makeHarness({
  config: staticProvider(defaultInjectionConfig()),
});
afterAll(() => h.app.close());

async function send(body: string, url = '/inject?timeout=10s') {
  const res = await h.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    payload: body,
  });
  expect(res.statusCode).toBe(200);
  return res.json<ReviewBody>();
}

function patchOf(body: ReviewBody): Operation[] {
  return JSON.parse(
    Buffer.from(body.response.patch ?? '', 'base64').toString('utf8'),
  ) as Operation[];
}

describe('real engine over HTTP', () => {
  it('the payload corpus is present', () => {
    expect(index.length).toBeGreaterThan(0);
  });

  it.each(index.map((entry) => [entry.name, entry] as const))(
    '%s is answered as expected',
    async (_name, entry) => {
      const text = await readFile(join(PAYLOADS_DIR, entry.file), 'utf8');
      const review = JSON.parse(text) as { request: { uid: string; object: Pod } };
      const body = await send(text);
      expect(body.response.uid).toBe(review.request.uid);
      expect(body.response.allowed).toBe(true);
      if (entry.expect === 'skip') {
        expect(body.response.patch).toBeUndefined();
        expect(body.response.patchType).toBeUndefined();
        return;
      }
      expect(body.response.patchType).toBe('JSONPatch');
      const patched = applyPatchStrict(review.request.object, patchOf(body));
      const names = (patched.spec?.containers ?? []).map((c) => c.name);
      const initNames = (patched.spec?.initContainers ?? []).map((c) => c.name);
      expect([...names, ...initNames]).toContain('istio-proxy');
      expect(patched.metadata?.annotations).toHaveProperty(['sidecar.istio.io/status']);
      expect(() => validatePod(patched)).not.toThrow();
    },
  );

  it('v1beta1 reviews are answered in v1beta1 with the same patch', async () => {
    const text = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
    const v1 = await send(text);
    const review = JSON.parse(text) as Record<string, unknown>;
    const beta = await send(JSON.stringify({ ...review, apiVersion: 'admission.k8s.io/v1beta1' }));
    expect(beta.apiVersion).toBe('admission.k8s.io/v1beta1');
    expect(patchOf(beta)).toEqual(patchOf(v1));
  });

  it('Istio path parameters set the cluster and network of the proxy', async () => {
    const text = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
    const review = JSON.parse(text) as { request: { object: Pod } };
    const body = await send(text, '/inject/cluster/c1/net/n1?timeout=10s');
    const patched = applyPatchStrict(review.request.object, patchOf(body));
    const proxy = [
      ...(patched.spec?.containers ?? []),
      ...(patched.spec?.initContainers ?? []),
    ].find((c) => c.name === 'istio-proxy');
    const env = Object.fromEntries((proxy?.env ?? []).map((e) => [e.name, e.value]));
    expect(env['ISTIO_META_CLUSTER_ID']).toBe('c1');
    expect(env['ISTIO_META_NETWORK']).toBe('n1');
  });

  it('an annotation value Istio falls back on is injected and reported as a warning', async () => {
    const text = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
    const review = JSON.parse(text) as { request: { object: Pod } };
    const meta = review.request.object.metadata ?? {};
    meta.annotations = { ...meta.annotations, 'sidecar.istio.io/rewriteAppHTTPProbers': 'maybe' };
    review.request.object.metadata = meta;
    const body = await send(JSON.stringify(review));
    expect(body.response.allowed).toBe(true);
    expect(body.response.patchType).toBe('JSONPatch');
    expect(body.response.warnings).toEqual([
      expect.stringContaining('sidecar.istio.io/rewriteAppHTTPProbers="maybe" not understood'),
    ]);
  });

  it('an invalid annotation is denied with its code, naming the annotation and value', async () => {
    const text = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
    const review = JSON.parse(text) as { request: { object: Pod } };
    const meta = review.request.object.metadata ?? {};
    meta.annotations = {
      ...meta.annotations,
      'traffic.sidecar.istio.io/includeOutboundIPRanges': 'bad-range',
    };
    review.request.object.metadata = meta;
    const body = await send(JSON.stringify(review));
    expect(body.response.allowed).toBe(false);
    expect(body.response.patch).toBeUndefined();
    const message = body.response.status?.message ?? '';
    expect(message).toMatch(/^INJ_ERR_INVALID_ANNOTATION: /);
    expect(message).toContain('traffic.sidecar.istio.io/includeOutboundIPRanges');
    expect(message).toContain('bad-range');
  });

  it('re-injecting an injected pod keeps a single proxy (reinvocation is idempotent)', async () => {
    const text = await readFile(join(PAYLOADS_DIR, 'bookinfo-details-v1.json'), 'utf8');
    const review = JSON.parse(text) as { request: { object: Pod } };
    const once = applyPatchStrict(review.request.object, patchOf(await send(text)));
    review.request.object = once;
    const body = await send(JSON.stringify(review));
    expect(body.response.allowed).toBe(true);
    // Nothing left to change is answered without a patch (and without patchType).
    const twice = body.response.patch === undefined ? once : applyPatchStrict(once, patchOf(body));
    if (body.response.patch === undefined) expect(body.response.patchType).toBeUndefined();
    const all = [...(twice.spec?.containers ?? []), ...(twice.spec?.initContainers ?? [])];
    expect(all.filter((c) => c.name === 'istio-proxy')).toHaveLength(1);
  });
});
