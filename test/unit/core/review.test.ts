import { describe, expect, it } from 'vitest';
import type { Operation } from 'fast-json-patch';
import { denyReview, reviewAdmission, type ReviewInput } from '../../../src/core/review.js';
import { parseAdmissionReview } from '../../../src/core/review-envelope.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import { InjectorError, formatError } from '../../../src/errors.js';
import type { NamespaceLookupResult } from '../../../src/core/contracts.js';
import type { Container, Pod } from '../../../src/core/pod-types.js';
import { applyPatchStrict } from '../../../src/core/patch/apply-strict.js';
import { BAD_ANNOTATION, makeReview } from '../../helpers/review.js';
import { thrownText } from '../../helpers/errors.js';

const UID = '0df28fbd-5f5f-11e8-bc74-36e6bb280816';

function deps(extra: Partial<ReviewInput> = {}): ReviewInput {
  return { config: defaultInjectionConfig(), cluster: { nativeSidecars: false }, ...extra };
}

/** The containers of the review's pod once the answer's patch is applied. */
function patchedContainers(
  review: Record<string, unknown>,
  patch: string | undefined,
): Container[] {
  const pod = (review.request as { object: Pod }).object;
  return applyPatchStrict<Pod>(pod, decodePatch(patch)).spec?.containers ?? [];
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
      const review = makeReview({ apiVersion });
      expect(patchedContainers(review, response.response.patch).map((c) => c.name)).toEqual([
        'app',
        'istio-proxy',
      ]);
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
    const { response, outcome } = reviewAdmission(review, deps());
    expect(response.response).toEqual({ uid: UID, allowed: true });
    expect(outcome).toMatchObject({
      decision: 'skipped',
      reason: 'pod-annotation-opt-out',
      ops: 0,
    });
  });

  it('an unrecognised inject value is surfaced as a warning of at most 120 characters', () => {
    const value = 'yes-'.repeat(60);
    const review = makeReview({ pod: podWith({ 'sidecar.istio.io/inject': value }) });
    const { response } = reviewAdmission(review, deps());
    expect(response.response.warnings).toHaveLength(1);
    const warning = response.response.warnings?.[0] ?? '';
    expect(warning.length).toBeLessThanOrEqual(120);
    expect(warning).toContain('ignored annotation sidecar.istio.io/inject=');
  });

  it('an injection error denies with the code first and names the field and value', () => {
    const review = makeReview({ pod: podWith({ [BAD_ANNOTATION]: 'bogus' }) });
    const { response, outcome } = reviewAdmission(review, deps());
    expect(response.response.allowed).toBe(false);
    expect(response.response.patch).toBeUndefined();
    expect(response.response.patchType).toBeUndefined();
    const message = response.response.status?.message ?? '';
    expect(message.startsWith('INJ_ERR_INVALID_ANNOTATION: ')).toBe(true);
    expect(message).toContain(BAD_ANNOTATION);
    expect(message).toContain('bogus');
    expect(response.response.status?.code).toBe(400);
    expect(outcome).toMatchObject({ decision: 'denied', errorCode: 'INJ_ERR_INVALID_ANNOTATION' });
  });

  it('an unexpected exception becomes INJ_ERR_INTERNAL, not a crash', () => {
    // reviewParsed answers every exception through denyReview; a plain Error is the unexpected kind.
    const parsed = parseAdmissionReview(makeReview());
    const { response, outcome } = denyReview(parsed, new Error('boom'));
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
    const { response, outcome } = reviewAdmission(
      makeReview({ request: { ...base, ...request } }),
      deps(),
    );
    expect(response.response).toEqual({ uid: UID, allowed: true });
    // No decision was taken: an ignored outcome carries no decision reason.
    expect(outcome).toMatchObject({ decision: 'ignored', reason });
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

  it('passes path parameters to the pipeline as env overrides', () => {
    const { response } = reviewAdmission(
      makeReview(),
      deps({ pathEnv: { ISTIO_META_CLUSTER_ID: 'c1' } }),
    );
    const proxy = patchedContainers(makeReview(), response.response.patch).find(
      (c) => c.name === 'istio-proxy',
    );
    expect(proxy?.env).toContainEqual({ name: 'ISTIO_META_CLUSTER_ID', value: 'c1' });
  });

  it('a passed deadline denies with INJ_ERR_DEADLINE_EXCEEDED instead of injecting', () => {
    const { response, outcome } = reviewAdmission(
      makeReview(),
      deps({ deadlineExceeded: () => true }),
    );
    expect(response.response.allowed).toBe(false);
    expect(response.response.patch).toBeUndefined();
    expect(response.response.status?.message).toMatch(
      /^INJ_ERR_DEADLINE_EXCEEDED: .*before review/,
    );
    expect(outcome.errorCode).toBe('INJ_ERR_DEADLINE_EXCEEDED');
    // Passed on arrival (a huge body took the time): not even the decision is made.
  });
});

describe('reviewAdmission: namespace labels', () => {
  const ns = (labels: Record<string, string>): NamespaceLookupResult => ({
    source: 'cache',
    namespace: { name: 'default', labels, annotations: {} },
  });

  it.each([
    [
      'labels match',
      ns({ 'istio-injection': 'enabled' }),
      'injected',
      'policy-enabled',
      /\(Namespace label istio-injection=enabled matches\)$/,
    ],
    [
      'labels do not match',
      ns({}),
      'skipped',
      'no-injection-label',
      /^No injection label: label the namespace istio-injection=enabled/,
    ],
  ])('%s -> %s (%s)', (_name, namespace, decision, reason, message) => {
    const { outcome } = reviewAdmission(makeReview(), deps({ namespace }));
    expect(outcome).toMatchObject({ decision, reason, namespaceSource: 'cache' });
    // The selectors were evaluated: their verdict is the reason or is quoted in the message.
    expect(outcome.message).toMatch(message);
  });

  it('unavailable namespace: selectors are trusted and the reason says so', () => {
    const { outcome } = reviewAdmission(
      makeReview(),
      deps({ namespace: { source: 'unavailable' } }),
    );
    expect(outcome.decision).toBe('injected');
    expect(outcome.message).not.toMatch(/Namespace label/);
    expect(outcome.namespaceSource).toBe('unavailable');
    expect(outcome.message).toMatch(/namespace labels unavailable/);
  });
});
