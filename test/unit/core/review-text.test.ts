import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admissionReviewText,
  type AdmissionReviewResponse,
} from '../../../src/core/review-envelope.js';
import { encodePatch } from '../../../src/core/patch/encode.js';
import { reviewAdmission } from '../../../src/core/review.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import { makeReview } from '../../helpers/review.js';

/** Strings that try to look like the spliced key, or need JSON escapes. */
const awkward = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('"patch":""', '\\"patch\\":\\"\\"', '","patch":"', '\u2028', '\ud800', '"'),
);

const ops = fc.array(
  fc.record({
    op: fc.constantFrom('add' as const, 'replace' as const),
    path: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `/metadata/annotations/${s}`),
    value: fc.jsonValue({ maxDepth: 3 }),
  }),
  { minLength: 0, maxLength: 6 },
);

const reviews: fc.Arbitrary<AdmissionReviewResponse> = fc
  .record({
    apiVersion: awkward,
    uid: awkward,
    allowed: fc.boolean(),
    patch: fc.option(ops, { nil: undefined }),
    warnings: fc.option(fc.array(awkward, { maxLength: 3 }), { nil: undefined }),
    status: fc.option(fc.record({ code: fc.integer(), message: awkward }), { nil: undefined }),
  })
  .map(({ apiVersion, uid, allowed, patch, warnings, status }) => ({
    apiVersion,
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed,
      ...(patch === undefined
        ? {}
        : { patchType: 'JSONPatch' as const, patch: encodePatch(patch) }),
      ...(status === undefined ? {} : { status }),
      ...(warnings === undefined ? {} : { warnings }),
    },
  }));

describe('admissionReviewText', () => {
  it('is JSON.stringify, character for character, for generated answers', () => {
    let spliced = 0;
    fc.assert(
      fc.property(reviews, (review) => {
        if ((review.response.patch ?? '') !== '') spliced++;
        expect(admissionReviewText(review)).toBe(JSON.stringify(review));
      }),
      { numRuns: 2000 },
    );
    // The generator reaches the spliced case, not only the plain one.
    expect(spliced).toBeGreaterThan(500);
  });

  it('is JSON.stringify for the answers of real reviews, injected and refused', () => {
    const config = defaultInjectionConfig();
    const uids = ['u-1', 'a"patch":""b', '\\', '\u00e9\u4e2d'];
    const annotations: Record<string, string>[] = [
      {},
      { 'sidecar.istio.io/inject': 'false' },
      { 'proxy.istio.io/config': '{' },
    ];
    let patched = 0;
    for (const uid of uids) {
      for (const extra of annotations) {
        const review = makeReview({
          request: { uid },
          pod: {
            metadata: { name: 'p', annotations: extra },
            spec: { containers: [{ name: 'app', image: 'app:1' }] },
          },
        });
        const { response } = reviewAdmission(review, {
          config,
          cluster: { nativeSidecars: false },
        });
        if (response.response.patch !== undefined) patched++;
        expect(admissionReviewText(response)).toBe(JSON.stringify(response));
      }
    }
    expect(patched).toBeGreaterThan(0);
  });
});
