/**
 * The native fast path is used only for template texts proven to give the engine's pod: for each
 * hash in NATIVE_FAST_PATHS, the whole injection (template, merge, overrides, post-processing,
 * patch) with the native renderer must equal the injection with the engine running the same text,
 * over every corpus input and over seeded generated pods. `TEMPLATE_PROOF_PODS` sets how many
 * (CI: 10 000), `TEMPLATE_PROOF_SEED` the seed (CI: the commit id), so each commit proves anew.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InjectionConfig } from '../../../../src/core/config/types.js';
import type { ClusterFacts } from '../../../../src/core/contracts.js';
import { inject } from '../../../../src/core/inject.js';
import type { JsonValue } from '../../../../src/core/json.js';
import type { Pod } from '../../../../src/core/pod-types.js';
import {
  buildTemplateSet,
  NATIVE_FAST_PATHS,
  templateTextHash,
  type TemplateSet,
} from '../../../../src/core/pipeline/template-set.js';
import { getPodTemplate, listWorkloads } from '../../../../src/core/pod-template.js';
import {
  firstDifference,
  loadCases,
  normalise,
  parseDocuments,
} from '../../../conformance/harness.js';
import { configFor, readCorpusFile } from '../../../helpers/corpus.js';
import { generatePod, seedFrom } from '../../../helpers/generated-pods.js';
import { SHARED_DIR } from '../../../helpers/shared.js';

const CHART = join(SHARED_DIR, 'conformance', 'istio-configmaps', 'master', 'chart-files');
const FILES = { sidecar: 'injection-template.yaml', 'grpc-simple': 'grpc-simple.yaml' } as const;
const available = existsSync(CHART);
if (!available) console.log(`skipped fast-path proof: ${CHART} is absent`);

const PODS = Number(process.env.TEMPLATE_PROOF_PODS ?? '200');
const SEED = seedFrom(process.env.TEMPLATE_PROOF_SEED ?? 'fast-path');

function texts(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, file] of Object.entries(FILES))
    out[name] = readFileSync(join(CHART, file), 'utf8');
  return out;
}

function sets(): { fast: TemplateSet; engine: TemplateSet } {
  const fast = buildTemplateSet(texts());
  const engine = buildTemplateSet(texts(), { nativeFastPath: false });
  if (!fast.ok || !engine.ok) throw new Error('master chart templates compile');
  return { fast: fast.templates, engine: engine.templates };
}

type Outcome = { pod: JsonValue | undefined; warnings: string[] } | { error: string };

function run(
  pod: Pod,
  config: InjectionConfig,
  cluster: ClusterFacts,
  mode: 'webhook' | 'kube-inject',
): Outcome {
  try {
    const out = inject({ pod, namespace: 'default', config, cluster, mode });
    return { pod: normalise(out.pod), warnings: out.warnings };
  } catch (e) {
    return { error: `${(e as { code?: string }).code ?? ''} ${(e as Error).message}` };
  }
}

function differ(a: Outcome, b: Outcome): string | undefined {
  if ('error' in a || 'error' in b) {
    return JSON.stringify(a) === JSON.stringify(b)
      ? undefined
      : `native=${JSON.stringify(a).slice(0, 200)} engine=${JSON.stringify(b).slice(0, 200)}`;
  }
  const d = firstDifference(a.pod, b.pod);
  if (d) return `${d.path}: native=${JSON.stringify(d.ours)} engine=${JSON.stringify(d.golden)}`;
  if (JSON.stringify(a.warnings) !== JSON.stringify(b.warnings)) return 'warnings differ';
  return undefined;
}

describe.skipIf(!available)('native fast path vs the engine, same template text', () => {
  it('the fast path table names exactly the proven texts, and a changed text runs the engine', () => {
    const t = texts();
    expect([...NATIVE_FAST_PATHS.keys()].sort()).toEqual(
      Object.values(t).map(templateTextHash).sort(),
    );
    const { fast } = sets();
    expect(fast.get('sidecar')?.kind).toBe('native');
    expect(fast.get('grpc-simple')?.kind).toBe('native');
    const edited = buildTemplateSet({ sidecar: `${t.sidecar ?? ''}\n# edited\n` });
    expect(edited.ok && edited.templates.get('sidecar')?.kind).toBe('engine');
  });

  it('every corpus input injects identically (webhook and kube-inject)', () => {
    const { fast, engine } = sets();
    const diffs: string[] = [];
    let compared = 0;
    for (const c of loadCases()) {
      const base = configFor(c);
      const cluster: ClusterFacts = { nativeSidecars: c.nativeSidecarsGlobal };
      for (const doc of parseDocuments(readCorpusFile(c.in))) {
        for (const workload of listWorkloads(doc)) {
          const pod = getPodTemplate(workload);
          for (const mode of ['webhook', 'kube-inject'] as const) {
            compared++;
            const d = differ(
              run(pod, { ...base, templates: fast }, cluster, mode),
              run(pod, { ...base, templates: engine }, cluster, mode),
            );
            if (d) diffs.push(`${c.testName} ${mode}: ${d}`);
          }
        }
      }
    }
    console.log(`fast-path proof: ${compared} corpus injections compared`);
    expect(compared).toBeGreaterThan(200);
    expect(diffs.slice(0, 5)).toEqual([]);
  }, 180_000); // a fixed corpus: ~25 s alone, past 30 s on a loaded 2-core machine

  it(`${PODS} generated pods (seed ${SEED}) inject identically`, { timeout: 3_600_000 }, () => {
    const { fast, engine } = sets();
    // The configurations of the corpus: values and mesh variations (CNI, TPROXY, revisions, ...).
    const configs = [
      ...new Map(
        loadCases().map((c) => [JSON.stringify([c.setFlags, c.inFilePath, c.mesh]), c]),
      ).values(),
    ].map((c) => configFor(c));
    const diffs: string[] = [];
    let injected = 0;
    for (let i = 0; i < PODS; i++) {
      const seed = (SEED + i) >>> 0;
      const pod = generatePod(seed, { payloadRate: 0.05 });
      const base = configs[seed % configs.length] as InjectionConfig;
      const cluster: ClusterFacts = { nativeSidecars: seed % 2 === 0 };
      const mode = seed % 3 === 0 ? 'kube-inject' : 'webhook';
      const a = run(pod, { ...base, templates: fast }, cluster, mode);
      const d = differ(a, run(pod, { ...base, templates: engine }, cluster, mode));
      if (!('error' in a)) injected++;
      if (d) diffs.push(`seed ${seed}: ${d}`);
    }
    console.log(
      `fast-path proof: ${PODS} generated pods, ${injected} injected, ${diffs.length} differ`,
    );
    expect(injected).toBeGreaterThan(PODS / 2);
    expect(diffs.slice(0, 5)).toEqual([]);
  });

  // The native renderer stands in for the chart's text; its branches on values and on the
  // nativeSidecar annotation must be the text's, for every value (not only the corpus's).
  it('the native sidecar renderer follows the text over generated values and nativeSidecar annotations', () => {
    const { engine } = sets();
    const native: TemplateSet = new Map([['sidecar', { kind: 'native', name: 'sidecar' }]]);
    const base = configFor(loadCases()[0] as never);
    const variation = fc.record({
      pilotCertProvider: fc.constantFrom('istiod', 'kubernetes', 'custom', ''),
      caName: fc.constantFrom('', 'GkeWorkloadCertificate'),
      mountMtlsCerts: fc.boolean(),
      crlConfigMapName: fc.constantFrom(undefined, '', 'my-crl'),
      trustBundleName: fc.constantFrom(undefined, '', 'my-bundle'),
      nativeAnnotation: fc.option(
        fc.oneof(
          fc.constantFrom('true', 'false', '', 'on', 'yes', 'False', 'TRUE', '1', '0'),
          fc.string({ maxLength: 4 }),
        ),
        { nil: undefined },
      ),
      nativeGlobal: fc.boolean(),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(variation, (v) => {
        const values = structuredClone(base.values) as Record<string, Record<string, unknown>>;
        const global = (values.global ??= {});
        global.pilotCertProvider = v.pilotCertProvider;
        global.caName = v.caName;
        global.mountMtlsCerts = v.mountMtlsCerts;
        if (v.trustBundleName !== undefined) global.trustBundleName = v.trustBundleName;
        if (v.crlConfigMapName !== undefined)
          (values.pilot ??= {}).crlConfigMapName = v.crlConfigMapName;
        const pod = generatePod(v.seed);
        const annotations = { ...(pod.metadata?.annotations ?? {}) };
        delete annotations['inject.istio.io/templates'];
        if (v.nativeAnnotation !== undefined)
          annotations['sidecar.istio.io/nativeSidecar'] = v.nativeAnnotation;
        pod.metadata = { ...pod.metadata, annotations };
        const config = { ...base, values } as InjectionConfig;
        const cluster: ClusterFacts = { nativeSidecars: v.nativeGlobal };
        const d = differ(
          run(pod, { ...config, templates: native }, cluster, 'webhook'),
          run(pod, { ...config, templates: engine }, cluster, 'webhook'),
        );
        expect(d).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });
});
