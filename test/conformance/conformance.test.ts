/**
 * The conformance ratchet, per corpus (Istio master, 1.30.3, 1.29.6; each scored with its own
 * release's ConfigMaps): every case listed in the corpus's passing list must stay identical to
 * Istio's golden output, every other case must be listed in its excluded list with a reason, and a
 * newly passing case must be added to the passing list (`UPDATE_GOLDEN=1 npx vitest run
 * test/conformance` adds it). Each injection inside the harness also checks that its patch applies
 * strictly to the input and that the resulting pod validates against the Kubernetes Pod schema.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusAt, MASTER_CORPUS, type Corpus } from '../helpers/corpus.js';
import { SHARED_DIR } from '../helpers/shared.js';
import { loadCases, loadOlderVersionCases, runCase, type CaseResult } from './harness.js';

const update = process.env.UPDATE_GOLDEN === '1';

function lines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

interface Ratchet {
  corpus: Corpus;
  passingFile: string;
  excludedFile: string;
  /** Master's corpus has exactly 128 cases; the release corpora have their own counts. */
  expectedCases?: number;
}

const here = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url));
const RATCHETS: Ratchet[] = [
  {
    corpus: MASTER_CORPUS,
    passingFile: here('passing.txt'),
    excludedFile: here('excluded.txt'),
    expectedCases: 128,
  },
  ...['1.30.3', '1.29.6']
    .map((release) => join(SHARED_DIR, 'conformance', `istio-${release}`))
    .filter((dir) => {
      const present = existsSync(join(dir, 'cases.json'));
      if (!present) console.log(`skipped conformance ratchet: ${dir} is absent`);
      return present;
    })
    .map((dir) => {
      const corpus = corpusAt(dir);
      return {
        corpus,
        passingFile: here(`passing-${corpus.release}.txt`),
        excludedFile: here(`excluded-${corpus.release}.txt`),
      };
    }),
];

describe.each(RATCHETS)('conformance ratchet ($corpus.release)', (ratchet) => {
  const { corpus } = ratchet;
  const passing = lines(ratchet.passingFile);
  const excluded = new Map(
    lines(ratchet.excludedFile).map((l) => {
      const [name = '', reason = ''] = l.split(' | ');
      return [name.trim(), reason.trim()];
    }),
  );
  const cases = loadCases(corpus);
  const results = new Map<string, CaseResult>();

  beforeAll(() => {
    for (const c of cases) results.set(c.testName, runCase(c, corpus));
    if (update) {
      const now = cases.filter((c) => results.get(c.testName)?.identical).map((c) => c.testName);
      const merged = [...new Set([...passing, ...now])];
      const order = new Map(cases.map((c, i) => [c.testName, i]));
      merged.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
      writeFileSync(ratchet.passingFile, `${merged.join('\n')}\n`);
    }
  });

  it('lists only known cases, each once, never both passing and excluded', () => {
    const names = new Set(cases.map((c) => c.testName));
    if (ratchet.expectedCases !== undefined) expect(cases).toHaveLength(ratchet.expectedCases);
    expect(passing.filter((n) => !names.has(n))).toEqual([]);
    expect([...excluded.keys()].filter((n) => !names.has(n))).toEqual([]);
    expect(new Set(passing).size).toBe(passing.length);
    expect(passing.filter((n) => excluded.has(n))).toEqual([]);
    for (const [name, reason] of excluded) expect(reason, name).not.toBe('');
  });

  it('passes at least 98 % of the cases', () => {
    expect(passing.length / cases.length).toBeGreaterThanOrEqual(0.98);
  });

  it('every listed case stays identical', () => {
    const broken = passing
      .map((name) => [name, results.get(name)?.failures ?? ['not run']] as const)
      .filter(([, failures]) => failures.length > 0)
      .map(([name, failures]) => `${name}: ${failures.join('; ')}`);
    expect(broken).toEqual([]);
  });

  it('every identical case is recorded in the passing list', () => {
    const unrecorded = cases
      .filter((c) => results.get(c.testName)?.identical && !passing.includes(c.testName))
      .map((c) => c.testName);
    expect(unrecorded, 'run with UPDATE_GOLDEN=1 to record them').toEqual(update ? unrecorded : []);
  });

  it('every failing case is knowingly excluded', () => {
    const unexplained = cases
      .filter((c) => !results.get(c.testName)?.identical && !excluded.has(c.testName))
      .map((c) => `${c.testName}: ${results.get(c.testName)?.failures.join('; ') ?? ''}`);
    expect(unexplained).toEqual([]);
  });

  it('the older-version cases (native sidecars off) are identical too', () => {
    const failing = loadOlderVersionCases(corpus)
      .map((c) => runCase(c, corpus))
      .filter((r) => !r.identical)
      .map((r) => `${r.testName}: ${r.failures.join('; ')}`);
    expect(failing).toEqual([]);
  });
});
