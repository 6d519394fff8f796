/**
 * Property: whatever the pod (test/helpers/hostile-pods.ts), every answer keeps the injector's
 * invariants (test/helpers/admission-invariants.ts): no INJ_ERR_INTERNAL, a patch that applies
 * strictly, a schema-valid pod kept schema-valid and its numbers in the API server's ranges, no
 * duplicated container name, no prototype member read as an Istio annotation, an answer before
 * the deadline. Numbers are denser in numeric-annotations.property.test.ts.
 *
 * Runs and seed come from the environment so CI can run more and vary the seed per commit
 * (.ci/run sets INJECTOR_PROPERTY_RUNS=20000 and INJECTOR_PROPERTY_SEED from `git rev-parse
 * HEAD`); a local `npm test` runs 2 000 with a fixed seed. A failure prints the seed and the
 * shrunk counterexample; `npx tsx scripts/fuzz-admission.ts --seed <n>` tallies every class.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkScenario } from '../helpers/admission-invariants.js';
import { PROTOTYPE_KEYS, scenarioArb } from '../helpers/hostile-pods.js';

const DEFAULT_RUNS = 2_000;
const DEFAULT_SEED = 20_261_201;

function seedFrom(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_SEED;
  // A commit id (hex) or a plain integer.
  const value = /^[0-9a-f]{7,40}$/i.test(text) ? parseInt(text.slice(0, 8), 16) : Number(text);
  return Number.isFinite(value) ? value | 0 : DEFAULT_SEED;
}

const runs = Number(process.env['INJECTOR_PROPERTY_RUNS'] ?? DEFAULT_RUNS) || DEFAULT_RUNS;
const seed = seedFrom(process.env['INJECTOR_PROPERTY_SEED']);

describe('hostile AdmissionReviews', () => {
  it('the generator produces every class of input it is meant to', () => {
    const sample = fc.sample(scenarioArb, { numRuns: 1_000, seed });
    const count = (test: (body: string) => boolean) => sample.filter((s) => test(s.body)).length;
    const protoAnnotation = new RegExp(`"annotations":\\{[^}]*"(${PROTOTYPE_KEYS.join('|')})"`);
    expect(count((b) => protoAnnotation.test(b))).toBeGreaterThan(50);
    expect(count((b) => b.includes('"name":"istio-proxy"'))).toBeGreaterThan(50);
    expect(count((b) => b.includes('"restartPolicy":"Always"'))).toBeGreaterThan(50);
    expect(count((b) => /"inject.istio.io\/templates":"[^"]*,/.test(b))).toBeGreaterThan(10);
    expect(count((b) => /2147483648/.test(b))).toBeGreaterThan(10);
    expect(count((b) => b.includes(':null'))).toBeGreaterThan(100);
    expect(sample.filter((s) => !s.pristine).length).toBeGreaterThan(300);
    expect(sample.filter((s) => s.pristine).length).toBeGreaterThan(200);
    expect(sample.filter((s) => s.nativeSidecars).length).toBeGreaterThan(300);
    expect(sample.filter((s) => s.openshift !== undefined).length).toBeGreaterThan(100);
  });

  it(
    `keep every invariant (${runs} reviews, seed ${seed})`,
    () => {
      console.log(`property: ${runs} generated reviews, seed ${seed}`);
      fc.assert(
        fc.property(scenarioArb, (scenario) => {
          expect(checkScenario(scenario)).toEqual([]);
        }),
        { numRuns: runs, seed },
      );
    },
    30_000 + runs * 20,
  );
});
