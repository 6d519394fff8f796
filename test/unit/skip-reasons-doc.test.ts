import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DECISION_REASONS } from '../../src/core/decide.js';
import { WEBHOOK_SELECTOR_REASONS } from '../../src/core/webhook-selectors.js';

const README = new URL('../../README.md', import.meta.url);

/** Reason codes named in the first column of the README's "Skip reasons" tables. */
async function documentedReasons(): Promise<Set<string>> {
  const text = await readFile(README, 'utf8');
  const section = text.split(/^## Skip reasons$/m)[1]?.split(/^## /m)[0] ?? '';
  const codes = new Set<string>();
  for (const row of section.matchAll(/^\|([^|\n]+)\|/gm)) {
    for (const code of (row[1] ?? '').matchAll(/`([a-z-]+)`/g)) codes.add(code[1] ?? '');
  }
  return codes;
}

describe('skip reasons are documented', () => {
  it.each([
    ['decision', Object.keys(DECISION_REASONS)],
    ['webhook selector', Object.keys(WEBHOOK_SELECTOR_REASONS)],
  ])('every %s reason code appears in the README', async (_kind, codes) => {
    const documented = await documentedReasons();
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.filter((code) => !documented.has(code))).toEqual([]);
  });

  it('the README names no reason code that does not exist', async () => {
    const known = new Set([
      ...Object.keys(DECISION_REASONS),
      ...Object.keys(WEBHOOK_SELECTOR_REASONS),
    ]);
    const documented = await documentedReasons();
    expect([...documented].filter((code) => !known.has(code))).toEqual([]);
  });
});
