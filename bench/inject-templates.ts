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
 * alternate within each of 7 rounds, and the median and the spread (min-max) are printed.
 * Run: npm run bench:templates (or as part of npm run bench).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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

function loaded(sources: Parameters<typeof loadInjectionConfig>[0], fast = true): InjectionConfig {
  const result = loadInjectionConfig(sources, fast ? {} : { nativeFastPath: false });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
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

export function templateInjectBenchmarks(sharedDir: string): string[] {
  const cm = join(sharedDir, 'conformance', 'istio-configmaps', 'master');
  const text = (name: string) => readFileSync(join(cm, name), 'utf8');
  const sources = { config: text('config'), values: text('values'), mesh: text('mesh') };
  const review = JSON.parse(
    readFileSync(join(sharedDir, 'perf', 'payloads', 'bookinfo-productpage-v1.json'), 'utf8'),
  ) as { request: { object: Pod; namespace?: string } };
  const bookinfo = review.request.object;
  const bookinfoNs = review.request.namespace ?? 'default';
  const big = envPod(2000);

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
  const runOf = (c: Case) => (pod: Pod) =>
    inject({
      pod,
      namespace: c.namespace,
      config: c.config,
      cluster: { nativeSidecars: false },
      mode: 'webhook',
    });
  // The edited template must really be in the output (else the bench measures nothing new).
  const editedCase = cases.find((c) => c.label.startsWith('helm, edited')) as Case;
  const edited = runOf(editedCase)(editedCase.pod);
  if (!JSON.stringify(edited.pod).includes('EDITED_BY_PLATFORM')) {
    throw new Error('the edited sidecar template is not what ran');
  }

  for (const c of cases) cpuMsPerCall(runOf(c), c, Math.max(20, c.n / 4)); // warm-up
  const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let round = 0; round < 7; round += 1) {
    // Alternate the order each round, so slow phases of the machine spread over every case.
    const order = round % 2 === 0 ? cases : [...cases].reverse();
    for (const c of order) samples.get(c)?.push(cpuMsPerCall(runOf(c), c, c.n));
  }
  const lines = [
    'in-process inject() of a new pod, CPU ms per pod: median of 7 alternating rounds (min-max), target',
  ];
  for (const c of cases) {
    const sorted = [...(samples.get(c) ?? [])].sort((a, b) => a - b);
    const median = sorted[3] ?? 0;
    const spread = `${(sorted[0] ?? 0).toFixed(3)}-${(sorted.at(-1) ?? 0).toFixed(3)}`;
    const verdict = median <= c.target ? 'ok' : 'OVER';
    lines.push(
      `${c.label.padEnd(40)} ${median.toFixed(3).padStart(7)} ms  (${spread})  <= ${c.target} ms ${verdict}`,
    );
  }
  return lines;
}

// Run directly: `node dist/bench/inject-templates.js [shared dir]`.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const shared = process.argv[2] ?? resolve(process.cwd(), '..', 'shared');
  for (const line of templateInjectBenchmarks(shared)) console.log(line);
}
