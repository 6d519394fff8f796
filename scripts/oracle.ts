/**
 * `npm run oracle -- --runs N --seed S [--mode webhook|kube-inject|both] [--istio REV]`
 *
 * Differential test against Istio's own injector (test/oracle/, docs/conformance.md): builds the
 * Go oracle if needed, replays the committed regression cases, runs N generated cases through
 * both implementations, prints every difference shrunk to a minimal case with its first differing
 * path, and ends with `oracle: D/N identical` per mode. Exits 1 on a difference not listed in
 * test/oracle/regressions.json (or on a listed case that no longer differs: remove it then).
 * --shrink all|unlisted|none (default all), --max-shrink K (default 20), --write FILE writes the
 * minimal case of every unlisted difference as regression entries to FILE, for review.
 * --build-only builds (or finds cached) the oracle binary and exits.
 * --report prints every difference but exits 0 unless the run itself fails (for exploring a new
 * revision or generator; CI runs without it).
 */
import { writeFileSync } from 'node:fs';
import type { Mode } from '../test/oracle/generate.js';
import {
  buildOracle,
  goUnavailableReason,
  OracleProcess,
  revisionNamed,
} from '../test/oracle/process.js';
import {
  compact,
  describeComparison,
  replayRegressions,
  replayVerdict,
  runDifferential,
  type Regression,
} from '../test/oracle/run.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function intFlag(name: string, fallback: number): number {
  const v = flag(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n))
    throw new Error(`--${name} ${JSON.stringify(v)}: expected an integer`);
  return n;
}

async function main(): Promise<number> {
  const runs = intFlag('runs', 200);
  // fast-check seeds are 32-bit integers.
  const seed = intFlag('seed', Date.now() % 2 ** 31) | 0;
  const modeFlag = flag('mode') ?? 'both';
  if (!['webhook', 'kube-inject', 'both'].includes(modeFlag))
    throw new Error(`--mode ${JSON.stringify(modeFlag)}: expected webhook, kube-inject or both`);
  const modes: Mode[] = modeFlag === 'both' ? ['webhook', 'kube-inject'] : [modeFlag as Mode];
  const rev = revisionNamed(flag('istio') ?? 'master');
  const shrink = (flag('shrink') ?? 'all') as 'all' | 'unlisted' | 'none';
  const maxShrink = intFlag('max-shrink', 20);
  const writeTo = flag('write');

  const why = goUnavailableReason();
  if (why) {
    console.log(`oracle: skipped: ${why}; the oracle needs Go (see test/oracle/README.md)`);
    return 2;
  }
  const started = Date.now();
  const built = buildOracle(rev, (l) => console.log(l));
  if (process.argv.includes('--build-only')) {
    console.log(`oracle: ${rev.name} binary ready: ${built.binary}`);
    return 0;
  }
  const oracle = new OracleProcess(built.binary);
  let unlisted = 0;
  let stale = 0;
  const found: Regression[] = [];
  const summary: string[] = [];
  try {
    for (const mode of modes) {
      console.log(`oracle: Istio ${rev.name}, mode ${mode}, ${runs} cases, seed ${seed}`);
      for (const { regression, comparison } of await replayRegressions(
        oracle,
        mode,
        rev.name,
        rev.configmaps,
      )) {
        const verdict = replayVerdict(regression, comparison);
        if (verdict === 'ok') continue;
        stale++;
        console.log(
          regression.fixed
            ? `REGRESSED fixed difference "${regression.signature}" shows "${comparison.signature}" again`
            : verdict === 'stale'
              ? `STALE listed difference "${regression.signature}" is now identical: mark it "fixed": true in test/oracle/regressions.json`
              : `CHANGED listed difference "${regression.signature}" now shows "${comparison.signature}"`,
        );
      }
      const result = await runDifferential(oracle, {
        mode,
        runs,
        seed,
        istio: rev.name,
        configmaps: rev.configmaps,
        shrink,
        maxShrink,
        log: (l) => console.log(l),
      });
      for (const g of result.groups) {
        const shown = g.minimal ?? g.first;
        const label = g.listed ? `listed (${g.listed.reason})` : 'UNLISTED';
        console.log(`\nDIFF ${label}: ${g.signature} — ${g.count} of ${result.runs} cases`);
        console.log(`  ${describeComparison(shown.comparison)}`);
        console.log(
          `  ${g.minimal ? 'minimal' : 'first'} case: ${JSON.stringify(compact(shown.case))}`,
        );
        if (!g.listed) {
          unlisted++;
          found.push({
            signature: g.signature,
            reason: 'TODO: one-line reason',
            istio: rev.name,
            case: compact(shown.case) as never,
          });
        }
      }
      summary.push(
        `oracle: ${result.identical}/${result.runs} identical (${mode}, Istio ${rev.name}, seed ${seed})`,
      );
    }
  } finally {
    await oracle.close();
  }
  if (writeTo) {
    writeFileSync(writeTo, `${JSON.stringify({ regressions: found }, null, 2)}\n`);
    console.log(`oracle: wrote ${found.length} unlisted differences to ${writeTo}`);
  }
  console.log(`\noracle: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (unlisted > 0)
    console.log(`oracle: ${unlisted} difference(s) not listed in test/oracle/regressions.json`);
  if (stale > 0) console.log(`oracle: ${stale} listed regression case(s) changed`);
  for (const line of summary) console.log(line);
  if (process.argv.includes('--report')) {
    if (unlisted > 0 || stale > 0)
      console.log('oracle: --report: differences reported, not failing the run');
    return 0;
  }
  return unlisted > 0 || stale > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
