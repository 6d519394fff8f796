/**
 * fast-check generators of AdmissionReviews a fuzzer or a careless client would send: valid but
 * unusual pods (keys named like Object.prototype members, numeric annotations past int32, user
 * containers named like the injected ones, several templates, native sidecars), and the same pods
 * broken anywhere (nulls, wrong types, missing parts), plus the server settings they meet.
 */
import fc from 'fast-check';
import type { JsonObject, JsonValue } from '../../src/core/json.js';

/** Keys that are members of Object.prototype or otherwise special to JavaScript objects. */
export const PROTOTYPE_KEYS = [
  'constructor',
  'valueOf',
  'toString',
  'toLocaleString',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'prototype',
  'length',
  'then',
] as const;

const ISTIO_NAMES = ['istio-proxy', 'istio-init', 'istio-validation', 'enable-core-dump'];

/** Numbers Kubernetes types as int32/int64, around every boundary that matters. */
const numberText = fc.oneof(
  fc.constantFrom(
    '0',
    '1',
    '-1',
    '5',
    '15020',
    '65535',
    '65536',
    '2147483647',
    '2147483648',
    '-2147483649',
    '4294967296',
    '9007199254740993',
    '1e3',
    '0x10',
    ' 5',
    '5 ',
    '+5',
    '05',
    '00',
    ' 0',
    '0 ',
    '1.5',
    '',
    'NaN',
    'Infinity',
  ),
  fc.integer({ min: -5, max: 70_000 }).map(String),
  fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }).map(String),
);

const portList = fc
  .array(fc.oneof(numberText, fc.constantFrom('*', '15090', '80', 'a')), { maxLength: 4 })
  .map((parts) => parts.join(','));

const cidrList = fc
  .array(fc.constantFrom('*', '10.0.0.0/8', '::/0', '1.2.3.4/33', 'x', '', '10.1.1.1'), {
    maxLength: 3,
  })
  .map((parts) => parts.join(','));

const templates = fc
  .array(fc.constantFrom('sidecar', 'grpc-simple', 'grpc-agent', 'gateway', 'spire', 'missing'), {
    minLength: 1,
    maxLength: 3,
  })
  .map((parts) => parts.join(','));

/** Annotation keys the injector reads, and values of the kinds each takes (and a few it does not). */
const istioAnnotation: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(
    fc.constantFrom(
      'readiness.status.sidecar.istio.io/periodSeconds',
      'readiness.status.sidecar.istio.io/initialDelaySeconds',
      'readiness.status.sidecar.istio.io/failureThreshold',
      'status.sidecar.istio.io/port',
      'prometheus.io/port',
      'prometheus.istio.io/secure-port',
      'sidecar.istio.io/proxyCPU',
      'sidecar.istio.io/proxyMemory',
      'sidecar.istio.io/proxyCPULimit',
      'sidecar.istio.io/proxyMemoryLimit',
    ),
    numberText,
  ),
  fc.tuple(
    fc.constantFrom(
      'traffic.sidecar.istio.io/includeInboundPorts',
      'traffic.sidecar.istio.io/excludeInboundPorts',
      'traffic.sidecar.istio.io/excludeOutboundPorts',
      'traffic.sidecar.istio.io/includeOutboundPorts',
    ),
    portList,
  ),
  fc.tuple(
    fc.constantFrom(
      'traffic.sidecar.istio.io/includeOutboundIPRanges',
      'traffic.sidecar.istio.io/excludeOutboundIPRanges',
    ),
    cidrList,
  ),
  fc.tuple(fc.constant('inject.istio.io/templates'), templates),
  fc.tuple(
    fc.constantFrom('sidecar.istio.io/inject', 'sidecar.istio.io/nativeSidecar'),
    fc.constantFrom('true', 'false', 'yes', '', 'TRUE'),
  ),
  fc.tuple(
    fc.constant('sidecar.istio.io/interceptionMode'),
    fc.constantFrom('REDIRECT', 'TPROXY', 'NONE', 'bogus'),
  ),
  fc.tuple(
    fc.constantFrom(
      'sidecar.istio.io/logLevel',
      'sidecar.istio.io/agentLogLevel',
      'sidecar.istio.io/componentLogLevel',
    ),
    fc.constantFrom('debug', 'info', 'misc:error', 'x', ''),
  ),
  fc.tuple(
    fc.constantFrom('sidecar.istio.io/userVolume', 'sidecar.istio.io/userVolumeMount'),
    fc.constantFrom(
      '{"v1":{"emptyDir":{}}}',
      '{"v1":{"mountPath":"/v1"}}',
      '[]',
      'null',
      '{"constructor":{"mountPath":"/x"}}',
      '{"valueOf":{"emptyDir":{}}}',
      '{',
    ),
  ),
  fc.tuple(
    fc.constant('proxy.istio.io/config'),
    fc.constantFrom(
      'concurrency: 2',
      '{"concurrency": 2147483648}',
      'holdApplicationUntilProxyStarts: true',
      'terminationDrainDuration: 5s',
      'proxyMetadata: {constructor: x, valueOf: y}',
      '[1, 2]',
      'null',
      ': :',
    ),
  ),
  fc.tuple(
    fc.constant('sidecar.istio.io/status'),
    fc.constantFrom(
      '{"containers":["istio-proxy"],"initContainers":["istio-init"],"volumes":[]}',
      '{"containers":null}',
      '{"constructor":1}',
      'x',
    ),
  ),
  fc.tuple(
    fc.constantFrom(
      'sidecar.istio.io/rewriteAppHTTPProbers',
      'sidecar.istio.io/capNetBindService',
      'prometheus.io/scrape',
      'prometheus.istio.io/merge-metrics',
    ),
    fc.constantFrom('true', 'false', 'maybe'),
  ),
  fc.tuple(
    fc.constantFrom('kubectl.kubernetes.io/default-container', 'sidecar.istio.io/proxyImage'),
    fc.constantFrom('istio-proxy', 'app', 'docker.io/istio/proxyv2:1.0', ''),
  ),
);

/** Map keys: Object.prototype member names, Istio keys, and ordinary ones. */
const userKey = fc.oneof(
  fc.constantFrom(...PROTOTYPE_KEYS),
  fc.constantFrom('app', 'version', 'istio.io/rev', 'service.istio.io/canonical-name'),
  fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}[a-z0-9]$/),
);

const annotations = fc
  .tuple(
    fc.array(istioAnnotation, { maxLength: 5 }),
    fc.array(fc.tuple(userKey, fc.string({ maxLength: 8 })), { maxLength: 4 }),
  )
  .map(([istio, user]) => Object.fromEntries([...user, ...istio]) as JsonObject);

const labels = fc
  .array(fc.tuple(userKey, fc.constantFrom('v1', 'true', 'false', 'x', '')), { maxLength: 4 })
  .map((entries) => Object.fromEntries(entries) as JsonObject);

const containerName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('app', 'web', 'sidecar', 'worker', 'proxy') },
  { weight: 2, arbitrary: fc.constantFrom(...ISTIO_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS.filter((k) => /^[a-z]+$/.test(k))) },
);

const envName = fc.oneof(
  fc.constantFrom(...PROTOTYPE_KEYS),
  fc.constantFrom('ISTIO_META_FOO', 'PATH', 'ISTIO_KUBE_APP_PROBERS', 'ISTIO_META_APP_CONTAINERS'),
  fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/),
);

const port = fc.record(
  {
    name: fc.constantFrom('http', 'grpc', 'http-envoy-prom', 'tcp'),
    containerPort: fc.oneof(
      fc.integer({ min: 1, max: 65535 }),
      fc.constantFrom(15001, 15006, 15020, 15021, 15090),
    ),
    protocol: fc.constantFrom('TCP', 'UDP'),
  },
  { requiredKeys: ['containerPort'] },
);

const probeHandler = fc.oneof(
  fc.record({
    httpGet: fc.record(
      {
        path: fc.constantFrom('/', '/healthz', '/ready'),
        port: fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom('http', 'grpc')),
        scheme: fc.constantFrom('HTTP', 'HTTPS'),
      },
      { requiredKeys: ['port'] },
    ),
  }),
  fc.record({ tcpSocket: fc.record({ port: fc.integer({ min: 1, max: 65535 }) }) }),
  fc.record({ grpc: fc.record({ port: fc.integer({ min: 1, max: 65535 }) }) }),
  fc.record({ exec: fc.record({ command: fc.constant(['true']) }) }),
);

const probe = fc
  .tuple(
    probeHandler,
    fc.record(
      {
        periodSeconds: fc.integer({ min: 1, max: 100 }),
        initialDelaySeconds: fc.integer({ min: 0, max: 100 }),
        failureThreshold: fc.integer({ min: 1, max: 10 }),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([handler, timing]) => ({ ...handler, ...timing }) as JsonObject);

const container = (init: boolean) =>
  fc.record(
    {
      name: containerName,
      image: fc.constantFrom('nginx', 'docker.io/istio/proxyv2:1.32.0', 'busybox:1'),
      args: fc.array(fc.constantFrom('proxy', 'sidecar', '--x', ''), { maxLength: 2 }),
      ports: fc.array(port, { maxLength: 3 }),
      env: fc.array(
        fc.record(
          { name: envName, value: fc.string({ maxLength: 6 }) },
          { requiredKeys: ['name'] },
        ),
        { maxLength: 3 },
      ),
      readinessProbe: probe,
      livenessProbe: probe,
      startupProbe: probe,
      securityContext: fc.record(
        {
          runAsUser: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constant(1337)),
          runAsNonRoot: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
      resources: fc.record(
        {
          requests: fc.record({ cpu: fc.constantFrom('100m', '1'), memory: fc.constant('64Mi') }),
        },
        { requiredKeys: [] },
      ),
      ...(init ? { restartPolicy: fc.constant('Always') } : {}),
    },
    { requiredKeys: ['name', 'image'] },
  );

const volume = fc.record({
  name: fc.constantFrom('data', 'istio-envoy', 'istio-data', 'istio-token', 'constructor'),
  emptyDir: fc.constant({}),
});

/** A pod the Kubernetes schema accepts (container names may repeat between lists). */
export const podArb: fc.Arbitrary<JsonObject> = fc
  .record(
    {
      metadata: fc.record(
        {
          name: fc.constantFrom('p', 'web-1', 'a'.repeat(63)),
          generateName: fc.constantFrom('web-', 'rs-abc-'),
          namespace: fc.constantFrom('default', 'prod', 'kube-system', 'istio-system'),
          labels,
          annotations,
        },
        { requiredKeys: [] },
      ),
      spec: fc.record(
        {
          containers: fc.array(container(false), { minLength: 1, maxLength: 3 }),
          initContainers: fc.array(container(true), { maxLength: 2 }),
          volumes: fc.array(volume, { maxLength: 2 }),
          dnsPolicy: fc.constantFrom('ClusterFirst', 'Default', 'None'),
          hostNetwork: fc.boolean(),
          serviceAccountName: fc.constantFrom('default', 'sa'),
          nodeSelector: labels,
          securityContext: fc.record(
            { fsGroup: fc.integer({ min: 0, max: 70_000 }) },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: ['containers'] },
      ),
    },
    { requiredKeys: ['spec'] },
  )
  .map((pod) => dedupeWithinLists(pod as JsonObject));

/** Kubernetes requires unique names within each list; the API server refuses repeats anyway. */
function dedupeWithinLists(pod: JsonObject): JsonObject {
  const spec = pod['spec'] as JsonObject;
  for (const key of ['containers', 'initContainers', 'volumes']) {
    const list = spec[key];
    if (!Array.isArray(list)) continue;
    const seen = new Set<string>();
    spec[key] = list.filter((item) => {
      const name = (item as JsonObject)['name'] as string;
      if (seen.has(name)) return false;
      seen.add(name);
      return true;
    });
  }
  return pod;
}

/** Values of every JSON type, for replacing a field with the wrong one. */
const wrongValue: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.constant(null),
  fc.integer({ min: -3, max: 3 }),
  fc.constant(2147483648),
  fc.constant(1.5),
  fc.boolean(),
  fc.constantFrom('', 'x', 'null'),
  fc.constant<JsonValue>([]),
  fc.constant<JsonValue>([null]),
  fc.constant<JsonValue>({}),
  fc.constant<JsonValue>({ constructor: 'x', valueOf: 1 }),
);

export type Mutation =
  | { kind: 'replace'; pick: number; value: JsonValue }
  | { kind: 'delete'; pick: number }
  | { kind: 'add'; pick: number; key: string; value: JsonValue };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: wrongValue }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('add' as const),
    pick: fc.nat(),
    key: fc.constantFrom(...PROTOTYPE_KEYS, 'name', 'spec', 'containers'),
    value: wrongValue,
  }),
);

/** Every (container, key) slot of a JSON tree, root first. */
function slots(root: JsonValue, out: [JsonObject | JsonValue[], string | number][] = []) {
  if (Array.isArray(root)) {
    root.forEach((item, index) => {
      out.push([root, index]);
      slots(item, out);
    });
  } else if (root !== null && typeof root === 'object') {
    for (const key of Object.keys(root)) {
      out.push([root, key]);
      const child = root[key];
      if (child !== undefined) slots(child, out);
    }
  }
  return out;
}

/** Applies mutations to a copy of `pod` at slots chosen by index. */
export function mutate(pod: JsonObject, mutations: readonly Mutation[]): JsonObject {
  const copy = structuredClone(pod);
  for (const m of mutations) {
    const all = slots(copy);
    if (all.length === 0) break;
    const slot = all[m.pick % all.length];
    if (!slot) continue;
    const [parent, key] = slot;
    if (m.kind === 'replace') {
      (parent as Record<string | number, JsonValue>)[key] = structuredClone(m.value);
    } else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else {
      const target = (parent as Record<string | number, JsonValue>)[key];
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, m.key, {
          value: structuredClone(m.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
  }
  return copy;
}

export interface Scenario {
  /** The AdmissionReview body, as JSON text (what arrives on the wire). */
  body: string;
  /** The pod as sent, when the review carries one. */
  pod: JsonValue | undefined;
  /** True when `pod` is the unmutated, schema-valid generated pod. */
  pristine: boolean;
  nativeSidecars: boolean;
  /** The `?timeout=` the API server would send, in ms. */
  timeoutMs: number;
  /** On OpenShift: the namespace's SCC range annotations (the proxy UID and GID come from them). */
  openshift?: Record<string, string>;
}

/** OpenShift SCC ranges, `start/size` or `start-end`, some past the int32 the API server allows. */
const sccRange = fc.oneof(
  fc.constantFrom('1000660000/10000', '1000660000-1000669999', '2147483000/10000', '0/1'),
  fc.constantFrom('4294967295/1', '2147483647/2', '9007199254740993/1', '5/0', 'x', ''),
  fc
    .tuple(fc.integer({ min: 0, max: 2 ** 32 }), fc.integer({ min: 0, max: 2 ** 20 }))
    .map(([start, size]) => `${start}/${size}`),
);

const openshiftNamespace = fc.option(
  fc.record(
    {
      'openshift.io/sa.scc.uid-range': sccRange,
      'openshift.io/sa.scc.supplemental-groups': sccRange,
    },
    { requiredKeys: [] },
  ),
  { freq: 4 },
);

const envelopeBreak = fc.constantFrom<'none' | 'object-null' | 'object-missing' | 'object-array'>(
  'none',
  'none',
  'none',
  'none',
  'none',
  'none',
  'object-null',
  'object-missing',
  'object-array',
);

export const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    pod: podArb,
    mutations: fc.oneof(
      { weight: 2, arbitrary: fc.constant([] as Mutation[]) },
      { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
    ),
    envelope: envelopeBreak,
    nativeSidecars: fc.boolean(),
    // Short deadlines with huge pods are tested on their own (test/unit/http/timeout.test.ts): on a
    // shared 2-core machine a scheduling pause alone can exceed a few tens of milliseconds.
    timeoutMs: fc.constantFrom(10_000, 10_000, 30_000, 1_000),
    uid: fc.uuid(),
    namespace: fc.constantFrom('default', 'prod', ''),
    openshift: openshiftNamespace,
  })
  .map(({ pod, mutations, envelope, nativeSidecars, timeoutMs, uid, namespace, openshift }) => {
    const object: JsonValue | undefined =
      envelope === 'object-null'
        ? null
        : envelope === 'object-missing'
          ? undefined
          : envelope === 'object-array'
            ? [pod]
            : mutate(pod, mutations);
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        operation: 'CREATE',
        namespace,
        ...(object === undefined ? {} : { object }),
      },
    };
    return {
      body: JSON.stringify(review),
      pod: object,
      pristine: envelope === 'none' && mutations.length === 0,
      nativeSidecars,
      timeoutMs,
      ...(openshift === null ? {} : { openshift }),
    };
  });
