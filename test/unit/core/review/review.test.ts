import { describe, expect, it } from 'vitest';
import type { Operation } from 'fast-json-patch';
import {
  parseAdmissionReview,
  reviewAdmission,
  type ReviewDeps,
} from '../../../../src/core/review.js';
import { InjectorError, formatError } from '../../../../src/errors.js';
import type { NamespaceLookupResult } from '../../../../src/core/contracts.js';
import { FAIL_ANNOTATION, createFakeEngine, fakeConfig, makeReview } from './fake-engine.js';
import { thrownText } from '../../../helpers/errors.js';

const UID = '0df28fbd-5f5f-11e8-bc74-36e6bb280816';

function deps(extra: Partial<ReviewDeps> = {}): ReviewDeps {
  return {
    engine: createFakeEngine(),
    config: fakeConfig(),
    clusterFacts: () => ({ nativeSidecars: false }),
    ...extra,
  };
}

function decodePatch(patch: string | undefined): Operation[] {
  expect(patch).toBeTypeOf('string');
  return JSON.parse(Buffer.from(patch ?? '', 'base64').toString('utf8')) as Operation[];
}

function podWith(annotations: Record<string, string>) {
  return {
    metadata: { name: 'p', annotations },
    spec: { containers: [{ name: 'app', image: 'app:1' }] },
  };
}

describe('parseAdmissionReview: malformed envelopes are typed errors', () => {
  const good = makeReview();
  const request = good.request as Record<string, unknown>;
  it.each([
    ['a string body', 'hello', 'body'],
    ['an array body', [], 'body'],
    ['null body', null, 'body'],
    ['no apiVersion', { ...good, apiVersion: undefined }, 'apiVersion'],
    ['wrong apiVersion', { ...good, apiVersion: 'admission.k8s.io/v2' }, 'apiVersion'],
    ['wrong kind', { ...good, kind: 'Pod' }, 'kind'],
    ['no request', { ...good, request: undefined }, 'request'],
    ['request not an object', { ...good, request: 'x' }, 'request'],
    ['no uid', { ...good, request: { ...request, uid: undefined } }, 'request.uid'],
    ['empty uid', { ...good, request: { ...request, uid: '' } }, 'request.uid'],
    ['numeric uid', { ...good, request: { ...request, uid: 42 } }, 'request.uid'],
  ])('%s -> INJ_ERR_REVIEW_MALFORMED naming %s', (_name, body, field) => {
    let caught: unknown;
    try {
      parseAdmissionReview(body);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InjectorError);
    const error = caught as InjectorError;
    expect(error.code).toBe('INJ_ERR_REVIEW_MALFORMED');
    expect(error.httpStatus).toBe(400);
    expect(formatError(error).startsWith('INJ_ERR_REVIEW_MALFORMED: ')).toBe(true);
    expect(error.details[0]?.field).toBe(field);
  });

  it('reviewAdmission throws the same typed error', () => {
    expect(thrownText(() => reviewAdmission({ kind: 'AdmissionReview' }, deps()))).toMatch(
      /INJ_ERR_REVIEW_MALFORMED/,
    );
  });
});

describe('reviewAdmission: answers', () => {
  it.each(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'])(
    '%s: echoes apiVersion, kind and uid and returns a base64 JSONPatch',
    (apiVersion) => {
      const { response, outcome } = reviewAdmission(makeReview({ apiVersion }), deps());
      expect(response.apiVersion).toBe(apiVersion);
      expect(response.kind).toBe('AdmissionReview');
      expect(response).not.toHaveProperty('request');
      expect(response.response.uid).toBe(UID);
      expect(response.response.allowed).toBe(true);
      expect(response.response.patchType).toBe('JSONPatch');
      const ops = decodePatch(response.response.patch);
      expect(ops.map((op) => op.path)).toContain('/spec/containers/-');
      expect(outcome).toMatchObject({
        decision: 'injected',
        reason: 'policy-enabled',
        dryRun: false,
      });
      expect(outcome.ops).toBe(ops.length);
    },
  );

  it('skip: allowed, no patch, no patchType, reason from the decision', () => {
    const review = makeReview({ pod: podWith({ 'sidecar.istio.io/inject': 'false' }) });
    const engine = createFakeEngine();
    const { response, outcome } = reviewAdmission(review, deps({ engine }));
    expect(response.response).toEqual({ uid: UID, allowed: true });
    expect(outcome).toMatchObject({
      decision: 'skipped',
      reason: 'pod-annotation-opt-out',
      ops: 0,
    });
    expect(engine.calls.inject).toBe(0);
  });

  it('an unrecognised inject value is surfaced as a warning of at most 120 characters', () => {
    const value = 'yes-'.repeat(60);
    const review = makeReview({ pod: podWith({ 'sidecar.istio.io/inject': value }) });
    const { response } = reviewAdmission(review, deps());
    expect(response.response.warnings).toHaveLength(1);
    const warning = response.response.warnings?.[0] ?? '';
    expect(warning.length).toBeLessThanOrEqual(120);
    expect(warning).toContain('ignored sidecar.istio.io/inject value');
  });

  it('an injection error denies with the code first and names the field and value', () => {
    const review = makeReview({ pod: podWith({ [FAIL_ANNOTATION]: 'bogus' }) });
    const { response, outcome } = reviewAdmission(review, deps());
    expect(response.response.allowed).toBe(false);
    expect(response.response.patch).toBeUndefined();
    expect(response.response.patchType).toBeUndefined();
    const message = response.response.status?.message ?? '';
    expect(message.startsWith('INJ_ERR_INVALID_ANNOTATION: ')).toBe(true);
    expect(message).toContain(FAIL_ANNOTATION);
    expect(message).toContain('bogus');
    expect(response.response.status?.code).toBe(400);
    expect(outcome).toMatchObject({ decision: 'denied', errorCode: 'INJ_ERR_INVALID_ANNOTATION' });
  });

  it('an unexpected engine exception becomes INJ_ERR_INTERNAL, not a crash', () => {
    const review = makeReview({ pod: podWith({ [FAIL_ANNOTATION]: 'x' }) });
    const { response, outcome } = reviewAdmission(
      review,
      deps({ engine: createFakeEngine({ throwPlain: true }) }),
    );
    expect(response.response.allowed).toBe(false);
    expect(response.response.status?.message).toMatch(/^INJ_ERR_INTERNAL: .*boom/);
    expect(outcome.errorCode).toBe('INJ_ERR_INTERNAL');
  });

  const base = makeReview().request as Record<string, unknown>;
  it.each([
    ['UPDATE', { operation: 'UPDATE' }, 'not-create'],
    ['DELETE', { operation: 'DELETE', object: null }, 'not-create'],
    ['CONNECT', { operation: 'CONNECT' }, 'not-create'],
    ['a Service', { kind: { group: '', version: 'v1', kind: 'Service' } }, 'not-a-pod'],
    ['a Deployment', { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }, 'not-a-pod'],
    ['pods/ephemeralcontainers', { subResource: 'ephemeralcontainers' }, 'not-a-pod'],
    [
      'no kind, resource services',
      { kind: undefined, resource: { resource: 'services' } },
      'not-a-pod',
    ],
  ])('%s: allowed, untouched, ignored', (_name, request, reason) => {
    const engine = createFakeEngine();
    const { response, outcome } = reviewAdmission(
      makeReview({ request: { ...base, ...request } }),
      deps({ engine }),
    );
    expect(response.response).toEqual({ uid: UID, allowed: true });
    expect(outcome).toMatchObject({ decision: 'ignored', reason });
    expect(engine.calls.decide).toBe(0);
  });

  it('no kind but resource pods is still treated as a pod', () => {
    const review = makeReview({ request: { ...base, kind: undefined } });
    expect(reviewAdmission(review, deps()).outcome.decision).toBe('injected');
  });

  it.each([
    ['missing object', { object: undefined }, 'request.object'],
    ['object is a string', { object: 'pod' }, 'request.object'],
    ['spec is a string', { object: { spec: 'x' } }, 'request.object.spec'],
    ['containers not a list', { object: { spec: { containers: {} } } }, 'spec.containers'],
  ])('CREATE of a pod with %s: denied with INJ_ERR_INVALID_POD', (_name, request, field) => {
    const { response, outcome } = reviewAdmission(
      makeReview({ request: { ...base, ...request } }),
      deps(),
    );
    expect(response.response.allowed).toBe(false);
    expect(response.response.status?.message).toMatch(/^INJ_ERR_INVALID_POD: /);
    expect(response.response.status?.message).toContain(field);
    expect(outcome.errorCode).toBe('INJ_ERR_INVALID_POD');
  });

  it('dryRun is answered exactly like a real request', () => {
    const real = reviewAdmission(makeReview(), deps());
    const dry = reviewAdmission(makeReview({ request: { ...base, dryRun: true } }), deps());
    expect(dry.response).toEqual(real.response);
    expect(dry.outcome.dryRun).toBe(true);
  });

  it('passes path parameters to the engine as env overrides', () => {
    const { response } = reviewAdmission(
      makeReview(),
      deps({ pathEnv: { ISTIO_META_CLUSTER_ID: 'c1' } }),
    );
    const ops = decodePatch(response.response.patch);
    const proxy = ops.find((op) => op.path === '/spec/containers/-') as { value: unknown };
    expect(proxy.value).toMatchObject({ env: [{ name: 'ISTIO_META_CLUSTER_ID', value: 'c1' }] });
  });

  it('a passed deadline denies with INJ_ERR_DEADLINE_EXCEEDED instead of injecting', () => {
    const engine = createFakeEngine();
    const { response, outcome } = reviewAdmission(
      makeReview(),
      deps({ engine, deadlineExceeded: () => true }),
    );
    expect(response.response.allowed).toBe(false);
    expect(response.response.status?.message).toMatch(/^INJ_ERR_DEADLINE_EXCEEDED: /);
    expect(outcome.errorCode).toBe('INJ_ERR_DEADLINE_EXCEEDED');
    expect(engine.calls.inject).toBe(0);
    // Passed on arrival (a huge body took the time): not even the decision is made.
    expect(engine.calls.decide).toBe(0);
    expect(response.response.status?.message).toContain('before review');
  });
});

describe('reviewAdmission: namespace labels', () => {
  const ns = (labels: Record<string, string>): NamespaceLookupResult => ({
    source: 'cache',
    namespace: { name: 'default', labels, annotations: {} },
  });

  it.each([
    ['labels match', ns({ 'istio-injection': 'enabled' }), 'injected', 'policy-enabled'],
    ['labels do not match', ns({}), 'skipped', 'no-injection-label'],
  ])('%s -> %s (%s)', (_name, namespace, decision, reason) => {
    const engine = createFakeEngine({ selectors: true });
    const { outcome } = reviewAdmission(makeReview(), deps({ engine, namespace }));
    expect(outcome).toMatchObject({ decision, reason, namespaceSource: 'cache' });
    expect(engine.calls.selectors).toBe(1);
  });

  it('unavailable namespace: selectors are trusted and the reason says so', () => {
    const engine = createFakeEngine({ selectors: true });
    const { outcome } = reviewAdmission(
      makeReview(),
      deps({ engine, namespace: { source: 'unavailable' } }),
    );
    expect(engine.calls.selectors).toBe(0);
    expect(outcome.decision).toBe('injected');
    expect(outcome.namespaceSource).toBe('unavailable');
    expect(outcome.message).toMatch(/namespace labels unavailable/);
  });
});
