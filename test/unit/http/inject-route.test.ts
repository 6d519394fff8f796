import { afterAll, describe, expect, it } from 'vitest';
import { applyPatch, type Operation } from 'fast-json-patch';
import { makeHarness, staticProvider } from './harness.js';
import { BAD_ANNOTATION, makeReview } from '../../helpers/review.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import type { NamespaceResolver } from '../../../src/core/contracts.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { createLogger } from '../../../src/logging/logger.js';
import { Writable } from 'node:stream';

const UID = '0df28fbd-5f5f-11e8-bc74-36e6bb280816';
const JSON_HEADERS = { 'content-type': 'application/json' };

interface ReviewBody {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    patch?: string;
    patchType?: string;
    warnings?: string[];
    status?: { code: number; message: string };
  };
}

const h = makeHarness();
afterAll(() => h.app.close());

function post(body: unknown, url = '/inject', headers: Record<string, string> = JSON_HEADERS) {
  return h.app.inject({
    method: 'POST',
    url,
    headers,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function decode(patch: string | undefined): Operation[] {
  return JSON.parse(Buffer.from(patch ?? '', 'base64').toString('utf8')) as Operation[];
}

describe('POST /inject', () => {
  it.each(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'])(
    '%s review: 200, echoed envelope, patch applies strictly to the original pod',
    async (apiVersion) => {
      const review = makeReview({ apiVersion });
      const res = await post(review);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json<ReviewBody>();
      expect(body.apiVersion).toBe(apiVersion);
      expect(body.kind).toBe('AdmissionReview');
      expect(body.response.uid).toBe(UID);
      expect(body.response.allowed).toBe(true);
      expect(body.response.patchType).toBe('JSONPatch');
      const original = (review.request as { object: Pod }).object;
      // validate=true: fast-json-patch throws on any operation that is not valid RFC 6902 for the doc.
      const patched = applyPatch(
        structuredClone(original),
        decode(body.response.patch),
        true,
        false,
      ).newDocument;
      expect(patched.spec?.containers?.map((c) => c.name)).toEqual(['app', 'istio-proxy']);
      expect(patched.metadata?.annotations).toHaveProperty(['sidecar.istio.io/status']);
    },
  );

  it('accepts application/json with charset=utf-8', async () => {
    const res = await post(makeReview(), '/inject', {
      'content-type': 'application/json; charset=UTF-8',
    });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['application/yaml', { 'content-type': 'application/yaml' }],
    ['charset latin1', { 'content-type': 'application/json; charset=latin1' }],
    ['no content type', {}],
  ])('415 for %s, with a JSON error body', async (_name, headers) => {
    const res = await post(makeReview(), '/inject', headers);
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'INJ_ERR_UNSUPPORTED_MEDIA_TYPE' });
  });

  it('413 for a body over 6 MiB', async () => {
    const big = JSON.stringify({ ...makeReview(), padding: 'x'.repeat(6 * 1024 * 1024) });
    const res = await post(big);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'INJ_ERR_BODY_TOO_LARGE' });
  });

  const good = makeReview();
  const request = good.request as Record<string, unknown>;
  it.each([
    ['malformed JSON', '{"apiVersion": "admission.k8s.io/v1",'],
    ['an empty body', ''],
    ['a JSON string', '"review"'],
    ['prototype poisoning', '{"__proto__": {"x": 1}, "kind": "AdmissionReview"}'],
    ['no request', JSON.stringify({ ...good, request: undefined })],
    ['no uid', JSON.stringify({ ...good, request: { ...request, uid: undefined } })],
    ['an empty uid', JSON.stringify({ ...good, request: { ...request, uid: '' } })],
    ['the wrong apiVersion', JSON.stringify({ ...good, apiVersion: 'v1' })],
  ])('400 INJ_ERR_REVIEW_MALFORMED for %s', async (_name, payload) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    const body = res.json<{ code: string; message: string }>();
    expect(body.code).toBe('INJ_ERR_REVIEW_MALFORMED');
    expect(body.message).toMatch(/^INJ_ERR_REVIEW_MALFORMED: /);
  });

  it.each([
    ['UPDATE', { operation: 'UPDATE' }],
    ['a ConfigMap', { kind: { group: '', version: 'v1', kind: 'ConfigMap' } }],
  ])('%s: allowed without patch', async (_name, change) => {
    const res = await post(makeReview({ request: { ...request, ...change } }));
    expect(res.statusCode).toBe(200);
    expect(res.json<ReviewBody>().response).toEqual({ uid: UID, allowed: true });
  });

  it('dryRun: same answer as a real request', async () => {
    const real = (await post(makeReview())).json<ReviewBody>();
    const dry = (
      await post(makeReview({ request: { ...request, dryRun: true } }))
    ).json<ReviewBody>();
    expect(dry).toEqual(real);
  });

  it('injection error: 200 with allowed:false, code first, field and value named', async () => {
    const pod = {
      metadata: { annotations: { [BAD_ANNOTATION]: 'nope' } },
      spec: { containers: [{ name: 'app', image: 'app' }] },
    };
    const res = await post(makeReview({ pod }));
    expect(res.statusCode).toBe(200);
    const { response } = res.json<ReviewBody>();
    expect(response.allowed).toBe(false);
    expect(response.patch).toBeUndefined();
    expect(response.status?.message).toMatch(/^INJ_ERR_INVALID_ANNOTATION: /);
    expect(response.status?.message).toContain(BAD_ANNOTATION);
    expect(response.status?.message).toContain('nope');
  });

  it('path parameters below /inject/ reach the engine as env overrides', async () => {
    const res = await post(makeReview(), '/inject/cluster/c1/net/n1?timeout=10s');
    const original = (makeReview().request as { object: Pod }).object;
    const patched = applyPatch(
      structuredClone(original),
      decode(res.json<ReviewBody>().response.patch),
      true,
      false,
    ).newDocument;
    const proxy = patched.spec?.containers?.find((c) => c.name === 'istio-proxy');
    expect(proxy?.env).toEqual(
      expect.arrayContaining([
        { name: 'ISTIO_META_CLUSTER_ID', value: 'c1' },
        { name: 'ISTIO_META_NETWORK', value: 'n1' },
      ]),
    );
  });

  it('GET /inject is not a route: 404 with a JSON error body', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/inject' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'INJ_ERR_NOT_FOUND' });
  });

  it('a route schema is refused when the app starts (fastify schema compilers are not loaded)', async () => {
    const other = makeHarness();
    other.app.post('/with-schema', { schema: { body: { type: 'object' } } }, () => ({}));
    await expect(other.app.ready()).rejects.toThrow(/route schemas are not supported/);
  });
});

describe('logging', () => {
  it('the review line has the bytes a per-request child logger (reqId) would write', async () => {
    // Names with quotes, backslashes, controls and non-ASCII, null metadata, a refused pod, a
    // dry run, an UPDATE: each field present and absent.
    const cases: Record<string, unknown>[] = [
      makeReview(),
      makeReview({ pod: { metadata: { name: 'a"b\\c\u0001é', generateName: 'g-' } } }),
      makeReview({ pod: { metadata: null } as unknown as Pod }),
      makeReview({ request: { dryRun: true, name: 'named' } }),
      makeReview({ request: { operation: 'UPDATE' } }),
      makeReview({
        pod: {
          metadata: { annotations: { [BAD_ANNOTATION]: 'nope' } },
          spec: { containers: [] },
        },
      }),
    ];
    for (const review of cases) {
      const harness = makeHarness();
      await harness.app.inject({
        method: 'POST',
        url: '/inject',
        headers: JSON_HEADERS,
        payload: JSON.stringify(review),
      });
      await harness.app.close();
      const line = harness
        .logText()
        .split('\n')
        .find((l) => l.includes('"msg":"admission review"'));
      expect(line).toBeDefined();
      const head =
        /^\{"level":30,"time":"[^"]+","name":"sidecar-injector","reqId":"(req-\d+)",/.exec(
          line ?? '',
        );
      expect(head).not.toBeNull();
      const reqId = head?.[1];
      // The fields after the bindings (a review's own `name` may repeat the binding's key).
      const { msg, ...fields } = JSON.parse(`{${(line ?? '').slice(head?.[0].length)}`) as Record<
        string,
        unknown
      >;
      expect(msg).toBe('admission review');
      // The line's fields, in this order, each only when it has a value.
      const order = [
        'uid',
        'namespace',
        'name',
        'podName',
        'generateName',
        'operation',
        'decision',
        'reason',
        'ops',
        'code',
        'namespaceSource',
        'dryRun',
        'detail',
        'durationMs',
      ];
      expect(order.filter((key) => key in fields)).toEqual(Object.keys(fields));
      let expected = '';
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          expected += chunk.toString('utf8');
          callback();
        },
      });
      createLogger({ destination: sink })
        .child({ reqId })
        .info({ ...fields }, 'admission review');
      await new Promise((resolve) => setImmediate(resolve));
      const at = (text: string) => text.replace(/"time":"[^"]*"/, '"time":""');
      expect(at(`${line ?? ''}\n`)).toBe(at(expected));
    }
  });

  it('one info line per review with the request identity, never env values', async () => {
    const harness = makeHarness();
    const pod = {
      metadata: { generateName: 'web-7d9f-', namespace: 'shop' },
      spec: { containers: [{ name: 'app', env: [{ name: 'PASSWORD', value: 's3cr3t-value' }] }] },
    };
    const res = await harness.app.inject({
      method: 'POST',
      url: '/inject',
      headers: JSON_HEADERS,
      payload: JSON.stringify(makeReview({ pod })),
    });
    await harness.app.close();
    const ops = decode(res.json<ReviewBody>().response.patch).length;
    expect(ops).toBeGreaterThan(0);
    const lines = harness.logs().filter((line) => line.msg === 'admission review');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      uid: UID,
      namespace: 'default',
      generateName: 'web-7d9f-',
      operation: 'CREATE',
      decision: 'injected',
      reason: 'policy-enabled',
      ops,
    });
    expect(harness.logText()).not.toContain('s3cr3t-value');
  });

  it('metadata that is null is denied as an invalid pod naming the field, and logged without pod names', async () => {
    const harness = makeHarness();
    const res = await harness.app.inject({
      method: 'POST',
      url: '/inject',
      headers: JSON_HEADERS,
      payload: JSON.stringify(makeReview({ pod: { metadata: null } as unknown as Pod })),
    });
    await harness.app.close();
    expect(res.statusCode).toBe(200);
    const { response } = res.json<ReviewBody>();
    // A patch under a null parent would not apply; the API server never sends null anyway.
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toMatch(
      /^INJ_ERR_INVALID_POD: .*request\.object\.metadata: expected an object, got null/,
    );
    const lines = harness.logs().filter((line) => line.msg === 'admission review');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ uid: UID, code: 'INJ_ERR_INVALID_POD' });
    expect(lines[0]).not.toHaveProperty('podName');
  });

  it.each<[string, unknown]>([
    ['a string', 'web-1'],
    ['an array', ['web-1']],
  ])(
    'metadata that is %s: denied in-band as an invalid pod and logged without pod names',
    async (_label, metadata) => {
      const harness = makeHarness();
      const res = await harness.app.inject({
        method: 'POST',
        url: '/inject',
        headers: JSON_HEADERS,
        payload: JSON.stringify(makeReview({ pod: { metadata } as unknown as Pod })),
      });
      await harness.app.close();
      expect(res.statusCode).toBe(200);
      const { response } = res.json<ReviewBody>();
      expect(response.allowed).toBe(false);
      expect(response.status?.message).toMatch(/^INJ_ERR_INVALID_POD: /);
      const lines = harness.logs().filter((line) => line.msg === 'admission review');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ uid: UID, decision: 'denied', code: 'INJ_ERR_INVALID_POD' });
      expect(lines[0]).not.toHaveProperty('podName');
    },
  );
});

describe('deadlines and namespaces', () => {
  /** A resolver that never answers, like an API server that does not respond. */
  const hanging: NamespaceResolver = { resolve: () => new Promise(() => undefined) };

  it('?timeout=50ms with a hanging namespace lookup: allowed:false INJ_ERR_DEADLINE_EXCEEDED', async () => {
    const harness = makeHarness({ namespaces: hanging });
    const res = await harness.app.inject({
      method: 'POST',
      url: '/inject?timeout=50ms',
      headers: JSON_HEADERS,
      payload: JSON.stringify(makeReview()),
    });
    await harness.app.close();
    const { response } = res.json<ReviewBody>();
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toMatch(/^INJ_ERR_DEADLINE_EXCEEDED: /);
    const metrics = await harness.metrics.registry.getSingleMetricAsString(
      'sidecar_injection_failure_total',
    );
    expect(metrics).toContain('code="INJ_ERR_DEADLINE_EXCEEDED"} 1');
  });

  it('a resolver that throws counts as unavailable and the pod is still injected', async () => {
    const harness = makeHarness({
      namespaces: { resolve: () => Promise.reject(new Error('connection refused')) },
    });
    const res = await harness.app.inject({
      method: 'POST',
      url: '/inject',
      headers: JSON_HEADERS,
      payload: JSON.stringify(makeReview()),
    });
    await harness.app.close();
    expect(res.json<ReviewBody>().response.allowed).toBe(true);
    expect(res.json<ReviewBody>().response.patchType).toBe('JSONPatch');
    const line = harness.logs().find((l) => l.msg === 'admission review');
    expect(line).toMatchObject({ namespaceSource: 'unavailable' });
  });

  it('known namespace labels are checked in-process: unlabelled namespace is skipped', async () => {
    const harness = makeHarness({
      namespaces: {
        resolve: (name) =>
          Promise.resolve({ source: 'cache', namespace: { name, labels: {}, annotations: {} } }),
      },
    });
    const res = await harness.app.inject({
      method: 'POST',
      url: '/inject',
      headers: JSON_HEADERS,
      payload: JSON.stringify(makeReview()),
    });
    await harness.app.close();
    expect(res.json<ReviewBody>().response).toEqual({ uid: UID, allowed: true });
    const line = harness.logs().find((l) => l.msg === 'admission review');
    expect(line).toMatchObject({
      decision: 'skipped',
      reason: 'no-injection-label',
      namespaceSource: 'cache',
    });
  });
});

describe('metrics', () => {
  it('counts requests, successes, skips by reason and failures by code', async () => {
    const harness = makeHarness();
    const send = (payload: string, headers = JSON_HEADERS) =>
      harness.app.inject({ method: 'POST', url: '/inject', headers, payload });
    const optOut = { metadata: { annotations: { 'sidecar.istio.io/inject': 'false' } }, spec: {} };
    const failing = {
      metadata: { annotations: { [BAD_ANNOTATION]: 'x' } },
      spec: { containers: [{ name: 'app', image: 'app' }] },
    };
    await send(JSON.stringify(makeReview()));
    await send(JSON.stringify(makeReview()));
    await send(JSON.stringify(makeReview({ pod: optOut })));
    await send(JSON.stringify(makeReview({ pod: failing })));
    await send('{bad json');
    await send(JSON.stringify(makeReview()), { 'content-type': 'text/plain' });
    const res = await harness.app.inject({ method: 'GET', url: '/metrics' });
    await harness.app.close();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/^sidecar_injection_requests_total 6$/m);
    expect(text).toMatch(/^sidecar_injection_success_total 2$/m);
    expect(text).toMatch(/^sidecar_injection_skip_total\{reason="pod-annotation-opt-out"\} 1$/m);
    expect(text).toMatch(
      /^sidecar_injection_failure_total\{code="INJ_ERR_INVALID_ANNOTATION"\} 1$/m,
    );
    expect(text).toMatch(/^sidecar_injection_failure_total\{code="INJ_ERR_REVIEW_MALFORMED"\} 1$/m);
    expect(text).toMatch(
      /^sidecar_injection_failure_total\{code="INJ_ERR_UNSUPPORTED_MEDIA_TYPE"\} 1$/m,
    );
    expect(text).toMatch(/^sidecar_injection_duration_seconds_count 6$/m);
    expect(text).toContain('sidecar_injection_duration_seconds_bucket{le="0.0005"}');
  });
});

describe('health and readiness', () => {
  it('GET /healthz is 200', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    ['everything ready', {}, 200],
    ['config not loaded', { config: staticProvider(defaultInjectionConfig(), false) }, 503],
    ['certificate not loaded', { certificateReady: () => false }, 503],
    ['caches not synced', { clusterReadiness: { synced: () => false } }, 503],
    ['draining for shutdown', { draining: () => true }, 503],
  ])('GET /readyz with %s -> %d', async (_name, overrides, status) => {
    const harness = makeHarness(overrides);
    const res = await harness.app.inject({ method: 'GET', url: '/readyz' });
    await harness.app.close();
    expect(res.statusCode).toBe(status);
  });
});
