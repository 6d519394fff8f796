/**
 * The `inject` command against Istio's kube-inject goldens (../shared/conformance/istio): every
 * case of cases.json whose settings the command line can express (`--set` flags and the native
 * sidecar decision) is run through the real command, and each output document is compared with
 * the golden one after the corpus README's normalisation for Go's typed serialisation.
 * Cases needing an IstioOperator file, a mesh override or a platform setting are covered by the
 * core conformance harness instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runInject } from '../../src/cli/inject.js';
import { EXIT } from '../../src/cli/io.js';
import type { JsonValue } from '../../src/core/json.js';
import {
  firstDifference,
  loadCases,
  loadOlderVersionCases,
  normalise,
  parseDocuments,
} from '../conformance/harness.js';
import { CONFORMANCE_DIR, CORPUS_DIR } from '../helpers/shared.js';
import { captureIO } from './cli-io.js';

/** The harness profile of cases.json: the chart's test hub with tag `latest`. */
function profileFlags(): string[] {
  const chart = parseAllDocuments(
    readFileSync(join(CONFORMANCE_DIR, 'values.default.yaml'), 'utf8'),
  )[0]?.toJS() as { _internal_defaults_do_not_set?: { global?: { hub?: string } } } | undefined;
  const hub = chart?._internal_defaults_do_not_set?.global?.hub ?? 'registry.istio.io/testing';
  return ['--set', `values.global.hub=${hub}`, '--set', 'values.global.tag=latest'];
}

/** Custom Go templates are not rendered by this injector (test/conformance/excluded.txt). */
const expressible = [...loadCases(), ...loadOlderVersionCases()].filter(
  (c) =>
    !c.skipInjection &&
    c.inFilePath === null &&
    c.mesh === null &&
    Object.keys(c.setup ?? {}).every((k) => k === 'ENABLE_NATIVE_SIDECARS'),
);

describe('inject matches the kube-inject goldens', () => {
  it('covers most of the corpus', () => {
    expect(expressible.length).toBeGreaterThan(90);
  });

  it.each(expressible.map((c) => [c.testName, c] as const))('%s', async (_name, c) => {
    const argv = [
      '-f',
      c.in,
      ...profileFlags(),
      ...(c.setFlags ?? []).flatMap((flag) => ['--set', flag]),
      '--native-sidecars',
      c.nativeSidecarsGlobal ? 'enabled' : 'disabled',
    ];
    const io = captureIO(CORPUS_DIR);
    const code = await runInject(argv, io);
    if (c.expectedError !== null) {
      expect(code).toBe(EXIT.FAILURE);
      expect(io.err().toLowerCase()).toContain(c.expectedError);
      expect(io.err()).toContain(`${c.in}: document 1`);
      return;
    }
    expect(io.err().includes('error:'), io.err()).toBe(false);
    expect(code).toBe(EXIT.OK);
    const ours = parseDocuments(io.out());
    const golden = parseDocuments(readFileSync(join(CORPUS_DIR, c.want ?? ''), 'utf8'));
    expect(ours.length).toBe(golden.length);
    ours.forEach((doc, i) => {
      const difference = firstDifference(
        normalise(doc),
        normalise(golden[i] as JsonValue),
        `document ${i + 1}`,
      );
      expect(difference).toBeUndefined();
    });
  });
});
