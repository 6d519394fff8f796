/**
 * `npm run conformance`: runs the conformance harness over Istio's injection corpus and prints
 * each failing case with its first difference, then the score.
 */
import { loadCases, loadOlderVersionCases, runCase } from '../test/conformance/harness.js';

const verbose = process.argv.includes('--verbose');
const only = process.argv.find((a) => a.startsWith('--case='))?.slice('--case='.length);

const cases = loadCases().filter((c) => only === undefined || c.testName.includes(only));
let identical = 0;
for (const c of cases) {
  const result = runCase(c);
  if (result.identical) {
    identical++;
    if (verbose) console.log(`ok   ${result.testName}`);
  } else {
    console.log(`FAIL ${result.testName}`);
    for (const f of result.failures) console.log(`     ${f}`);
  }
}
const older = loadOlderVersionCases().filter(
  (c) => only === undefined || c.testName.includes(only),
);
let olderIdentical = 0;
for (const c of older) {
  const result = runCase(c);
  if (result.identical) olderIdentical++;
  else {
    console.log(`FAIL ${result.testName} (older-version, not scored)`);
    for (const f of result.failures) console.log(`     ${f}`);
  }
}
console.log(`older-version cases: ${olderIdentical}/${older.length} identical`);
console.log(`conformance: ${identical}/${cases.length} golden cases identical`);
