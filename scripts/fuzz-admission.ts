/**
 * `npx tsx scripts/fuzz-admission.ts [--runs N] [--seed S]`: reviews N generated hostile
 * AdmissionReviews (test/helpers/hostile-pods.ts) and prints every violation class of
 * test/helpers/admission-invariants.ts with its count and a few examples. Exits 1 on any.
 */
import fc from 'fast-check';
import { checkScenario, type Violation } from '../test/helpers/admission-invariants.js';
import { scenarioArb, type Scenario } from '../test/helpers/hostile-pods.js';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const runs = Number(flag('runs', '5000'));
const seed = Number(flag('seed', '42'));
const byClass = new Map<string, { count: number; examples: { v: Violation; s: Scenario }[] }>();
const started = performance.now();
for (const scenario of fc.sample(scenarioArb, { numRuns: runs, seed })) {
  for (const v of checkScenario(scenario)) {
    const entry = byClass.get(v.class) ?? { count: 0, examples: [] };
    entry.count++;
    const limit = Number(flag('examples', '3'));
    const known = entry.examples.some((e) => e.v.detail.slice(0, 60) === v.detail.slice(0, 60));
    if (!known && entry.examples.length < limit) entry.examples.push({ v, s: scenario });
    byClass.set(v.class, entry);
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(`${runs} scenarios (seed ${seed}) in ${seconds.toFixed(1)} s`);
for (const [name, { count, examples }] of byClass) {
  console.log(`\n## ${name}: ${count}`);
  for (const { v, s } of examples) {
    console.log(`- ${v.detail}`);
    if (process.argv.includes('--bodies')) console.log(`  body: ${s.body.slice(0, 1500)}`);
  }
}
process.exitCode = byClass.size > 0 ? 1 : 0;
