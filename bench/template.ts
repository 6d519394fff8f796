/**
 * Engine render time of Istio's stock sidecar template (read from ../shared, as tests do) for a
 * Bookinfo pod and for a pod with 2 000 env vars: parse once, then render repeatedly.
 * Run: npx tsx bench/template.ts [configmaps dir]. Targets: <= 1 ms and <= 10 ms per render.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadInjectionConfig } from '../src/core/config/load.js';
import type { RenderContext } from '../src/core/contracts.js';
import type { Pod } from '../src/core/pod-types.js';
import { proxyIds, workloadMetaFromPod } from '../src/core/pipeline/meta.js';
import { resolveProxyConfig } from '../src/core/proxy-config.js';
import { buildTemplateData, compileTemplate } from '../src/core/template/index.js';

const dir = process.argv[2] ?? '../shared/conformance/istio-configmaps';
const payloads = '../shared/perf/payloads';
const text = readFileSync(join(dir, 'master', 'chart-files', 'injection-template.yaml'), 'utf8');
const loaded = loadInjectionConfig({});
if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
const config = loaded.config;

function ctxFor(pod: Pod): RenderContext {
  const namespace = pod.metadata?.namespace ?? 'default';
  const meta = workloadMetaFromPod(pod, namespace);
  const ids = proxyIds(false, undefined);
  return {
    pod: { ...pod, metadata: { ...(pod.metadata ?? {}), namespace } },
    typeMeta: meta.typeMeta,
    deploymentMeta: meta.deploymentMeta,
    proxyConfig: resolveProxyConfig(config.mesh, pod.metadata?.annotations ?? {}).proxyConfig,
    mesh: config.mesh,
    values: config.values,
    revision: config.revision,
    nativeSidecars: true,
    proxyUID: ids.uid,
    proxyGID: ids.gid,
    compliancePolicy: '',
  };
}

const review = JSON.parse(readFileSync(join(payloads, 'bookinfo-productpage-v1.json'), 'utf8')) as {
  request: { object: Pod };
};
const bookinfo = review.request.object;
const big: Pod = structuredClone(bookinfo);
const c0 = big.spec?.containers?.[0];
if (c0)
  c0.env = Array.from({ length: 2000 }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}` }));

const t0 = performance.now();
const template = compileTemplate(text);
const parseMs = performance.now() - t0;

function measure(label: string, pod: Pod, n: number): void {
  const ctx = ctxFor(pod);
  for (let i = 0; i < 300; i++) template.render(buildTemplateData(ctx));
  // Five batches; the median is reported (the machine is shared, single batches are noisy).
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    // CPU time of this process, not wall time: other work on the machine does not count.
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) template.render(buildTemplateData(ctx));
    const used = process.cpuUsage(start);
    batches.push((used.user + used.system) / 1000 / n);
  }
  batches.sort((x, y) => x - y);
  const median = batches[2] ?? 0;
  console.log(
    `${label}: ${median.toFixed(3)} ms CPU per render, median of 5 x ${n} (data model + render; min ${(batches[0] ?? 0).toFixed(3)})`,
  );
}

console.log(`parse of the sidecar template: ${parseMs.toFixed(2)} ms (once per configuration)`);
measure('sidecar template, Bookinfo productpage pod', bookinfo, 500);
measure('sidecar template, 2 000-env-var pod', big, 200);
