/**
 * In-process `inject()` time (the whole pipeline, no HTTP) per kind of template:
 * - `embedded`: the built-in configuration (native renderers);
 * - `helm, fast path`: Istio master's Helm-rendered ConfigMaps; the stock texts are recognised by
 *   hash and run natively;
 * - `helm, engine`: the same ConfigMaps with the fast path off, so the stock text runs through the
 *   Go-template engine;
 * - `helm, edited`: the sidecar template with one env var added (any user edit): the engine.
 * Pods: Bookinfo productpage (../shared/perf/payloads) and a pod with 2 000 env vars. Every
 * injection gets a new pod (a `pod-template-hash` label of its own, as a new ReplicaSet's pods
 * have), so no result is reused (src/core/inject.ts reuses one for a pod seen before); the
 * `same pod again` line shows the reuse for comparison.
 * Targets: stock <= 0.1 ms for Bookinfo; engine <= 1 ms for Bookinfo and <= 10 ms for 2 000 env vars.
 *
 * The machine is shared: CPU time of this process is measured (not wall time), the cases
 * alternate within each of 7 rounds, and the median and the spread (min-max) are printed, with
 * the engine/native ratio of the medians (less sensitive to the machine's load than either).
 * Run: npm run bench:templates (or as part of npm run bench).
 * Before/after: build the other commit's tree where its imports resolve (`git archive C | tar
 * -x -C /tmp/c`, a node_modules link, `npx tsc -p tsconfig.build.json` there), then
 * `node dist/bench/inject-templates.js --against /tmp/c/dist [--rounds 11]`: both builds load in
 * this process and take turns case by case.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadInjectionConfig } from '../src/core/config/load.js';
import type { InjectionConfig } from '../src/core/config/types.js';
import { inject } from '../src/core/inject.js';
import type { Pod } from '../src/core/pod-types.js';

interface Case {
  label: string;
  config: InjectionConfig;
  pod: Pod;
  namespace: string;
  /** Injections per round (sized for ~100 ms of CPU). */
  n: number;
  target: number;
  /** false: the same pod every time (the reuse of src/core/inject.ts applies). */
  fresh: boolean;
}

let podSerial = 0;

/** `pod` as a pod never injected before (the reuse keys on everything but the pod's name). */
function freshPod(pod: Pod): Pod {
  podSerial += 1;
  const metadata = pod.metadata ?? {};
  return {
    ...pod,
    metadata: {
      ...metadata,
      labels: { ...(metadata.labels ?? {}), 'pod-template-hash': `b${podSerial.toString(36)}` },
    },
  };
}

/** Istio's BenchmarkInjection pod: one container with `count` env vars. */
export function envPod(count: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'env-heavy', namespace: 'default', labels: { app: 'env-heavy' } },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1',
          env: Array.from({ length: count }, (_, i) => ({ name: `ENV_${i}`, value: `value-${i}` })),
        },
      ],
    },
  };
}

/** Adds an env var to the sidecar template's istio-proxy env list (a typical user edit). */
function editedConfig(config: string): string {
  const marker = /^( *)- name: PILOT_CERT_PROVIDER$/m;
  const match = marker.exec(config);
  if (match === null) throw new Error('sidecar template: PILOT_CERT_PROVIDER env not found');
  const indent = match[1] ?? '';
  return config.replace(
    marker,
    `${indent}- name: EDITED_BY_PLATFORM\n${indent}  value: "yes"\n${match[0]}`,
  );
}

function cpuMsPerCall(run: (pod: Pod) => unknown, c: Case, n: number): number {
  // The pods are made before the clock starts: only the injection is timed.
  const pods = Array.from({ length: n }, () => (c.fresh ? freshPod(c.pod) : c.pod));
  const start = process.cpuUsage();
  for (let i = 0; i < n; i += 1) run(pods[i] as Pod);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / n;
}

/** What a build of the injector offers the bench: its `inject` and configuration loader. */
export interface Build {
  label: string;
  inject: typeof inject;
  loadInjectionConfig: typeof loadInjectionConfig;
}

const THIS_BUILD: Build = { label: 'this build', inject, loadInjectionConfig };

/** Another build's modules (`--against DIR`, DIR a `dist` of another commit: `DIR/src/core/...`). */
async function loadBuild(dist: string): Promise<Build> {
  const url = (path: string) => pathToFileURL(join(resolve(dist), path)).href;
  const injectModule = (await import(url('src/core/inject.js'))) as { inject: typeof inject };
  const loadModule = (await import(url('src/core/config/load.js'))) as {
    loadInjectionConfig: typeof loadInjectionConfig;
  };
  return {
    label: dist,
    inject: injectModule.inject,
    loadInjectionConfig: loadModule.loadInjectionConfig,
  };
}

/** The bench's cases for one build: every configuration and pod, each with its own config. */
function casesFor(build: Build, sharedDir: string): Case[] {
  const cm = join(sharedDir, 'conformance', 'istio-configmaps', 'master');
  const text = (name: string) => readFileSync(join(cm, name), 'utf8');
  const sources = { config: text('config'), values: text('values'), mesh: text('mesh') };
  const review = JSON.parse(
    readFileSync(join(sharedDir, 'perf', 'payloads', 'bookinfo-productpage-v1.json'), 'utf8'),
  ) as { request: { object: Pod; namespace?: string } };
  const bookinfo = review.request.object;
  const bookinfoNs = review.request.namespace ?? 'default';
  const big = envPod(2000);
  const loaded = (s: Parameters<typeof loadInjectionConfig>[0], fast = true): InjectionConfig => {
    const result = build.loadInjectionConfig(s, fast ? {} : { nativeFastPath: false });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    return result.config;
  };

  const configs = {
    embedded: loaded({}),
    'helm, fast path': loaded(sources),
    'helm, engine': loaded(sources, false),
    'helm, edited': loaded({ ...sources, config: editedConfig(sources.config) }),
  };
  const cases: Case[] = [];
  for (const [name, config] of Object.entries(configs)) {
    const engine = name === 'helm, engine' || name === 'helm, edited';
    cases.push({
      label: `${name}, Bookinfo productpage`,
      config,
      pod: bookinfo,
      namespace: bookinfoNs,
      n: engine ? 200 : 2000,
      target: engine ? 1 : 0.1,
      fresh: true,
    });
    cases.push({
      label: `${name}, 2 000 env vars`,
      config,
      pod: big,
      namespace: 'default',
      n: engine ? 20 : 50,
      target: 10,
      fresh: true,
    });
  }
  cases.push({
    label: 'helm, edited, Bookinfo, same pod again',
    config: configs['helm, edited'],
    pod: bookinfo,
    namespace: bookinfoNs,
    n: 2000,
    target: 1,
    fresh: false,
  });
  // The edited template must really be in the output (else the bench measures nothing new).
  const editedCase = cases.find((c) => c.label.startsWith('helm, edited')) as Case;
  const edited = runOf(build, editedCase)(editedCase.pod);
  if (!JSON.stringify(edited.pod).includes('EDITED_BY_PLATFORM')) {
    throw new Error('the edited sidecar template is not what ran');
  }
  return cases;
}

function runOf(build: Build, c: Case): (pod: Pod) => ReturnType<typeof inject> {
  return (pod: Pod) =>
    build.inject({
      pod,
      namespace: c.namespace,
      config: c.config,
      cluster: { nativeSidecars: false },
      mode: 'webhook',
    });
}

/**
 * Every case of every build, alternating: within each round the builds take turns per case,
 * and the order (of cases and of builds) reverses every other round, so a slow phase of the
 * shared machine spreads over all of them.
 */
function measure(
  builds: readonly Build[],
  sharedDir: string,
  rounds: number,
): Map<Case, number[]>[] {
  const perBuild = builds.map((b) => casesFor(b, sharedDir));
  for (const [i, cases] of perBuild.entries()) {
    const build = builds[i] as Build;
    for (const c of cases) cpuMsPerCall(runOf(build, c), c, Math.max(20, c.n / 4)); // warm-up
  }
  const samples = perBuild.map((cases) => new Map<Case, number[]>(cases.map((c) => [c, []])));
  const caseCount = perBuild[0]?.length ?? 0;
  for (let round = 0; round < rounds; round += 1) {
    const reverse = round % 2 === 1;
    for (let k = 0; k < caseCount; k += 1) {
      const ci = reverse ? caseCount - 1 - k : k;
      const order = reverse ? [...builds.keys()].reverse() : [...builds.keys()];
      for (const bi of order) {
        const c = perBuild[bi]?.[ci] as Case;
        samples[bi]?.get(c)?.push(cpuMsPerCall(runOf(builds[bi] as Build, c), c, c.n));
      }
    }
  }
  return samples;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function report(samples: Map<Case, number[]>): string[] {
  const lines: string[] = [];
  for (const [c, values] of samples) {
    const m = median(values);
    const spread = `${Math.min(...values).toFixed(3)}-${Math.max(...values).toFixed(3)}`;
    const verdict = m <= c.target ? 'ok' : 'OVER';
    lines.push(
      `${c.label.padEnd(40)} ${m.toFixed(3).padStart(7)} ms  (${spread})  <= ${c.target} ms ${verdict}`,
    );
  }
  const byLabel = new Map([...samples].map(([c, v]) => [c.label, median(v)]));
  const ratio = (engine: string, native: string) =>
    ((byLabel.get(engine) ?? 0) / (byLabel.get(native) ?? 1)).toFixed(1);
  lines.push(
    `engine / native (medians): Bookinfo ${ratio('helm, engine, Bookinfo productpage', 'helm, fast path, Bookinfo productpage')} (edited ${ratio('helm, edited, Bookinfo productpage', 'helm, fast path, Bookinfo productpage')}), 2 000 env vars ${ratio('helm, engine, 2 000 env vars', 'helm, fast path, 2 000 env vars')}`,
  );
  return lines;
}

export function templateInjectBenchmarks(sharedDir: string, rounds = 7): string[] {
  const [samples] = measure([THIS_BUILD], sharedDir, rounds);
  return [
    `in-process inject() of a new pod, CPU ms per pod: median of ${rounds} alternating rounds (min-max), target`,
    ...report(samples ?? new Map<Case, number[]>()),
  ];
}

/** This build against another one, in one process, alternating case by case. */
export async function compareBuilds(
  sharedDir: string,
  againstDist: string,
  rounds: number,
): Promise<string[]> {
  const other = await loadBuild(againstDist);
  const builds = [THIS_BUILD, other];
  const samples = measure(builds, sharedDir, rounds);
  const lines = [
    `in-process inject() of a new pod, CPU ms per pod: median of ${rounds} rounds (min-max), the two builds alternating case by case`,
  ];
  for (const [i, build] of builds.entries()) {
    lines.push(`-- ${build.label}`, ...report(samples[i] ?? new Map<Case, number[]>()));
  }
  return lines;
}

// Run directly: `node dist/bench/inject-templates.js [shared dir] [--against DIST] [--rounds N]`.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const value = args[i + 1];
    args.splice(i, 2);
    return value;
  };
  const against = option('--against');
  const rounds = Number(option('--rounds') ?? 7);
  const shared = args[0] ?? resolve(process.cwd(), '..', 'shared');
  const lines =
    against === undefined
      ? templateInjectBenchmarks(shared, rounds)
      : await compareBuilds(shared, against, rounds);
  for (const line of lines) console.log(line);
}
