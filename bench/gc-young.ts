/**
 * `node --max-semi-space-size=<MiB> dist/bench/gc-young.js`: the young-generation size's effect
 * on the request path, in process: N reviews of the Bookinfo and large payloads (JSON.parse of
 * the body, the review, the response JSON; the pod name varies per request like replicas), then
 * the CPU per review, the scavenges per 1 000 reviews, their mean and longest pause, and the RSS.
 * Run it once per size, alternating (docs/performance.md, "GC").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { defaultInjectionConfig } from '../src/core/config/defaults.js';
import { parseAdmissionReview } from '../src/core/review-envelope.js';
import { reviewParsed } from '../src/core/review.js';

const dir =
  process.argv[2] ??
  new URL('../../shared/perf/payloads/', import.meta.url).pathname.replace(/\/dist\//, '/');
const reviews = Number(process.argv[3] ?? '20000');
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
  name: string;
  file: string;
}[];
const texts = index
  .filter((e) => e.name.startsWith('bookinfo') || e.name.startsWith('large'))
  .map((e) => readFileSync(join(dir, e.file), 'utf8'));
const config = defaultInjectionConfig();
const pauses: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.push(entry.duration);
  }
});
observer.observe({ entryTypes: ['gc'] });
const run = (i: number) => {
  const body = JSON.parse(texts[i % texts.length] ?? '{}') as {
    request?: { object?: { metadata?: { name?: string } } };
  };
  const meta = body.request?.object?.metadata;
  if (meta) meta.name = `pod-${i % 5000}`;
  return JSON.stringify(
    reviewParsed(parseAdmissionReview(body), {
      config,
      cluster: { nativeSidecars: false },
    }).response,
  );
};
for (let i = 0; i < 2000; i++) run(i);
await new Promise((resolve) => setTimeout(resolve, 50));
pauses.length = 0;
const cpu = process.cpuUsage();
for (let i = 0; i < reviews; i++) run(i);
const used = process.cpuUsage(cpu);
await new Promise((resolve) => setTimeout(resolve, 50));
const total = pauses.reduce((a, b) => a + b, 0);
console.log(
  JSON.stringify({
    semiSpace: process.execArgv.find((a) => a.startsWith('--max-semi-space-size')) ?? 'default',
    cpuUsPerReview: Math.round(((used.user + used.system) / reviews) * 10) / 10,
    scavengesPer1000: Math.round((pauses.length / reviews) * 10000) / 10,
    meanScavengeMs: Math.round((total / Math.max(1, pauses.length)) * 1000) / 1000,
    maxScavengeMs: Math.round(Math.max(0, ...pauses) * 1000) / 1000,
    rssMiB: Math.round(process.memoryUsage().rss / 1048576),
  }),
);
observer.disconnect();
