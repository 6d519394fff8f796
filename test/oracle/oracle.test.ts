/**
 * The differential suite against Istio's own injector (test/oracle/). Needs Go and a built oracle
 * binary (`npm run oracle` or .ci/run build it; npm test never builds it: a cold build takes
 * minutes). Without them the suite is skipped, and says why.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readCorpusFile } from '../helpers/corpus.js';
import { parseDocuments, normalise, firstDifference } from '../conformance/harness.js';
import { caseArbitrary } from './generate.js';
import { configTexts, readBaseTexts, type BaseTexts } from './differential.js';
import {
  cachedOracleBinary,
  goUnavailableReason,
  OracleProcess,
  revisionNamed,
} from './process.js';
import { checkCase, readRegressions, replayRegressions, replayVerdict } from './run.js';

const master = revisionNamed('master');
const skipReason = ((): string | undefined => {
  const noGo = goUnavailableReason();
  if (noGo) return noGo;
  const binary = cachedOracleBinary(master);
  if (!existsSync(binary))
    return `the oracle binary is not built (run \`npm run oracle\` once, or .ci/run builds it)`;
  return undefined;
})();

if (skipReason) console.log(`oracle suite skipped: ${skipReason}`);

// Each test sends a fixed number of cases through both injectors (seconds alone, several times
// that on a loaded 2-core machine): the bound only has to allow for the load.
const CASES_TIMEOUT = 180_000;

describe.skipIf(skipReason !== undefined)(
  `differential tests against Istio's injector${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let oracle: OracleProcess;
    let base: BaseTexts;
    beforeAll(() => {
      oracle = new OracleProcess(cachedOracleBinary(master));
      base = readBaseTexts(master.configmaps);
    });
    afterAll(async () => {
      await oracle.close();
    });

    it("is configured like Istio's own tests: it reproduces a golden of Istio's corpus", async () => {
      const answer = await oracle.ask({
        id: 'golden',
        mode: 'kube-inject',
        config: base.config,
        values: base.values,
        mesh: base.mesh,
        nativeSidecars: true,
        manifest: readCorpusFile('hello.yaml'),
      });
      expect(answer.error).toBeUndefined();
      const got = parseDocuments(answer.manifest ?? '').map((d) => normalise(d) ?? null);
      const want = parseDocuments(readCorpusFile('hello.yaml.injected')).map(
        (d) => normalise(d) ?? null,
      );
      // The proxy image tag is the release version in the goldens; the chart renders the same tag.
      expect(firstDifference(got, want)).toBeUndefined();
    });

    it('answers a refused configuration with an error, not a crash', async () => {
      const answer = await oracle.ask({
        id: 'bad',
        mode: 'webhook',
        config: 'policy: [',
        values: '{}',
        mesh: '',
        pod: { apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ name: 'a' }] } },
      });
      expect(answer.error).toMatch(/config/);
    });

    for (const mode of ['webhook', 'kube-inject'] as const) {
      it(
        `still shows every listed difference and none of the fixed ones (${mode})`,
        async () => {
          const replayed = await replayRegressions(oracle, mode, 'master', master.configmaps);
          expect(replayed.length).toBe(
            readRegressions().filter((r) => r.istio === 'master' && r.case.mode === mode).length,
          );
          for (const { regression, comparison } of replayed)
            expect(
              replayVerdict(regression, comparison),
              `${regression.reason}: shows ${comparison.signature ?? 'no difference'}`,
            ).toBe('ok');
        },
        CASES_TIMEOUT,
      );

      it(
        `shows no unlisted difference on 40 generated cases (${mode}, fixed seed)`,
        async () => {
          const listed = new Set(
            readRegressions()
              .filter((r) => r.istio === 'master' && !r.fixed)
              .map((r) => r.signature),
          );
          await fc.assert(
            fc.asyncProperty(caseArbitrary(mode), async (c) => {
              const cmp = await checkCase(oracle, base, c);
              return cmp.identical || listed.has(cmp.signature ?? '');
            }),
            { numRuns: 40, seed: 9 },
          );
        },
        CASES_TIMEOUT,
      );
    }

    it('materialises every generated configuration into texts both sides read', () => {
      for (const c of fc.sample(caseArbitrary('webhook'), { numRuns: 20, seed: 1 })) {
        const texts = configTexts(base, c);
        expect(JSON.parse(texts.values)).toBeTypeOf('object');
        expect(texts.config).toContain('templates:');
      }
    });
  },
);
