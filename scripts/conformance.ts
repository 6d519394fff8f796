/**
 * `npm run conformance [-- --corpus DIR] [--verbose] [--case=NAME]`: runs the conformance harness
 * over an Istio injection corpus (default ../shared/conformance/istio; any directory with the same
 * layout, such as ../shared/conformance/istio-1.30.3, scored with that release's ConfigMaps) and
 * prints each failing case with its first difference, then the score.
 */
import { loadCases, loadOlderVersionCases, runCase } from '../test/conformance/harness.js';
import { corpusAt, MASTER_CORPUS } from '../test/helpers/corpus.js';

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const only = args.find((a) => a.startsWith('--case='))?.slice('--case='.length);
const corpusFlag = args.findIndex((a) => a === '--corpus' || a.startsWith('--corpus='));
const corpusDir =
  corpusFlag < 0
    ? undefined
    : ((args[corpusFlag]?.startsWith('--corpus=')
        ? args[corpusFlag]?.slice('--corpus='.length)
        : args[corpusFlag + 1]) ?? '');
const corpus = corpusDir === undefined ? MASTER_CORPUS : corpusAt(corpusDir);

const cases = loadCases(corpus).filter((c) => only === undefined || c.testName.includes(only));
let identical = 0;
for (const c of cases) {
  const result = runCase(c, corpus);
  if (result.identical) {
    identical++;
    if (verbose) console.log(`ok   ${result.testName}`);
  } else {
    console.log(`FAIL ${result.testName}`);
    for (const f of result.failures) console.log(`     ${f}`);
  }
}
const older = loadOlderVersionCases(corpus).filter(
  (c) => only === undefined || c.testName.includes(only),
);
let olderIdentical = 0;
for (const c of older) {
  const result = runCase(c, corpus);
  if (result.identical) olderIdentical++;
  else {
    console.log(`FAIL ${result.testName} (older-version, not scored)`);
    for (const f of result.failures) console.log(`     ${f}`);
  }
}
const pct = cases.length === 0 ? 0 : (100 * identical) / cases.length;
console.log(`corpus: ${corpus.dir} (release ${corpus.release})`);
console.log(`older-version cases: ${olderIdentical}/${older.length} identical`);
console.log(
  `conformance: ${identical}/${cases.length} golden cases identical (${pct.toFixed(1)} %)`,
);
