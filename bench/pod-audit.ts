/**
 * `npm run bench:audit`: memory and time of the pod audit on a synthetic cluster (default 100 000
 * pods). The pods go through the same paged list function, trimmer and client-node ListWatch
 * cache the informer uses; each page is built as JSON text and parsed, as pods arrive from the
 * API server, so no string is shared unless the trimmer interns it. Reports the retained heap per
 * cached pod (after forced GCs; run with --expose-gc) and the time of one full evaluation through
 * the audit's own runner (which yields to the event loop between slices).
 * Flags: --pods <n> (default 100000), --namespaces <n> (default 500), --runs <n> (default 3).
 */
import { KubeConfig, ListWatch, type V1Pod, type Watch } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { defaultInjectionConfig } from '../src/core/config/defaults.js';
import type { InjectionConfig } from '../src/core/config/types.js';
import type { NamespaceInfo } from '../src/core/contracts.js';
import { inject } from '../src/core/inject.js';
import type { Pod } from '../src/core/pod-types.js';
import { createStaticConfigProvider } from '../src/config-sources/static.js';
import type { ResilientInformer } from '../src/k8s/informer.js';
import {
  createPodAudit,
  createV1PodTrimmer,
  PAGE_SIZE,
  pagedPodList,
} from '../src/k8s/pod-audit.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const PODS = flag('pods', 100_000);
const NAMESPACES = flag('namespaces', 500);
const RUNS = flag('runs', 3);
const PODS_PER_DEPLOYMENT = 20;

const gc = (globalThis as { gc?: () => void }).gc;
function heapAfterGc(): number {
  if (gc !== undefined) for (let i = 0; i < 3; i += 1) gc();
  return process.memoryUsage().heapUsed;
}

const config: InjectionConfig = defaultInjectionConfig();
const oldConfig = {
  ...config,
  values: { ...config.values, global: { ...(config.values.global as object), tag: '1.31.0' } },
} as InjectionConfig;

/** What a kubelet-reported, controller-made pod looks like on the wire (before injection). */
function workloadPod(deployment: string, namespace: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${deployment}-5f7c9d8b6-xxxxx`,
      generateName: `${deployment}-5f7c9d8b6-`,
      namespace,
      labels: { app: deployment, version: 'v1', 'pod-template-hash': '5f7c9d8b6' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-30T10:00:00Z' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${deployment}-5f7c9d8b6`,
          uid: '00000000-0000-0000-0000-000000000000',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      serviceAccountName: deployment,
      containers: [
        {
          name: 'app',
          image: `registry.example/${deployment}:1.4.2`,
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'PORT', value: '8080' },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
        },
      ],
    },
  };
}

/** Per deployment: the pod as stored (injected now, injected by an older tag, or not at all). */
function templates(): { pod: Pod; namespace: string }[] {
  const out: { pod: Pod; namespace: string }[] = [];
  const deployments = Math.ceil(PODS / PODS_PER_DEPLOYMENT);
  for (let d = 0; d < deployments; d += 1) {
    const namespace = `ns-${d % NAMESPACES}`;
    const raw = workloadPod(`svc-${d}`, namespace);
    // 70 % injected by the current configuration, 10 % by an older proxy tag, 20 % missing.
    const kind = d % 10;
    const pod =
      kind < 7
        ? inject({
            pod: raw,
            namespace,
            config,
            cluster: { nativeSidecars: false },
            mode: 'webhook',
          }).pod
        : kind < 8
          ? inject({
              pod: raw,
              namespace,
              config: oldConfig,
              cluster: { nativeSidecars: false },
              mode: 'webhook',
            }).pod
          : raw;
    out.push({ pod, namespace });
  }
  return out;
}

/** A page of full pods as JSON text, as the API server sends them, with the fields it adds. */
function pageText(all: { pod: Pod; namespace: string }[], start: number, count: number): string {
  const items: unknown[] = [];
  for (let i = start; i < Math.min(start + count, PODS); i += 1) {
    const t = all[Math.floor(i / PODS_PER_DEPLOYMENT)]!;
    const name = `${t.pod.metadata?.generateName ?? 'p-'}${i.toString(36).padStart(5, '0')}`;
    items.push({
      ...t.pod,
      metadata: {
        ...t.pod.metadata,
        name,
        uid: `uid-${i}-0000-0000-0000-000000000000`,
        resourceVersion: String(1_000_000 + i),
        creationTimestamp: '2026-11-30T10:00:00Z',
        managedFields: [
          {
            manager: 'kube-controller-manager',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2026-11-30T10:00:00Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': {} },
          },
        ],
      },
      spec: { ...t.pod.spec, nodeName: `node-${i % 300}` },
      status: {
        phase: 'Running',
        podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        hostIP: `192.168.0.${i % 250}`,
        startTime: '2026-11-30T10:00:01Z',
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: '2026-11-30T10:00:05Z' },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: '2026-11-30T10:00:05Z' },
        ],
        containerStatuses: (t.pod.spec?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image,
          ready: true,
          restartCount: 0,
          containerID: `containerd://${i.toString(16).padStart(64, '0')}`,
        })),
      },
    });
  }
  return JSON.stringify({ metadata: { resourceVersion: '2000000' }, items });
}

/** CPU time (user + system) in ms: the machine is shared, so wall time alone overstates. */
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

const noWatch = {
  watch: (): Promise<AbortController> => Promise.resolve(new AbortController()),
} as unknown as Watch;

async function main(): Promise<void> {
  if (gc === undefined) console.log('note: run with --expose-gc for retained-heap figures');
  const all = templates();
  const namespaces = new Map<string, NamespaceInfo>();
  for (let n = 0; n < NAMESPACES; n += 1) {
    const name = `ns-${n}`;
    namespaces.set(name, {
      name,
      labels: { 'kubernetes.io/metadata.name': name, 'istio-injection': 'enabled' },
      annotations: {},
    });
  }
  const wireBytes = Buffer.byteLength(pageText(all, 0, PAGE_SIZE)) / PAGE_SIZE;

  const before = heapAfterGc();
  const trim = createV1PodTrimmer();
  const list = pagedPodList((token) => {
    const start = token === undefined ? 0 : Number(token);
    const page = JSON.parse(pageText(all, start, PAGE_SIZE)) as {
      items: V1Pod[];
      metadata: { resourceVersion: string; _continue?: string };
    };
    const next = start + PAGE_SIZE;
    if (next < PODS) page.metadata._continue = String(next);
    return Promise.resolve(page);
  }, trim);
  const listWatch = new ListWatch<V1Pod>('/api/v1/pods', noWatch, list, false);
  const listStarted = performance.now();
  const listCpu = process.cpuUsage();
  await listWatch.start();
  const listMs = performance.now() - listStarted;
  const listCpuMs = cpuMs(process.cpuUsage(listCpu));
  const cached = listWatch.list().length;
  const after = heapAfterGc();
  const bytesPerPod = (after - before) / cached;

  const informer: ResilientInformer<V1Pod> = {
    get: (name, namespace) => listWatch.get(name, namespace),
    list: (namespace) => listWatch.list(namespace),
    synced: () => true,
    connected: () => true,
    whenSynced: () => Promise.resolve(),
    start: () => undefined,
    stop: () => listWatch.stop(),
  };
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    { name: 'none', server: 'https://127.0.0.1:1', skipTLSVerify: true },
    { name: 'none' },
  );
  const registry = new Registry();
  const audit = createPodAudit({
    kubeConfig,
    logger: pino({ level: 'silent' }),
    registry,
    config: createStaticConfigProvider(config),
    namespace: (name) => namespaces.get(name),
    namespacesSynced: () => true,
    informer,
  });
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let findings = 0;
  for (let r = 0; r < RUNS; r += 1) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    findings = (await audit.evaluate()).length;
    times.push(performance.now() - t0);
    cpuTimes.push(cpuMs(process.cpuUsage(c0)));
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  await listWatch.stop();

  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(`pods cached            ${cached} in ${NAMESPACES} namespaces`);
  console.log(`wire size per pod      ${Math.round(wireBytes)} bytes of JSON`);
  console.log(
    `first list (paged)     ${listMs.toFixed(0)} ms wall, ${listCpuMs.toFixed(0)} ms CPU (build JSON, parse, trim, cache)`,
  );
  console.log(
    `retained heap          ${mb(after - before)} MiB = ${Math.round(bytesPerPod)} bytes per pod${gc === undefined ? ' (no forced GC)' : ''}`,
  );
  console.log(
    `evaluation             median ${median.toFixed(0)} ms of ${RUNS} (${times.map((t) => t.toFixed(0)).join(', ')}) for ${cached} pods, ${findings} findings; CPU ${cpuTimes.map((t) => t.toFixed(0)).join(', ')} ms`,
  );
  console.log(
    JSON.stringify({
      pods: cached,
      bytesPerPod: Math.round(bytesPerPod),
      wireBytesPerPod: Math.round(wireBytes),
      listMs: Math.round(listMs),
      listCpuMs: Math.round(listCpuMs),
      evaluationMs: times.map(Math.round),
      evaluationCpuMs: cpuTimes.map(Math.round),
      findings,
    }),
  );
}

await main();
