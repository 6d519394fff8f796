/**
 * The `inject` command against Istio's kube-inject goldens (../shared/conformance/istio): every
 * case of cases.json whose settings the command line can express (`--set` flags and the native
 * sidecar decision) is run through the real command, and each output document is compared with
 * the golden one after the corpus README's normalisation for Go's typed serialisation.
 * Cases needing an IstioOperator file, a mesh override or a platform setting are covered by the
 * core conformance harness instead.
 */
import { describe, expect, it } from 'vitest';
import { runInject } from '../../../src/cli/inject.js';
import { EXIT } from '../../../src/cli/io.js';
import type { JsonValue } from '../../../src/core/json.js';
import {
  firstDifference,
  loadCases,
  loadOlderVersionCases,
  normalise,
  parseDocuments,
} from '../../conformance/harness.js';
import { chartHub, readCorpusFile } from '../../helpers/corpus.js';
import { CORPUS_DIR } from '../../helpers/shared.js';
import { captureIO } from '../cli/capture-io.js';

/** The harness profile of cases.json: the chart's test hub with tag `latest`. */
function profileFlags(): string[] {
  return ['--set', `values.global.hub=${chartHub()}`, '--set', 'values.global.tag=latest'];
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

  const settings = (c: (typeof expressible)[number]): string[] => [
    ...profileFlags(),
    ...(c.setFlags ?? []).flatMap((flag) => ['--set', flag]),
    '--native-sidecars',
    c.nativeSidecarsGlobal ? 'enabled' : 'disabled',
  ];

  it.each(expressible.map((c) => [c.testName, c] as const))('%s', async (_name, c) => {
    const io = captureIO(CORPUS_DIR);
    const code = await runInject(['-f', c.in, ...settings(c)], io);
    if (c.expectedError !== null) {
      expect(code).toBe(EXIT.FAILURE);
      expect(io.err().toLowerCase()).toContain(c.expectedError);
      expect(io.err()).toContain(`${c.in}: document 1`);
      return;
    }
    expect(io.err().includes('error:'), io.err()).toBe(false);
    expect(code).toBe(EXIT.OK);
    const ours = parseDocuments(io.out());
    const golden = parseDocuments(readCorpusFile(c.want ?? ''));
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

  // Re-injecting the golden with the same settings is a no-op: the text comes back unchanged
  // (not re-serialised) and there is nothing to patch. Not for goldens whose first injection
  // merged user fields into injected containers without recording them: on re-injection the
  // template wins over those fields, as in Istio (spec §2.3, §4.6), so the pod does change.
  const templateWinsOnReinjection = new Set([
    'proxy-override.yaml.injected',
    'proxy-override-args.yaml.injected',
    'proxy-override-args-native.yaml.injected',
    'proxy-override-runas.yaml.injected',
    'proxy-override-runas.yaml.cni.injected',
    'merge-probers.yaml.injected',
    'multiple-templates.yaml.injected',
  ]);
  it.each(
    expressible
      .filter((c) => c.want !== null && c.expectedError === null)
      .filter((c) => !templateWinsOnReinjection.has(c.want ?? ''))
      .map((c) => [c.want, c] as const),
  )('re-injecting %s changes nothing', async (want, c) => {
    const golden = readCorpusFile(want ?? '');
    const io = captureIO(CORPUS_DIR);
    expect(await runInject(['-f', want ?? '', ...settings(c)], io)).toBe(EXIT.OK);
    expect(io.out()).toBe(golden);
    const patches = captureIO(CORPUS_DIR);
    expect(await runInject(['-f', want ?? '', '--output', 'patch', ...settings(c)], patches)).toBe(
      EXIT.OK,
    );
    expect(patches.out()).toBe('[]\n');
  });
});
