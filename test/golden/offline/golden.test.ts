/**
 * Golden files for the offline commands, auto-discovered in test/golden/offline: every input
 * manifest `<name>.yaml|json` (optional `<name>.inject.args` / `<name>.check.args`, one argument
 * per line) has three expected outputs: `<name>.inject.out.yaml` (the rewritten manifest),
 * `<name>.patch.out.yaml` (`--output patch`) and `<name>.check.out.txt` (`check`).
 * `UPDATE_GOLDEN=1` rewrites them; a file that belongs to no input fails the run (stale golden).
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Operation } from 'fast-json-patch';
import { parse } from 'yaml';
import { runCheck } from '../../../src/cli/check.js';
import { runInject } from '../../../src/cli/inject.js';
import { EXIT, type CliCommand } from '../../../src/cli/io.js';
import { applyPatchStrict } from '../../../src/core/patch/apply-strict.js';
import { isJsonObject, type JsonObject } from '../../../src/core/json.js';
import { splitDocuments } from '../../../src/offline/documents.js';
import { captureIO } from '../../unit/cli/capture-io.js';

const GOLDEN_DIR = fileURLToPath(new URL('./', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

// This test file lives next to its golden files; it is not one of them.
const files = readdirSync(GOLDEN_DIR)
  .filter((f) => f !== 'golden.test.ts')
  .sort();
const inputs = files.filter((f) => /\.(ya?ml|json)$/.test(f) && !f.includes('.out.'));
const base = (input: string): string => input.replace(/\.(ya?ml|json)$/, '');
const outputsOf = (input: string) => ({
  inject: `${base(input)}.inject.out.yaml`,
  patch: `${base(input)}.patch.out.yaml`,
  check: `${base(input)}.check.out.txt`,
});

async function args(name: string): Promise<string[]> {
  const path = join(GOLDEN_DIR, name);
  if (!existsSync(path)) return [];
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '');
}

async function run(command: CliCommand, argv: string[]): Promise<string> {
  const io = captureIO(GOLDEN_DIR);
  const code = await command(argv, io);
  expect(io.err().includes('error:'), io.err()).toBe(false);
  expect(code).toBe(EXIT.OK);
  return io.out();
}

async function golden(name: string, actual: string): Promise<void> {
  const path = join(GOLDEN_DIR, name);
  if (UPDATE) {
    await writeFile(path, actual);
    return;
  }
  expect(existsSync(path), `${name} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
  expect(actual).toBe(await readFile(path, 'utf8'));
}

/** Objects of a manifest stream in order, List items expanded. */
function objects(text: string): JsonObject[] {
  const out: JsonObject[] = [];
  const visit = (value: unknown): void => {
    if (!isJsonObject(value)) return;
    if (value.kind === 'List' && Array.isArray(value.items)) value.items.forEach(visit);
    else out.push(value);
  };
  for (const d of splitDocuments(text, 'golden')) visit(d.value);
  return out;
}

describe.each(inputs)('golden %s', (input) => {
  const out = outputsOf(input);

  it('inject output', async () => {
    const injected = await run(runInject, [
      '-f',
      input,
      ...(await args(`${base(input)}.inject.args`)),
    ]);
    await golden(out.inject, injected);
  });

  it('patch output, which applied to the input gives the inject output', async () => {
    const injectArgs = await args(`${base(input)}.inject.args`);
    const patches = await run(runInject, ['-f', input, '--output', 'patch', ...injectArgs]);
    await golden(out.patch, patches);
    const source = await readFile(join(GOLDEN_DIR, input), 'utf8');
    const injected = await run(runInject, ['-f', input, ...injectArgs]);
    const before = objects(source);
    const after = objects(injected);
    const entries = parse(patches) as { target: { kind: string; name: string }; patch: string }[];
    for (const entry of entries) {
      const i = before.findIndex(
        (o) =>
          o.kind === entry.target.kind &&
          isJsonObject(o.metadata) &&
          o.metadata.name === entry.target.name,
      );
      expect(i, `${entry.target.kind}/${entry.target.name}`).toBeGreaterThanOrEqual(0);
      const ops = JSON.parse(entry.patch) as Operation[];
      expect(applyPatchStrict(before[i], ops)).toEqual(after[i]);
    }
    // Objects without a patch entry are unchanged.
    const patched = new Set(
      entries.map((e) => `${JSON.stringify(e.target.kind)}/${JSON.stringify(e.target.name)}`),
    );
    before.forEach((o, i) => {
      const name = isJsonObject(o.metadata) ? o.metadata.name : undefined;
      if (!patched.has(`${JSON.stringify(o.kind)}/${JSON.stringify(name)}`))
        expect(after[i]).toEqual(o);
    });
  });

  it('check output', async () => {
    const checked = await run(runCheck, [
      '-f',
      input,
      ...(await args(`${base(input)}.check.args`)),
    ]);
    await golden(out.check, checked);
  });

  it('is idempotent: injecting the output again changes nothing', async () => {
    const injectArgs = await args(`${base(input)}.inject.args`);
    const once = await run(runInject, ['-f', input, ...injectArgs]);
    const io = captureIO(GOLDEN_DIR, once);
    expect(await runInject(['-f', '-', ...injectArgs], io)).toBe(EXIT.OK);
    expect(io.out()).toBe(once);
  });
});

it('has no stale golden files', () => {
  const known = new Set<string>();
  for (const input of inputs) {
    known.add(input);
    known.add(`${base(input)}.inject.args`);
    known.add(`${base(input)}.check.args`);
    for (const o of Object.values(outputsOf(input))) known.add(o);
  }
  expect(files.filter((f) => !known.has(f))).toEqual([]);
});
