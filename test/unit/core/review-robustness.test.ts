/**
 * Seeded mutation test of the review path: realistic AdmissionReviews with fields replaced by
 * values of the wrong type or shape, and with odd annotation values. Every answer must be a
 * coded, in-band response (or INJ_ERR_REVIEW_MALFORMED for a broken envelope); never an
 * INJ_ERR_INTERNAL and never a throw.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import { reviewAdmission } from '../../../src/core/review.js';
import { isInjectorError } from '../../../src/errors.js';
import { PAYLOADS_DIR } from '../../helpers/shared.js';

const ITERATIONS = 3000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const index = JSON.parse(readFileSync(join(PAYLOADS_DIR, 'index.json'), 'utf8')) as {
  file: string;
}[];
const reviews = index.map(
  ({ file }) => JSON.parse(readFileSync(join(PAYLOADS_DIR, file), 'utf8')) as Json,
);

const ODD_VALUES: Json[] = [
  null,
  0,
  -1,
  1e308,
  '',
  'x',
  true,
  [],
  {},
  [null],
  { a: null },
  '0',
  'true',
  '15090',
  '*',
  '1,,2',
  '{',
  '[]',
  { name: 5 },
  [{}],
  [{ name: 'istio-proxy' }],
  'a'.repeat(300),
];
const ANNOTATIONS = [
  'sidecar.istio.io/inject',
  'sidecar.istio.io/status',
  'proxy.istio.io/config',
  'proxy.istio.io/overrides',
  'sidecar.istio.io/userVolume',
  'sidecar.istio.io/userVolumeMount',
  'traffic.sidecar.istio.io/includeOutboundIPRanges',
  'prometheus.io/port',
  'prometheus.istio.io/scrape-targets',
  'inject.istio.io/templates',
  'status.sidecar.istio.io/port',
  'sidecar.istio.io/proxyCPU',
  'k8s.v1.cni.cncf.io/networks',
  'sidecar.istio.io/interceptionMode',
  'apm.datadoghq.com/env',
  'readiness.status.sidecar.istio.io/periodSeconds',
];

/** Deterministic pseudo-random numbers (a linear congruential generator), so failures replay. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

function pathsOf(value: Json, prefix: (string | number)[], out: (string | number)[][]): void {
  out.push(prefix);
  if (value === null || typeof value !== 'object' || out.length > 2000) return;
  for (const [key, child] of Object.entries(value)) {
    pathsOf(child, [...prefix, Array.isArray(value) ? Number(key) : key], out);
  }
}

function mutate(review: Json, next: () => number): Json {
  const copy = structuredClone(review) as { request: { object: Json } };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const paths: (string | number)[][] = [];
  pathsOf(copy.request.object, ['request', 'object'], paths);
  for (let m = 0; m < 1 + Math.floor(next() * 3); m++) {
    const object = copy.request.object as { metadata?: { annotations?: Record<string, Json> } };
    if (next() < 0.5 && object !== null && typeof object === 'object') {
      object.metadata ??= {};
      if (typeof object.metadata === 'object' && object.metadata !== null) {
        object.metadata.annotations ??= {};
        const annotations = object.metadata.annotations;
        if (typeof annotations === 'object' && annotations !== null) {
          const value = pick(ODD_VALUES);
          annotations[pick(ANNOTATIONS)] =
            typeof value === 'string' ? value : JSON.stringify(value);
        }
      }
      continue;
    }
    const path = pick(paths);
    // An earlier mutation may have replaced part of the path: then this one is skipped.
    let parent: Json | undefined = copy;
    for (const segment of path.slice(0, -1)) {
      parent =
        parent !== null && typeof parent === 'object'
          ? (parent as Record<string | number, Json>)[segment]
          : undefined;
    }
    const last = path[path.length - 1];
    if (last !== undefined && parent !== null && typeof parent === 'object') {
      (parent as Record<string | number, Json>)[last] = structuredClone(pick(ODD_VALUES));
    }
  }
  return copy;
}

describe('review robustness', () => {
  // 3000 whole reviews: no speed is asserted here (that is `npm run bench`), and on a loaded
  // 2-core machine they can take longer than the default 30 s; the bound only catches a hang.
  it(
    `answers ${ITERATIONS} mutated reviews with coded responses, never an internal error`,
    { timeout: 300_000 },
    () => {
      expect(reviews.length).toBeGreaterThan(0);
      const next = random(20261122);
      const config = defaultInjectionConfig();
      const outcomes = { injected: 0, denied: 0, other: 0, malformed: 0 };
      const internal: string[] = [];
      for (let i = 0; i < ITERATIONS; i++) {
        const review = mutate(reviews[i % reviews.length] as Json, next);
        try {
          const cluster = { nativeSidecars: next() < 0.5 };
          const { response } = reviewAdmission(review, { config, cluster }).response;
          if (response.allowed) {
            if (response.patch === undefined) outcomes.other++;
            else outcomes.injected++;
            continue;
          }
          outcomes.denied++;
          const message = response.status?.message ?? '';
          expect(message).toMatch(/^INJ_ERR_[A-Z_]+: /);
          if (message.startsWith('INJ_ERR_INTERNAL')) internal.push(message.slice(0, 200));
        } catch (error) {
          expect(isInjectorError(error) && error.code).toBe('INJ_ERR_REVIEW_MALFORMED');
          outcomes.malformed++;
        }
      }
      expect(internal).toEqual([]);
      // The mutations must exercise every kind of answer, or the test proves little.
      expect(outcomes.injected).toBeGreaterThan(ITERATIONS / 10);
      expect(outcomes.denied).toBeGreaterThan(ITERATIONS / 10);
      expect(outcomes.malformed + outcomes.other).toBeGreaterThan(0);
    },
  );
});
