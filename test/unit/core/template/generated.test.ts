/**
 * Generated pods (seeded, reproducible): master's sidecar template rendered by the engine must give
 * the pod the native sidecar renderer gives, for pods varying every input the template reads:
 * containers and ports, labels, service account, and the annotations the template consults.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlDocument } from '../../../../src/core/yaml.js';
import { describe, expect, it } from 'vitest';
import type { RenderContext } from '../../../../src/core/contracts.js';
import type { JsonValue } from '../../../../src/core/json.js';
import type { Pod } from '../../../../src/core/pod-types.js';
import { proxyIds, workloadMetaFromPod } from '../../../../src/core/pipeline/meta.js';
import { resolveProxyConfig } from '../../../../src/core/proxy-config.js';
import { renderTemplate } from '../../../../src/core/render/index.js';
import { buildTemplateData, compileTemplate } from '../../../../src/core/template/index.js';
import { validateAnnotations } from '../../../../src/core/annotations/validate.js';
import { firstDifference, normalise } from '../../../conformance/harness.js';
import { configFor } from '../../../helpers/corpus.js';
import { SHARED_DIR } from '../../../helpers/shared.js';

const FILE = join(
  SHARED_DIR,
  'conformance',
  'istio-configmaps',
  'master',
  'chart-files',
  'injection-template.yaml',
);
const available = existsSync(FILE);
if (!available) console.log(`skipped generated template tests: ${FILE} is absent`);

const PODS = 250;

/** mulberry32: a small seeded PRNG, so a failing pod is reproducible from its index. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ANNOTATION_VALUES: Readonly<Record<string, readonly string[]>> = {
  'sidecar.istio.io/logLevel': ['debug', 'info', 'warning'],
  'sidecar.istio.io/componentLogLevel': ['misc:error', 'upstream:debug,misc:info'],
  'sidecar.istio.io/agentLogLevel': ['default:debug', 'ads:info'],
  'sidecar.istio.io/proxyCPU': ['100m', '2'],
  'sidecar.istio.io/proxyMemory': ['128Mi', '1Gi'],
  'sidecar.istio.io/proxyCPULimit': ['2', '500m'],
  'sidecar.istio.io/proxyMemoryLimit': ['1Gi', '256Mi'],
  'sidecar.istio.io/interceptionMode': ['REDIRECT', 'TPROXY', 'NONE'],
  'sidecar.istio.io/nativeSidecar': ['true', 'false'],
  'sidecar.istio.io/capNetBindService': ['true', 'false'],
  'sidecar.istio.io/proxyImage': ['example.com/proxy:1', 'custom'],
  'sidecar.istio.io/bootstrapOverride': ['my-bootstrap'],
  'sidecar.istio.io/userVolume': [
    '[{"name":"v1","emptyDir":{}}]',
    '{"v2":{"configMap":{"name":"c"}}}',
  ],
  'sidecar.istio.io/userVolumeMount': [
    '[{"name":"v1","mountPath":"/v1"}]',
    '{"v2":{"mountPath":"/v2","readOnly":true}}',
  ],
  'status.sidecar.istio.io/port': ['15020', '0', '15999'],
  'readiness.status.sidecar.istio.io/initialDelaySeconds': ['0', '5'],
  'readiness.status.sidecar.istio.io/periodSeconds': ['1', '30'],
  'readiness.status.sidecar.istio.io/failureThreshold': ['3', '40'],
  'traffic.sidecar.istio.io/includeOutboundIPRanges': ['*', '10.0.0.0/8', ''],
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': ['1.1.1.1/32', ''],
  'traffic.sidecar.istio.io/includeInboundPorts': ['*', '80,8080', ''],
  'traffic.sidecar.istio.io/excludeInboundPorts': ['15020', '9090', ''],
  'traffic.sidecar.istio.io/includeOutboundPorts': ['443', ''],
  'traffic.sidecar.istio.io/excludeOutboundPorts': ['3306', ''],
  'traffic.sidecar.istio.io/kubevirtInterfaces': ['net1'],
  'istio.io/reroute-virtual-interfaces': ['net1,net2'],
  'traffic.sidecar.istio.io/excludeInterfaces': ['eth9'],
  'k8s.v1.cni.cncf.io/networks': ['other', '[{"name":"x"}]'],
  'kubectl.kubernetes.io/default-container': ['app'],
  'kubectl.kubernetes.io/default-logs-container': ['app'],
  'apm.datadoghq.com/env': ['{"DD_ENV":"prod","DD_SERVICE":"svc"}'],
};

const LABEL_VALUES: Readonly<Record<string, readonly string[]>> = {
  app: ['web', 'a'.repeat(70)],
  version: ['v1', 'v2'],
  'service.istio.io/canonical-name': ['canon'],
  'service.istio.io/canonical-revision': ['r1'],
  'app.kubernetes.io/name': ['kname'],
  'app.kubernetes.io/version': ['kv'],
  'security.istio.io/tlsMode': ['istio', 'disabled'],
};

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function generatePod(seed: number): Pod {
  const r = rng(seed);
  const annotations: Record<string, string> = {};
  for (const [k, vs] of Object.entries(ANNOTATION_VALUES))
    if (r() < 0.15) annotations[k] = pick(r, vs);
  const labels: Record<string, string> = {};
  for (const [k, vs] of Object.entries(LABEL_VALUES)) if (r() < 0.4) labels[k] = pick(r, vs);
  const containers = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => ({
    name: i === 0 ? 'app' : `c${i}`,
    image: pick(r, ['nginx', 'nginx:1.2', 'reg:5000/x@sha256:abc']),
    ports: Array.from({ length: Math.floor(r() * 3) }, (_, j) => ({
      containerPort: 8000 + i * 10 + j,
      ...(r() < 0.5 ? { name: `p${j}` } : {}),
      ...(r() < 0.5 ? { protocol: pick(r, ['TCP', 'UDP', 'SCTP']) } : {}),
    })),
  }));
  return {
    metadata: {
      name: `pod-${seed}`,
      ...(r() < 0.5 ? { namespace: 'ns1' } : {}),
      labels,
      annotations,
    },
    spec: {
      ...(r() < 0.5 ? { serviceAccountName: pick(r, ['sa', 'default']) } : {}),
      containers,
    },
  };
}

describe.skipIf(!available)('generated pods: master sidecar template, engine vs native', () => {
  it(`${PODS} seeded pods render identically`, () => {
    const template = compileTemplate(readFileSync(FILE, 'utf8'));
    const config = configFor({
      testName: 'generated',
      setFlags: null,
      inFilePath: null,
      mesh: null,
    });
    const diffs: string[] = [];
    const refused: string[] = [];
    let compared = 0;
    for (let seed = 1; seed <= PODS; seed++) {
      const pod = generatePod(seed);
      const annotations = pod.metadata?.annotations ?? {};
      // The pipeline refuses invalid annotations before any template runs.
      if (validateAnnotations(annotations).length > 0) continue;
      const { proxyConfig, issues } = resolveProxyConfig(config.mesh, annotations);
      if (issues.length > 0) continue;
      const namespace = pod.metadata?.namespace || 'default';
      const meta = workloadMetaFromPod(pod, namespace);
      const ids = proxyIds(false, undefined);
      const ctx: RenderContext = {
        pod: { ...pod, metadata: { ...(pod.metadata ?? {}), namespace } },
        typeMeta: meta.typeMeta,
        deploymentMeta: meta.deploymentMeta,
        proxyConfig,
        mesh: config.mesh,
        values: config.values,
        revision: config.revision,
        nativeSidecars: seed % 2 === 0,
        proxyUID: ids.uid,
        proxyGID: ids.gid,
        compliancePolicy: '',
      };
      const text = template.render(buildTemplateData(ctx));
      // Istio reads the rendered text with Go YAML, where a repeated key's last value wins.
      const parsed = parseYamlDocument(text, { uniqueKeys: false });
      compared++;
      if (!parsed.ok) {
        diffs.push(`seed ${seed}: rendered YAML does not parse: ${parsed.errors[0] ?? ''}`);
        continue;
      }
      const engine = parsed.value as JsonValue;
      let native: JsonValue;
      try {
        native = renderTemplate('sidecar', ctx);
      } catch (e) {
        // The native renderer refuses some values Istio's template accepts (a userVolume list).
        refused.push(`seed ${seed}: ${(e as Error).message.slice(0, 140)}`);
        continue;
      }
      const d = firstDifference(normalise(typed(engine)), normalise(typed(native)));
      if (d !== undefined) {
        diffs.push(
          `seed ${seed}: ${d.path}: engine=${JSON.stringify(d.ours)?.slice(0, 120)} native=${JSON.stringify(d.golden)?.slice(0, 120)}`,
        );
      }
    }
    console.log(
      `generated pods: ${compared - diffs.length - refused.length}/${compared} identical, ${refused.length} refused by the native renderer only`,
    );
    for (const d of refused.slice(0, 3)) console.log(`  ${d}`);
    for (const d of diffs.slice(0, 10)) console.log(`  ${d}`);
    expect(compared).toBeGreaterThan(PODS / 4);
    expect(diffs.slice(0, 5)).toEqual([]);
  });
});

/** Zero probe counters and empty env values are omitted by Go's typed pod (omitempty). */
function typed(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(typed);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, JsonValue> = {};
  for (const [k, e] of Object.entries(v)) {
    if (e === undefined) continue;
    if (/^(initialDelay|period|timeout|success|failure)/.test(k) && e === 0) continue;
    if (k === 'value' && e === '') continue;
    out[k] = typed(e);
  }
  return out;
}
