/**
 * The differential run: N generated cases (seeded), each answered by our engine and by Istio's
 * oracle, differences grouped by signature and each group shrunk to a minimal case by fast-check.
 * Used by `npm run oracle` (scripts/oracle.ts) and the oracle's vitest suite.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { JsonValue } from '../../src/core/json.js';
import { caseArbitrary, expandCase, type Mode, type OracleCase } from './generate.js';
import {
  canonicalise,
  compare,
  configTexts,
  istio,
  ours,
  readBaseTexts,
  type BaseTexts,
  type Comparison,
} from './differential.js';
import { ORACLE_DIR, type OracleProcess } from './process.js';

/** A difference we know of: committed in test/oracle/regressions.json with its reason. */
export interface Regression {
  signature: string;
  /** One line: what differs and the suspected cause in our core. */
  reason: string;
  /** The Istio revision it was found on (`master` is the pinned one). */
  istio: string;
  /** The case that shows it (shrunk where fast-check had the time); replayed on every run. */
  case: OracleCase;
  /**
   * Set once the difference is fixed: the case stays in the list and must now be identical on
   * every run (`reason` then says what was fixed).
   */
  fixed?: true;
}

/** What a replayed case shows against its entry: as listed, fixed as recorded, or changed. */
export function replayVerdict(r: Regression, comparison: Comparison): 'ok' | 'stale' | 'changed' {
  if (r.fixed) return comparison.identical ? 'ok' : 'changed';
  if (comparison.signature === r.signature) return 'ok';
  return comparison.identical ? 'stale' : 'changed';
}

export const REGRESSIONS_FILE = join(ORACLE_DIR, 'regressions.json');

/** The committed list; its cases are stored compact (see `compact`) and completed here. */
export function readRegressions(): Regression[] {
  const file = JSON.parse(readFileSync(REGRESSIONS_FILE, 'utf8')) as { regressions: Regression[] };
  return file.regressions.map((r) => ({ ...r, case: expandCase(r.case) }));
}

export interface CheckedCase {
  case: OracleCase;
  comparison: Comparison;
}

let nextId = 0;

export async function checkCase(
  oracle: OracleProcess,
  base: BaseTexts,
  c: OracleCase,
): Promise<Comparison> {
  const texts = configTexts(base, c);
  const id = String(nextId++);
  const theirs = await istio(oracle, c, texts, id);
  const mine = ours(c, texts, theirs.object);
  return compare(
    c,
    await canonicalise(oracle, c, mine, id),
    await canonicalise(oracle, c, theirs, id),
  );
}

export interface Group {
  signature: string;
  count: number;
  first: CheckedCase;
  minimal?: CheckedCase;
  listed: Regression | undefined;
}

export interface RunResult {
  mode: Mode;
  runs: number;
  identical: number;
  groups: Group[];
}

export interface RunOptions {
  mode: Mode;
  runs: number;
  seed: number;
  istio: string;
  configmaps: string;
  /** Which groups to shrink: all, only the unlisted ones, or none. */
  shrink: 'all' | 'unlisted' | 'none';
  maxShrink: number;
  log: (line: string) => void;
}

export async function runDifferential(oracle: OracleProcess, o: RunOptions): Promise<RunResult> {
  const base = readBaseTexts(o.configmaps);
  const listed = new Map(
    readRegressions()
      .filter((r) => r.istio === o.istio && !r.fixed)
      .map((r) => [r.signature, r]),
  );
  const arb = caseArbitrary(o.mode);
  const groups = new Map<string, Group>();
  let identical = 0;
  let runs = 0;
  const first = await fc.check(
    fc.asyncProperty(arb, async (c) => {
      const comparison = await checkCase(oracle, base, c);
      runs++;
      if (comparison.identical) identical++;
      else {
        const key = comparison.signature ?? '?';
        const g = groups.get(key);
        if (g) g.count++;
        else
          groups.set(key, {
            signature: key,
            count: 1,
            first: { case: c, comparison },
            listed: listed.get(key),
          });
      }
      return true;
    }),
    { numRuns: o.runs, seed: o.seed },
  );
  if (first.failed) throw new Error(`oracle run failed: ${String(first.errorInstance)}`);

  // The count before shrinking: a shrink re-runs the seed and can take long on a large run.
  o.log(
    `oracle: ${identical}/${runs} identical before shrinking (${groups.size} differing classes)`,
  );
  let shrunk = 0;
  for (const g of [...groups.values()].sort((x, y) => Number(!!x.listed) - Number(!!y.listed))) {
    if (o.shrink === 'none' || (o.shrink === 'unlisted' && g.listed) || shrunk >= o.maxShrink)
      continue;
    shrunk++;
    o.log(`oracle: shrinking "${g.signature}" (${g.count} cases)`);
    let last: CheckedCase | undefined;
    const r = await fc.check(
      fc.asyncProperty(arb, async (c) => {
        const comparison = await checkCase(oracle, base, c);
        if (comparison.signature === g.signature) {
          last = { case: c, comparison };
          return false;
        }
        return true;
      }),
      { numRuns: o.runs, seed: o.seed, endOnFailure: false },
    );
    if (r.failed && r.counterexample) {
      const c = r.counterexample[0];
      const comparison = await checkCase(oracle, base, c);
      g.minimal = { case: c, comparison };
    } else if (last) g.minimal = last;
  }
  return { mode: o.mode, runs, identical, groups: [...groups.values()] };
}

/**
 * A case with the parts `expandCase` fills in left out, for printing and for the committed list.
 * Only top-level defaults go: inside the workload an empty object (`resources: {requests: {}}`)
 * can be what makes the difference.
 */
export function compact(c: OracleCase): JsonValue {
  const settings: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(c.settings) as [string, JsonValue][]) {
    const isDefault =
      v === false ||
      v === '' ||
      (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
    if (!isDefault) settings[k] = v;
  }
  const out: Record<string, JsonValue> = { mode: c.mode };
  if (Object.keys(settings).length > 0) out.settings = settings;
  out.workload = c.workload as unknown as JsonValue;
  if (c.requestNamespace !== 'default') out.requestNamespace = c.requestNamespace;
  if (c.path !== '/inject') out.path = c.path;
  if (c.extraDocument) out.extraDocument = true;
  if (c.asList) out.asList = true;
  return out;
}

export function describeComparison(cmp: Comparison): string {
  const show = (v: unknown): string => JSON.stringify(v)?.slice(0, 400) ?? 'undefined';
  if (cmp.kind === 'output')
    return `first differing path ${cmp.path}: ours=${show(cmp.ours)} istio=${show(cmp.istio)}`;
  return `${cmp.kind}: ours=${show(cmp.ours)} istio=${show(cmp.istio)}`;
}

/** Replays the committed regression cases: each must still show its signature (or be fixed). */
export async function replayRegressions(
  oracle: OracleProcess,
  mode: Mode,
  istioName: string,
  configmaps: string,
): Promise<{ regression: Regression; comparison: Comparison }[]> {
  const base = readBaseTexts(configmaps);
  const out: { regression: Regression; comparison: Comparison }[] = [];
  for (const r of readRegressions()) {
    if (r.istio !== istioName || r.case.mode !== mode) continue;
    out.push({ regression: r, comparison: await checkCase(oracle, base, r.case) });
  }
  return out;
}
