/**
 * The conformance ratchet: every case listed in passing.txt must stay identical to Istio's golden
 * output, every other case must be listed in excluded.txt with a reason, and a newly passing case
 * must be added to passing.txt (`UPDATE_GOLDEN=1 npx vitest run test/conformance` adds it).
 * Each injection inside the harness also checks that its patch applies strictly to the input and
 * that the resulting pod validates against the Kubernetes Pod schema.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCases, loadOlderVersionCases, runCase, type CaseResult } from './harness.js';

const PASSING = fileURLToPath(new URL('./passing.txt', import.meta.url));
const EXCLUDED = fileURLToPath(new URL('./excluded.txt', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

function lines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

const passing = lines(PASSING);
const excluded = new Map(
  lines(EXCLUDED).map((l) => {
    const [name = '', reason = ''] = l.split(' | ');
    return [name.trim(), reason.trim()];
  }),
);
const cases = loadCases();
const results = new Map<string, CaseResult>();

beforeAll(() => {
  for (const c of cases) results.set(c.testName, runCase(c));
  if (update) {
    const now = cases.filter((c) => results.get(c.testName)?.identical).map((c) => c.testName);
    const merged = [...new Set([...passing, ...now])];
    const order = new Map(cases.map((c, i) => [c.testName, i]));
    merged.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    writeFileSync(PASSING, `${merged.join('\n')}\n`);
  }
});

describe('conformance ratchet', () => {
  it('lists only known cases, each once, never both passing and excluded', () => {
    const names = new Set(cases.map((c) => c.testName));
    expect(cases).toHaveLength(128);
    expect(passing.filter((n) => !names.has(n))).toEqual([]);
    expect([...excluded.keys()].filter((n) => !names.has(n))).toEqual([]);
    expect(new Set(passing).size).toBe(passing.length);
    expect(passing.filter((n) => excluded.has(n))).toEqual([]);
    for (const [name, reason] of excluded) expect(reason, name).not.toBe('');
  });

  it.each(passing)('%s stays identical', (name) => {
    const result = results.get(name);
    expect(result?.failures ?? ['not run']).toEqual([]);
  });

  it('every identical case is recorded in passing.txt', () => {
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
    const failing = loadOlderVersionCases()
      .map(runCase)
      .filter((r) => !r.identical)
      .map((r) => `${r.testName}: ${r.failures.join('; ')}`);
    expect(failing).toEqual([]);
  });
});
