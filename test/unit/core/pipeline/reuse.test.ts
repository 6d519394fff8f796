/**
 * The reused injection (`inject`, src/core/inject.ts) against the whole pipeline run every time
 * (`injectUncached`): the same patch bytes, the same pod and the same warnings or error, for
 * every corpus input and for seeded generated pods, each injected cold, again (a reused result)
 * and as a replica under another name (a result reused across names, when the templates cannot
 * read the name). Both with the embedded native renderers and with Istio's chart texts run
 * through the template engine. `INJECTION_REUSE_PODS` sets how many generated pods (CI:
 * 10 000), `INJECTION_REUSE_SEED` the seed (CI: the tree hash of src/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultInjectionConfig } from '../../../../src/core/config/defaults.js';
import type { InjectionConfig } from '../../../../src/core/config/types.js';
import type { ClusterFacts, InjectionInput } from '../../../../src/core/contracts.js';
import { inject, injectUncached } from '../../../../src/core/inject.js';
import type { Pod } from '../../../../src/core/pod-types.js';
import {
  buildProxyConfigSet,
  parseProxyConfigResource,
} from '../../../../src/core/proxy-config-resources.js';
import {
  buildTemplateSet,
  templateSetReadsPodName,
  textReadsPodName,
  type TemplateSet,
} from '../../../../src/core/pipeline/template-set.js';
import { getPodTemplate, listWorkloads } from '../../../../src/core/pod-template.js';
import { loadCases, normalise, parseDocuments } from '../../../conformance/harness.js';
import { configFor, readCorpusFile } from '../../../helpers/corpus.js';
import { generatePod, rng, seedFrom } from '../../../helpers/generated-pods.js';
import { SHARED_DIR } from '../../../helpers/shared.js';

const CHART = join(SHARED_DIR, 'conformance', 'istio-configmaps', 'master', 'chart-files');
const FILES = {
  sidecar: 'injection-template.yaml',
  'grpc-simple': 'grpc-simple.yaml',
  'grpc-agent': 'grpc-agent.yaml',
  gateway: 'gateway-injection-template.yaml',
} as const;
const available = existsSync(CHART);
if (!available) console.log(`skipped injection reuse proof: ${CHART} is absent`);

const PODS = Number(process.env.INJECTION_REUSE_PODS ?? '1000');
const SEED = seedFrom(process.env.INJECTION_REUSE_SEED ?? 'injection-reuse');

function engineTemplates(): TemplateSet {
  const texts: Record<string, string> = {};
  for (const [name, file] of Object.entries(FILES))
    texts[name] = readFileSync(join(CHART, file), 'utf8');
  const set = buildTemplateSet(texts, { nativeFastPath: false });
  if (!set.ok) throw new Error('master chart templates compile');
  return set.templates;
}

/** Everything a caller sees of one injection, as text: the patch bytes first. */
function outcome(run: () => ReturnType<typeof inject>): string {
  try {
    const out = run();
    return JSON.stringify([out.patch, normalise(out.pod), out.warnings]);
  } catch (e) {
    return `error ${(e as { code?: string }).code ?? ''} ${(e as Error).message}`;
  }
}

/** The same pod as another replica of a ReplicaSet: only the name differs. */
function renamed(pod: Pod, name: string): Pod {
  if (pod.metadata === undefined || pod.metadata === null) return pod;
  return { ...pod, metadata: { ...pod.metadata, name } };
}

/** A generated pod as a Deployment's ReplicaSet creates it (generateName, owner, hash label). */
function replicaSetPod(pod: Pod, seed: number): Pod {
  const hash = (seed % 100_000).toString(36);
  const rs = `web-${hash}`;
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      name: `${rs}-${(seed % 7919).toString(36)}`,
      generateName: `${rs}-`,
      labels: { ...pod.metadata?.labels, 'pod-template-hash': hash },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: 'u', controller: true },
      ],
    },
  };
}

interface Tally {
  compared: number;
  reusedAcrossNames: number;
  diffs: string[];
}

/** Cold, warm and renamed: each must equal the uncached pipeline for the same input. */
function check(label: string, input: InjectionInput, replicaName: string, tally: Tally): void {
  const first = outcome(() => inject(input));
  const again = outcome(() => inject(input));
  const reference = outcome(() => injectUncached(input));
  const replica: InjectionInput = { ...input, pod: renamed(input.pod, replicaName) };
  let shared = false;
  const replicaOut = outcome(() => {
    const out = inject(replica);
    // The same frozen array: the result was reused, not recomputed.
    shared = out.patch === inject(input).patch;
    return out;
  });
  const replicaReference = outcome(() => injectUncached(replica));
  tally.compared += 3;
  if (shared && replica.pod !== input.pod) tally.reusedAcrossNames++;
  if (first !== reference) tally.diffs.push(`${label} cold: ${first.slice(0, 300)}`);
  if (again !== reference) tally.diffs.push(`${label} warm: ${again.slice(0, 300)}`);
  if (replicaOut !== replicaReference)
    tally.diffs.push(
      `${label} replica: ${replicaOut.slice(0, 300)} vs ${replicaReference.slice(0, 300)}`,
    );
}

describe('which template texts can read the pod name', () => {
  it('reads the name through ObjectMeta fields, the whole data, or ObjectMeta held elsewhere', () => {
    for (const text of [
      '{{ .ObjectMeta.Name }}',
      '{{ $.ObjectMeta.GenerateName }}',
      '{{ toJson . }}',
      '{{ index $ "ObjectMeta" }}',
      '{{ $m := .ObjectMeta }}{{ $m.Name }}',
      '{{ with .ObjectMeta }}{{ .Name }}{{ end }}',
      '{{ range .Spec.Containers }}{{ end }}{{ . }}',
      '{{ if .Values.x }}{{ . }}{{ end }}',
      '{{ define "t" }}{{ . }}{{ end }}',
      '{{ with .Values }}{{ else }}{{ . }}{{ end }}',
      '{{ .ObjectMeta',
    ])
      expect([text, textReadsPodName(text)]).toEqual([text, true]);
  });

  it('does not for annotations, labels, namespace, the annotation function or a rebound dot', () => {
    for (const text of [
      'name: {{ .DeploymentMeta.Name }} {{ .ObjectMeta.Namespace }}',
      '{{ annotation .ObjectMeta `sidecar.istio.io/x` .Values.y }}',
      '{{ index .ObjectMeta.Labels "app" }} {{ $.ObjectMeta.Annotations }}',
      '{{ range .Values.global.imagePullSecrets }}- {{ . }}{{ end }}',
      '{{ with .Values.x }}{{ . }}{{ else with .Values.y }}{{ . }}{{ end }}',
      '{{/* not {{ . }} ObjectMeta.Name */}}',
      '{{ "ObjectMeta.Name ." }}',
    ])
      expect([text, textReadsPodName(text)]).toEqual([text, false]);
  });

  it.skipIf(!available)("Istio's chart texts do not; an edited one that does is seen", () => {
    expect(templateSetReadsPodName(engineTemplates())).toBe(false);
    const edited = buildTemplateSet({
      sidecar: readFileSync(join(CHART, FILES.sidecar), 'utf8').replace(
        '    - name: POD_NAME\n',
        '    - name: MY_NAME\n      value: "{{ .ObjectMeta.Name }}"\n    - name: POD_NAME\n',
      ),
    });
    if (!edited.ok) throw new Error('the edited text compiles');
    expect(templateSetReadsPodName(edited.templates)).toBe(true);
    // Its replicas are not given each other's results: the name shows in the patch.
    const config = { ...configFor(loadCases()[0]!), templates: edited.templates };
    const tally: Tally = { compared: 0, reusedAcrossNames: 0, diffs: [] };
    const pod = replicaSetPod(generatePod(7, { payloadRate: 0 }), 7);
    const input = { pod, namespace: 'default', config, cluster: { nativeSidecars: false } };
    check('edited', { ...input, mode: 'webhook' }, 'web-other', tally);
    expect(outcome(() => inject({ ...input, mode: 'webhook' }))).toContain('MY_NAME');
    expect(tally).toEqual({ compared: 3, reusedAcrossNames: 0, diffs: [] });
  });
});

describe('which pods are reused', () => {
  it('not a pod with thousands of env vars (its key would cost more than the pipeline)', () => {
    const config = defaultInjectionConfig();
    const pod = (n: number): Pod => ({
      metadata: { name: 'env-heavy', namespace: 'default' },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:1',
            env: Array.from({ length: n }, (_, i) => ({ name: `E${i}`, value: `${i}` })),
          },
        ],
      },
    });
    const input = (n: number): InjectionInput => ({
      pod: pod(n),
      namespace: 'default',
      config,
      cluster: { nativeSidecars: false },
      mode: 'webhook',
    });
    const small = input(300);
    expect(inject(small).patch).toBe(inject(small).patch);
    const large = input(2000);
    expect(inject(large).patch).not.toBe(inject(large).patch);
    expect(JSON.stringify(inject(large).patch)).toBe(JSON.stringify(injectUncached(large).patch));
  });
});

describe.skipIf(!available)('reused injections are byte-identical to the whole pipeline', () => {
  it(
    'every corpus input, native and engine templates, webhook and kube-inject',
    { timeout: 600_000 },
    () => {
      const engine = engineTemplates();
      const tally: Tally = { compared: 0, reusedAcrossNames: 0, diffs: [] };
      let n = 0;
      for (const c of loadCases()) {
        const base = configFor(c);
        const configs: InjectionConfig[] = [base, { ...base, templates: engine }];
        const cluster: ClusterFacts = { nativeSidecars: c.nativeSidecarsGlobal };
        for (const doc of parseDocuments(readCorpusFile(c.in))) {
          for (const workload of listWorkloads(doc)) {
            const pod = getPodTemplate(workload);
            for (const config of configs) {
              for (const mode of ['webhook', 'kube-inject'] as const) {
                const input = { pod, namespace: 'default', config, cluster, mode };
                check(`${c.testName} ${mode}`, input, `replica-${n++}`, tally);
              }
              // The same pod template as a ReplicaSet's pod: the name is not in the reuse key.
              const owned = { pod: replicaSetPod(pod, n), namespace: 'default', config, cluster };
              check(`${c.testName} owned`, { ...owned, mode: 'webhook' }, `web-${n++}`, tally);
            }
          }
        }
      }
      console.log(
        `injection reuse proof: ${tally.compared} corpus injections compared, ${tally.reusedAcrossNames} reused across names`,
      );
      expect(tally.compared).toBeGreaterThan(1000);
      expect(tally.reusedAcrossNames).toBeGreaterThan(100);
      expect(tally.diffs.slice(0, 5)).toEqual([]);
    },
  );

  it(`${PODS} generated pods (seed ${SEED}) and their replicas`, { timeout: 3_600_000 }, () => {
    const engine = engineTemplates();
    const configs = [
      ...new Map(
        loadCases().map((c) => [JSON.stringify([c.setFlags, c.inFilePath, c.mesh]), c]),
      ).values(),
    ].map((c) => configFor(c));
    const tally: Tally = { compared: 0, reusedAcrossNames: 0, diffs: [] };
    for (let i = 0; i < PODS; i++) {
      const seed = (SEED + i) >>> 0;
      const r = rng(seed ^ 0x5bd1e995);
      const generated = generatePod(seed, { payloadRate: 0.05 });
      const pod = r() < 0.5 ? replicaSetPod(generated, seed) : generated;
      const base = configs[seed % configs.length] as InjectionConfig;
      // The engine is ~50x slower than the native renderers: one pod in ten runs through it.
      const config = i % 10 === 0 ? { ...base, templates: engine } : base;
      const cluster: ClusterFacts = {
        nativeSidecars: seed % 2 === 0,
        ...(r() < 0.2 ? { openshift: true, namespaceAnnotations: {} } : {}),
      };
      const mode = seed % 3 === 0 ? 'kube-inject' : 'webhook';
      const name = `${pod.metadata?.generateName ?? 'pod-'}${Math.floor(r() * 1e9).toString(36)}`;
      check(`seed ${seed}`, { pod, namespace: 'default', config, cluster, mode }, name, tally);
    }
    console.log(
      `injection reuse proof: ${PODS} generated pods, ${tally.compared} injections compared, ${tally.reusedAcrossNames} reused across names, ${tally.diffs.length} differ`,
    );
    expect(tally.reusedAcrossNames).toBeGreaterThan(PODS / 5);
    expect(tally.diffs.slice(0, 5)).toEqual([]);
  });
});

describe('reuse keeps the cluster ProxyConfig resources apart', () => {
  function set(concurrency: number, image: string) {
    const parsed = parseProxyConfigResource(
      {
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'ProxyConfig',
        metadata: { name: 'pc', namespace: 'shop' },
        spec: { concurrency, image: { imageType: image } },
      },
      'shop',
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return buildProxyConfigSet([parsed.resource]);
  }

  it('two sets of the same size give each its own result, equal to the whole pipeline (generated)', () => {
    const config = defaultInjectionConfig();
    let differing = 0;
    for (let i = 0; i < 200; i++) {
      const pod = generatePod((SEED + 17 + i) >>> 0);
      const a = set(1 + (i % 4), 'distroless');
      const b = set(5 + (i % 4), 'debug');
      const inputA: InjectionInput = {
        pod,
        namespace: 'shop',
        config,
        cluster: { nativeSidecars: false, proxyConfigs: a },
        mode: 'webhook',
      };
      const inputB: InjectionInput = { ...inputA, cluster: { ...inputA.cluster, proxyConfigs: b } };
      const outA = outcome(() => inject(inputA));
      const outB = outcome(() => inject(inputB));
      expect(outA).toBe(outcome(() => injectUncached(inputA)));
      expect(outB).toBe(outcome(() => injectUncached(inputB)));
      // A pod's own proxy.istio.io/config annotation outranks a namespace ProxyConfig.
      if (outA !== outB) differing++;
    }
    expect(differing).toBeGreaterThan(50);
  });
});
