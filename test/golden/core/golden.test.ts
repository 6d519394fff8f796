/**
 * Golden tests of the engine on inputs of our own: every `inputs/<name>.yaml` (a Pod) is injected
 * through the webhook path with the embedded default configuration and compared with
 * `<name>.injected.yaml` (the injected pod, then the patch). `UPDATE_GOLDEN=1` rewrites the
 * goldens; a golden without an input fails the suite.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import { inject } from '../../../src/core/inject.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { applyPatchStrict } from '../../../src/core/patch/apply-strict.js';
import { validatePod } from '../../helpers/pod-schema.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const INPUTS = join(DIR, 'inputs');
const update = process.env.UPDATE_GOLDEN === '1';

const inputs = readdirSync(INPUTS)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

function render(name: string): string {
  const pod = parse(readFileSync(join(INPUTS, `${name}.yaml`), 'utf8')) as Pod;
  const out = inject({
    pod,
    namespace: pod.metadata?.namespace ?? 'default',
    config: defaultInjectionConfig(),
    cluster: { nativeSidecars: true },
    mode: 'webhook',
  });
  expect(applyPatchStrict(pod, out.patch)).toEqual(out.pod);
  validatePod(out.pod);
  return `${stringify(out.pod)}---\n${stringify({ patch: out.patch })}`;
}

describe('core goldens', () => {
  it('has inputs', () => {
    expect(inputs.length).toBeGreaterThan(0);
  });

  it.each(inputs)('%s', (name) => {
    const goldenPath = join(DIR, `${name}.injected.yaml`);
    const text = render(name);
    if (update) writeFileSync(goldenPath, text);
    expect(existsSync(goldenPath), `${name}.injected.yaml missing: run with UPDATE_GOLDEN=1`).toBe(
      true,
    );
    const golden = parseAllDocuments(readFileSync(goldenPath, 'utf8')).map(
      (d) => d.toJS() as unknown,
    );
    const ours = parseAllDocuments(text).map((d) => d.toJS() as unknown);
    expect(ours).toEqual(golden);
  });

  it('has no stale goldens', () => {
    const stale = readdirSync(DIR)
      .filter((f) => f.endsWith('.injected.yaml'))
      .map((f) => f.slice(0, -'.injected.yaml'.length))
      .filter((name) => !inputs.includes(name));
    expect(stale).toEqual([]);
  });
});
