/**
 * In-process driver for profiling the request path without TLS or a load generator:
 *
 *   npm run build && node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/profile.js [--mode app|review|inject] [--seconds 5]
 *   node dist/bench/profile.js --summary /tmp/prof/<file>.cpuprofile
 *
 * `app` goes through fastify's `inject()` (routing, body parsing, hooks, logging, metrics);
 * `review` calls the pure review directly; `inject` calls only the injection pipeline.
 * `--summary` prints a .cpuprofile's functions by self time.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { defaultInjectionConfig } from '../src/core/config/defaults.js';
import type { Pod } from '../src/core/pod-types.js';
import { inject } from '../src/core/inject.js';
import { parseAdmissionReview } from '../src/core/review-envelope.js';
import { reviewParsed } from '../src/core/review.js';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/logging/logger.js';
import { createMetrics } from '../src/metrics/registry.js';
import { createStaticConfigProvider } from '../src/config-sources/static.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (and per package/file), from a V8 .cpuprofile. */
async function summarise(file: string, top: number): Promise<void> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, micros] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    const group = where.startsWith('node_modules/')
      ? where
          .split('/')
          .slice(0, where.split('/')[1]?.startsWith('@') ? 3 : 2)
          .join('/')
      : where || functionName;
    byFile.set(group, (byFile.get(group) ?? 0) + micros);
  }
  const print = (title: string, map: Map<string, number>) => {
    console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`);
    for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${((100 * micros) / total).toFixed(1).padStart(5)}%  ${key}`);
    }
  };
  print('self time by function', byFunction);
  print('self time by file or package', byFile);

  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node: ProfileNode) =>
    `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${node.callFrame.lineNumber + 1}`;
  const inclusive = new Map<string, number>();
  for (const [id, micros] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node) seen.add(label(node));
    }
    for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
  }
  print('inclusive time by function', inclusive);
}

async function payloads(): Promise<string[]> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dir = join(root, '..', 'shared', 'perf', 'payloads');
  const names = [
    'bookinfo-details-v1',
    'bookinfo-productpage-v1',
    'bookinfo-reviews-v1',
    'large-10-containers',
  ];
  return Promise.all(names.map((name) => readFile(join(dir, `${name}.json`), 'utf8')));
}

async function run(mode: string, seconds: number): Promise<void> {
  const bodies = await payloads();
  const config = defaultInjectionConfig();
  let step: (body: string, i: number) => Promise<void> | void;
  if (mode === 'app') {
    // The production logger (redaction included), writing asynchronously to /dev/null.
    const logger = createLogger({
      destination: pino.destination({ dest: '/dev/null', sync: false }),
    });
    const app = buildApp({
      config: createStaticConfigProvider(config),
      logger,
      metrics: createMetrics(),
    });
    await app.ready();
    step = async (body) => {
      const response = await app.inject({
        method: 'POST',
        url: '/inject?timeout=10s',
        headers: { 'content-type': 'application/json' },
        payload: body,
      });
      if (response.statusCode !== 200) throw new Error(response.body);
    };
  } else if (mode === 'review') {
    step = (body) => {
      const parsed = parseAdmissionReview(JSON.parse(body));
      const result = reviewParsed(parsed, {
        config,
        cluster: { nativeSidecars: false },
      });
      JSON.stringify(result.response);
    };
  } else {
    const pods = bodies.map((b) => (JSON.parse(b) as { request: { object: Pod } }).request.object);
    step = (_body, i) => {
      inject({
        pod: pods[i % pods.length] ?? {},
        namespace: 'default',
        config,
        cluster: { nativeSidecars: false },
        mode: 'webhook',
      });
    };
  }
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 100; i += 1) await step(bodies[i % bodies.length] ?? '', i);
    count += 100;
  }
  console.log(
    `${mode}: ${count} requests in ${seconds} s, ${((seconds * 1000) / count).toFixed(4)} ms each`,
  );
}

const argv = process.argv.slice(2);
const arg = (name: string) => {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
};
const summary = arg('summary');
if (summary) await summarise(summary, Number(arg('top') ?? '40'));
else await run(arg('mode') ?? 'app', Number(arg('seconds') ?? '5'));
