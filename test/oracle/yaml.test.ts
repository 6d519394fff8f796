/**
 * Configuration texts read as istiod reads them (YAML 1.1 through sigs.k8s.io/yaml): generated
 * injector `config` texts whose plain scalars are booleans, octal, hex, underscored or
 * exponent numbers, timestamps and plain words, answered by Istio's inject.UnmarshalConfig and
 * by our configuration load; the same texts as untyped maps (how values reach the templates).
 * Needs the oracle binary, as the rest of test/oracle; skipped without it, saying why.
 */
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInjectionConfig } from '../../src/core/config/load.js';
import { parseYamlDocument } from '../../src/core/yaml.js';
import {
  cachedOracleBinary,
  goUnavailableReason,
  OracleProcess,
  revisionNamed,
} from './process.js';

const master = revisionNamed('master');
const skipReason = ((): string | undefined => {
  const noGo = goUnavailableReason();
  if (noGo) return noGo;
  if (!existsSync(cachedOracleBinary(master)))
    return 'the oracle binary is not built (run `npm run oracle` once, or .ci/run builds it)';
  return undefined;
})();
if (skipReason) console.log(`oracle YAML suite skipped: ${skipReason}`);

/** Plain scalars go-yaml v2 resolves differently from YAML 1.2, and plain words. */
const scalar = fc.oneof(
  fc.constantFrom(
    'yes',
    'no',
    'on',
    'Off',
    'y',
    'N',
    'YES',
    'True',
    'false',
    '0777',
    '08',
    '0x1F',
    '0o17',
    '0b101',
    '-0b11',
    '1_000',
    '1.50',
    '1e6',
    '1E-7',
    '.5',
    '-.5',
    '+1',
    '-0',
    '0',
    '123456789.0',
    '99999999999999999999',
    '18446744073709551615',
    '9223372036854775808',
    '1:20',
    '2024-01-02',
    '3.4e38',
    '3.5e38',
    '1e400',
    '.inf',
    '-.Inf',
    '0.1',
    '100000',
    '1000000',
    '0.0001',
    '0.00001',
    '1.0e+2',
  ),
  fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._+-]{0,6}$/),
  fc.stringMatching(/^[-+.]?[0-9_]{1,6}(\.[0-9]{0,3})?([eE][-+]?[0-9]{1,2})?$/),
);

const configText = fc
  .record({
    policy: scalar,
    template: scalar,
    annotationKey: scalar,
    annotation: scalar,
    other: scalar,
    labelKey: scalar,
    label: scalar,
  })
  .map((s) =>
    [
      `policy: ${s.policy}`,
      'defaultTemplates:',
      '- sidecar',
      `- ${s.template}`,
      'injectedAnnotations:',
      `  ${s.annotationKey}: ${s.annotation}`,
      `  other: ${s.other}`,
      'neverInjectSelector:',
      '- matchLabels:',
      `    ${s.labelKey}: ${s.label}`,
      'templates:',
      '  sidecar: "metadata: {}"',
      '',
    ].join('\n'),
  );

describe.skipIf(skipReason !== undefined)(
  `configuration texts read as istiod reads them${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let oracle: OracleProcess;
    beforeAll(() => {
      oracle = new OracleProcess(cachedOracleBinary(master));
    });
    afterAll(async () => {
      await oracle.close();
    });

    it('the injector config: every field as inject.UnmarshalConfig reads it', async () => {
      let id = 0;
      await fc.assert(
        fc.asyncProperty(configText, async (text) => {
          const go = await oracle.yaml({ id: String(id++), text });
          const r = loadInjectionConfig({ config: text });
          if (go.configError !== undefined) {
            expect(r.ok, `${text}\nistiod: ${go.configError}`).toBe(false);
            return;
          }
          expect(r.ok ? [] : r.issues, text).toEqual([]);
          if (!r.ok || go.config === undefined) return;
          const c = go.config;
          expect(
            {
              policy: r.config.injector.policy,
              defaultTemplates: r.config.injector.defaultTemplates,
              injectedAnnotations: r.config.injector.injectedAnnotations,
              neverInjectSelector: r.config.injector.neverInjectSelector,
            },
            text,
          ).toEqual({
            policy: c.policy,
            defaultTemplates: c.defaultTemplates,
            injectedAnnotations: c.injectedAnnotations,
            neverInjectSelector: c.neverInjectSelector,
          });
        }),
        { numRuns: 300 },
      );
    }, 180_000); // 300 texts through the oracle: past 30 s only on a loaded machine

    it('an untyped map (values, mesh, proxy config): the same scalars as go-yaml v2 types them', async () => {
      let id = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(scalar, scalar), { maxLength: 4 }), async (pairs) => {
          const text = `${pairs.map(([k, v], i) => `k${i}: ${v}\nm${i}:\n  ${k}: x`).join('\n')}\n`;
          const go = await oracle.yaml({ id: String(id++), text });
          const ours = parseYamlDocument(text, { uniqueKeys: false, resolution: 'go' });
          if (go.mapError !== undefined) {
            // NaN and infinities have no JSON form on the Go side: nothing to compare.
            if (/unsupported value/.test(go.mapError)) return;
            expect(ours.ok, `${text}\nistiod: ${go.mapError}`).toBe(false);
            return;
          }
          // An empty document: null here, the untouched empty map in Go.
          expect(ours.ok ? (ours.value ?? {}) : ours.errors, text).toEqual(go.map ?? {});
        }),
        { numRuns: 300 },
      );
    });
  },
);
