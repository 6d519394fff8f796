/**
 * Seeded pod generator for template proofs: pods varying every input the injection templates
 * read (containers, ports, probes, labels, service account, every annotation the templates
 * consult, with valid, odd and hostile values). A failing pod is reproducible from its seed.
 */
import type { Pod } from '../../src/core/pod-types.js';

/** mulberry32: a small seeded PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from any text (a commit id in CI): FNV-1a. */
export function seedFrom(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

/** YAML and JSON payloads that would add structure if a template pasted them unquoted. */
export const INJECTION_PAYLOADS: readonly string[] = [
  'x\n  injected: true',
  'x"\n- name: evil\n  image: evil',
  '{"injected": true}',
  'a: b\nc: d',
  '"]},{"name":"evil","image":"evil"}]',
  "x'\n  privileged: true",
  '}\nspec:\n  hostNetwork: true',
  '- evil',
];

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
  'sidecar.istio.io/proxyImageType': ['distroless', 'debug', 'default'],
  'sidecar.istio.io/bootstrapOverride': ['my-bootstrap'],
  'sidecar.istio.io/userVolume': [
    '{"v2":{"configMap":{"name":"c"}}}',
    // toYaml must quote a name YAML 1.1 reads as a bool.
    '{"v2":{"configMap":{"name":"yes"}}}',
  ],
  'sidecar.istio.io/userVolumeMount': ['{"v2":{"mountPath":"/v2","readOnly":true}}'],
  'sidecar.istio.io/rewriteAppHTTPProbers': ['true', 'false'],
  'status.sidecar.istio.io/port': ['15020', '0', '15999'],
  // Printed unquoted by the templates: a leading zero is octal to istiod's YAML 1.1 (`010` is 8).
  'readiness.status.sidecar.istio.io/initialDelaySeconds': ['0', '5', '010'],
  'readiness.status.sidecar.istio.io/periodSeconds': ['1', '30', '08'],
  'readiness.status.sidecar.istio.io/failureThreshold': ['3', '40', '07'],
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
  'proxy.istio.io/config': ['concurrency: 2', '{"holdApplicationUntilProxyStarts": true}'],
  'prometheus.io/scrape': ['true', 'false'],
  'prometheus.io/port': ['9090'],
  'prometheus.io/path': ['/metrics'],
  'resource.opentelemetry.io/service.namespace': ['otel-ns'],
  'resource.opentelemetry.io/service.version': ['1.0'],
};

/** The annotation keys the generator varies: every annotation the stock templates read. */
export const GENERATED_ANNOTATION_KEYS: readonly string[] = Object.keys(ANNOTATION_VALUES);

const LABEL_VALUES: Readonly<Record<string, readonly string[]>> = {
  app: ['web', 'a'.repeat(70)],
  version: ['v1', 'v2'],
  'service.istio.io/canonical-name': ['canon'],
  'service.istio.io/canonical-revision': ['r1'],
  'app.kubernetes.io/name': ['kname'],
  'app.kubernetes.io/version': ['kv'],
  'security.istio.io/tlsMode': ['istio', 'disabled'],
  'topology.istio.io/network': ['net-a'],
};

export interface GeneratedPodOptions {
  /** Probability that an annotation value is an injection payload instead of a usual value. */
  payloadRate?: number;
}

export function generatePod(seed: number, options: GeneratedPodOptions = {}): Pod {
  const r = rng(seed);
  const payloadRate = options.payloadRate ?? 0;
  const annotations: Record<string, string> = {};
  for (const [k, vs] of Object.entries(ANNOTATION_VALUES)) {
    if (r() >= 0.15) continue;
    annotations[k] = r() < payloadRate ? pick(r, INJECTION_PAYLOADS) : pick(r, vs);
  }
  if (r() < 0.1) annotations['inject.istio.io/templates'] = pick(r, ['sidecar', 'grpc-simple']);
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
    ...(r() < 0.3
      ? { readinessProbe: { httpGet: { path: '/ready', port: 8000 + i * 10 }, periodSeconds: 5 } }
      : {}),
    ...(r() < 0.2 ? { env: [{ name: 'A', value: pick(r, ['1', '']) }] } : {}),
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
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
