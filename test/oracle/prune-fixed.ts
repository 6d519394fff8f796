/**
 * `npx tsx test/oracle/prune-fixed.ts [--istio REV]`: replays every listed difference of that
 * revision and marks the ones that are now identical (a fix landed) `"fixed": true` in
 * test/oracle/regressions.json: their cases stay, and every run checks they stay identical
 * (write what was fixed into their reason). A changed signature is printed; with
 * --accept-changed it is written too, the reason noting the new shape (read the diff first).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { OracleProcess, cachedOracleBinary, revisionNamed } from './process.js';
import { REGRESSIONS_FILE, replayRegressions, type Regression } from './run.js';

const i = process.argv.indexOf('--istio');
const rev = revisionNamed(i >= 0 ? (process.argv[i + 1] ?? 'master') : 'master');
const oracle = new OracleProcess(cachedOracleBinary(rev));
const fixed = new Set<Regression>();
const changed = new Map<string, string>();
try {
  for (const mode of ['webhook', 'kube-inject'] as const)
    for (const { regression, comparison } of await replayRegressions(
      oracle,
      mode,
      rev.name,
      rev.configmaps,
    )) {
      if (regression.fixed) continue;
      if (comparison.identical) {
        fixed.add(regression);
        console.log(`fixed: ${regression.signature} (${regression.reason})`);
      } else if (comparison.signature !== regression.signature) {
        console.log(`CHANGED: ${regression.signature} -> ${comparison.signature}`);
        if (process.argv.includes('--accept-changed'))
          changed.set(regression.reason, comparison.signature ?? '');
      }
    }
} finally {
  await oracle.close();
}
const file = JSON.parse(readFileSync(REGRESSIONS_FILE, 'utf8')) as { regressions: Regression[] };
const keep = file.regressions;
let marked = 0;
for (const r of keep) {
  if (
    [...fixed].some(
      (f) => f.signature === r.signature && f.istio === r.istio && f.reason === r.reason,
    )
  ) {
    r.fixed = true;
    marked++;
  }
}
for (const r of keep) {
  const now = changed.get(r.reason);
  if (now === undefined || r.istio !== rev.name) continue;
  r.reason = `${r.reason}; was "${r.signature}", now ${now}: our side refuses this input since pods are checked more strictly`;
  r.signature = now;
}
writeFileSync(REGRESSIONS_FILE, `${JSON.stringify({ regressions: keep }, null, 2)}\n`);
console.log(`${marked} entries marked fixed, ${keep.length} in the list`);
