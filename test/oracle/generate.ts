/**
 * Realistic and adversarial injection cases for the differential test against Istio's own
 * injector (fast-check arbitraries: seeded, shrinking). A case is plain data: the workload, the
 * request facts, and the configuration as variations over the Helm-rendered ConfigMaps of a
 * release (see materialise.ts, which turns a case into the texts both implementations read).
 */
import fc from 'fast-check';
import type { JsonObject, JsonValue } from '../../src/core/json.js';

export type Mode = 'webhook' | 'kube-inject';

export interface Settings {
  nativeSidecars: boolean;
  /**
   * Keep the chart's `injectedAnnotations:` with no value (null), as Helm renders it. Otherwise it
   * is written as `{}`, which Istio reads the same way (a nil and an empty map), because our
   * loader refuses the null (a listed difference): without that, every case would be refused.
   */
  nullInjectedAnnotations: boolean;
  platform: '' | 'openshift';
  /** Deep-merged over the release's `values` (JSON). */
  values: JsonObject;
  /** Deep-merged over the release's `mesh` (YAML). */
  mesh: JsonObject;
  /** Keys of the release's `config` replaced (templates are kept). */
  config: JsonObject;
}

export interface Workload {
  kind: 'Pod' | 'Deployment' | 'Job' | 'CronJob' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet';
  name: string;
  /** metadata.namespace of the workload ('' = none). */
  namespace: string;
  /** The pod (metadata + spec), or the pod template for other kinds. */
  template: JsonObject;
}

export interface NamespaceFact {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface OracleCase {
  mode: Mode;
  settings: Settings;
  workload: Workload;
  /** Webhook: request.namespace. */
  requestNamespace: string;
  /** Webhook: the URL path (path parameters become proxy env). */
  path: string;
  /** Namespaces the cluster holds (OpenShift reads their SCC annotations). */
  namespaces: NamespaceFact[];
  /** kube-inject: an extra non-workload document (kept untouched) before the workload. */
  extraDocument: boolean;
  /** kube-inject: wrap the workload in a v1 List. */
  asList: boolean;
}

/**
 * A record with at most `maxKeys` of the given keys (fc.record would include each optional key
 * half of the time: pods would carry a dozen annotations and every case would be refused).
 */
function sparse<T extends Record<string, fc.Arbitrary<unknown>>>(
  arbs: T,
  maxKeys: number,
): fc.Arbitrary<{ [K in keyof T]?: T[K] extends fc.Arbitrary<infer U> ? U : never }> {
  const entries = Object.entries(arbs).map(([k, a]) => a.map((v) => [k, v] as const));
  return fc
    .array(fc.oneof(...entries), { maxLength: maxKeys })
    .map((pairs) => Object.fromEntries(pairs) as never);
}

// ----- small pieces ----------------------------------------------------------------------

const dnsName = fc.constantFrom('app', 'web', 'db-0', 'reviews-v1', 'a', 'x-y-z', 'istio-proxy');
const portNumber = fc.oneof(
  fc.constantFrom(80, 8080, 9080, 15001, 15006, 15020, 15021, 15090, 443, 3306, 1, 65535),
  fc.integer({ min: 1, max: 65535 }),
);
const portName = fc.constantFrom('http', 'http-web', 'grpc', 'tcp', 'metrics', 'https', 'h2c');

const quantity = fc.constantFrom(
  '100m',
  '1',
  '2',
  '0.5',
  '250m',
  '1500m',
  '128Mi',
  '1Gi',
  '512M',
  '1e3',
  '0',
  '64Ki',
);

/** Values Istio's annotations commonly get, plus edge and invalid ones. */
const anyAnnotationValue = fc.constantFrom(
  '',
  'true',
  'false',
  'True',
  'FALSE',
  'yes',
  '1',
  '0',
  'on',
  '*',
  '-1',
  'garbage',
  ' true',
);
const boolish = fc.constantFrom('true', 'false', 'True', 'false ', 'yes', '', '1', 'TRUE', 'f');
const portList = fc.oneof(
  fc.constantFrom('', '*', '80', '80,443', '8080, 9090', '0', '65536', 'abc', '80,', ' 15020'),
  fc.array(portNumber, { minLength: 1, maxLength: 3 }).map((ps) => ps.join(',')),
);
const cidrList = fc.constantFrom(
  '',
  '*',
  '10.0.0.0/8',
  '10.0.0.0/8,172.16.0.0/12',
  '192.168.0.1/32',
  '::1/128',
  '10.0.0.0/33',
  'not-a-cidr',
  '10.0.0.1',
  '0.0.0.0/0',
);

/** Mostly valid: a configuration with an invalid value is refused whole, which hides the rest. */
function mostly<T>(valid: fc.Arbitrary<T>, any: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: valid, weight: 8 }, { arbitrary: any, weight: 1 });
}
const validPortList = fc.constantFrom('', '80', '80,443', '8080,9090', '15020');
const validCidrList = fc.constantFrom(
  '',
  '10.0.0.0/8',
  '10.0.0.0/8,172.16.0.0/12',
  '192.168.0.1/32',
);

const httpGet = fc.record(
  {
    path: fc.constantFrom('/', '/healthz', '/ready?x=1', 'noslash'),
    port: fc.oneof(portNumber, portName),
    scheme: fc.constantFrom('HTTP', 'HTTPS'),
    httpHeaders: fc.constant([{ name: 'X-Probe', value: '1' }]),
  },
  { requiredKeys: ['port'] },
);
const probe = fc
  .record(
    {
      handler: fc.oneof(
        httpGet.map((h) => ({ httpGet: h })),
        fc.record({ port: fc.oneof(portNumber, portName) }).map((t) => ({ tcpSocket: t })),
        fc
          .record(
            { port: portNumber, service: fc.constantFrom('', 'svc') },
            { requiredKeys: ['port'] },
          )
          .map((g) => ({ grpc: g })),
        fc.constant({ exec: { command: ['cat', '/tmp/healthy'] } }),
      ),
      initialDelaySeconds: fc.integer({ min: 0, max: 30 }),
      periodSeconds: fc.integer({ min: 1, max: 30 }),
      timeoutSeconds: fc.integer({ min: 1, max: 10 }),
      failureThreshold: fc.integer({ min: 1, max: 5 }),
    },
    { requiredKeys: ['handler'] },
  )
  .map(({ handler, ...rest }) => ({ ...handler, ...rest }) as JsonObject);

const securityContext = sparse(
  {
    runAsUser: fc.constantFrom(0, 1000, 1337, 101),
    runAsGroup: fc.constantFrom(0, 1000, 1337),
    runAsNonRoot: fc.boolean(),
    privileged: fc.boolean(),
    readOnlyRootFilesystem: fc.boolean(),
    allowPrivilegeEscalation: fc.boolean(),
    capabilities: fc.constantFrom(
      { add: ['NET_ADMIN'] },
      { drop: ['ALL'] },
      { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
    ),
  },
  3,
);

const resources = fc.record(
  {
    requests: fc.record({ cpu: quantity, memory: quantity }, { requiredKeys: [] }),
    limits: fc.record({ cpu: quantity, memory: quantity }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const envVar = fc.oneof(
  fc.record({
    name: fc.constantFrom('FOO', 'PORT', 'ISTIO_META_FOO', 'HTTP_PROXY', 'A'),
    value: fc.constantFrom('', 'bar', '8080', 'with space'),
  }),
  fc.constant({
    name: 'POD_NAME',
    valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
  }),
);

function container(names: fc.Arbitrary<string>): fc.Arbitrary<JsonObject> {
  return fc.record(
    {
      name: names,
      image: fc.constantFrom(
        'nginx',
        'docker.io/istio/examples-bookinfo-details-v1:1.20.2',
        'busybox:1.36',
      ),
      ports: fc.uniqueArray(
        fc.record(
          {
            containerPort: portNumber,
            name: portName,
            protocol: fc.constantFrom('TCP', 'UDP', 'SCTP'),
          },
          { requiredKeys: ['containerPort'] },
        ),
        { maxLength: 3, selector: (p) => p.containerPort },
      ),
      readinessProbe: probe,
      livenessProbe: probe,
      startupProbe: probe,
      securityContext,
      resources,
      env: fc.uniqueArray(envVar, { maxLength: 3, selector: (e) => e.name }),
      volumeMounts: fc.uniqueArray(
        fc.record({
          name: fc.constantFrom('data', 'config', 'istio-envoy'),
          mountPath: fc.constantFrom('/data', '/etc/config', '/var/run/x'),
        }),
        { maxLength: 2, selector: (m) => m.mountPath },
      ),
      command: fc.constant(['sh', '-c', 'sleep 3600']),
      restartPolicy: fc.constant('Always'),
    },
    { requiredKeys: ['name', 'image'] },
  ) as unknown as fc.Arbitrary<JsonObject>;
}

/** An `istio-proxy` (or init) container the user wrote: Istio treats it as overrides. */
const proxyOverride: fc.Arbitrary<JsonObject> = fc.record(
  {
    name: fc.constant('istio-proxy'),
    image: fc.constantFrom('auto', 'custom/proxy:1'),
    resources,
    securityContext,
    // Names the templates set too, with empty values: istiod merges the typed container, where
    // an empty value or a zero probe counter is omitted and leaves the injected one in place.
    env: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('EXTRA', 'FOO', 'PILOT_CERT_PROVIDER', 'ISTIO_META_CLUSTER_ID'),
        value: fc.constantFrom('', '1'),
      }),
      { minLength: 1, maxLength: 3, selector: (e) => e.name },
    ),
    readinessProbe: fc.record(
      {
        initialDelaySeconds: fc.constantFrom(0, 2),
        periodSeconds: fc.constantFrom(0, 5),
        failureThreshold: fc.constantFrom(0, 4),
      },
      { requiredKeys: [] },
    ),
    imagePullPolicy: fc.constantFrom('', 'Always'),
    workingDir: fc.constantFrom('', '/w'),
    args: fc.constantFrom([], ['proxy', 'sidecar']),
    lifecycle: fc.constant({ preStop: { exec: { command: ['sleep', '5'] } } }),
  },
  { requiredKeys: ['name'] },
) as unknown as fc.Arbitrary<JsonObject>;

const volume = fc.oneof(
  fc.constant({ name: 'data', emptyDir: {} }),
  fc.constant({ name: 'config', configMap: { name: 'cm' } }),
  fc.constant({ name: 'istio-envoy', emptyDir: { medium: 'Memory' } }),
  fc.constant({ name: 'secret', secret: { secretName: 's' } }),
);

const userVolumeAnnotation = fc.constantFrom(
  '{"v1":{"emptyDir":{}}}',
  // toYaml must quote what YAML 1.1 would read as a bool or a number.
  '{"v1":{"configMap":{"name":"yes"}}}',
  '{"v1":{"configMap":{"name":"0755"}}}',
  '{"zeta":{"emptyDir":{}},"alpha":{"configMap":{"name":"cm"}}}',
  '[{"name":"v1","emptyDir":{}}]',
  'not json',
  '{}',
);
const userVolumeMountAnnotation = fc.constantFrom(
  '{"v1":{"mountPath":"/v1"}}',
  '{"zeta":{"mountPath":"/z"},"alpha":{"mountPath":"/a","readOnly":true}}',
  '{"v1":{"mountPath":"/v1"}',
  '{}',
);

/**
 * The fields istiod validates in the annotation's ProxyConfig (applied over the built-in
 * defaults, then ValidateMeshConfigProxyConfig), each with valid, edge and invalid values, and
 * fields it does not validate (terminationDrainDuration, concurrency, statNameLength) beside them.
 */
const proxyAddress = fc.constantFrom(
  'istiod.istio-system.svc:15012',
  'istiod:15012',
  'Istiod.istio-system:+15012',
  'istiod.:0080',
  '1.2.3.4:15012',
  '[::1]:15012',
  '[fe80::1%eth0]:15012',
  '[::ffff:1.2.3.4]:80',
  'istiod',
  '::1:15012',
  'istiod:0',
  'istiod:65536',
  'istiod:',
  'a_b:80',
  'foo.123:80',
  'a..b:80',
  '-a:80',
  ':80',
  '01.2.3.4:80',
  '[::1]x:80',
  '',
);
const tracerAddress = fc.oneof(
  proxyAddress,
  fc.constantFrom('$(HOST_IP):9411', '$(HOST_IP)$(HOST_IP):9411', 'zipkin:$(HOST_IP)'),
);
const protoDuration = fc.constantFrom(
  '45s',
  '1s',
  '2m',
  '1000ms',
  '1.5s',
  '1500ms',
  '1500us',
  '1.000000001s',
  '1ms',
  '0.5ms',
  '0s',
  '-1s',
);
const proxyPort = fc.constantFrom(1, 15000, 15021, 65535, '15001', 0, -1, 65536);
const clientTls = sparse(
  {
    mode: fc.constantFrom('DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL', 2, 3, 9, 'BOGUS'),
    clientCertificate: fc.constantFrom('/etc/c.pem', ''),
    privateKey: fc.constantFrom('/etc/k.pem', ''),
    caCertificates: fc.constantFrom('/etc/ca.pem', ''),
    credentialName: fc.constantFrom('tracer-cred', 'configmap://ns/cm', ''),
    subjectAltNames: fc.constantFrom([], ['tracer.example']),
    insecureSkipVerify: fc.boolean(),
    caCrl: fc.constantFrom('/etc/crl.pem', ''),
  },
  4,
);
const tracing = sparse(
  {
    zipkin: sparse({ address: tracerAddress }, 1),
    datadog: sparse({ address: tracerAddress }, 1),
    lightstep: sparse({ address: proxyAddress, accessToken: fc.constantFrom('token', '') }, 2),
    tlsSettings: clientTls,
    sampling: fc.constantFrom(1, 100, 1.5, '10'),
    maxPathTagLength: fc.constantFrom(256, '12', 1.5, -1, 4294967296),
  },
  2,
);
const pollDelay = sparse(
  { pollDelay: fc.constantFrom('10ms', '1m', '1ns', '0s', 'x'), fallback: fc.boolean() },
  2,
);
const validatedProxyConfig = sparse(
  {
    configPath: fc.constantFrom('./etc/istio/proxy', ''),
    binaryPath: fc.constantFrom('/usr/local/bin/envoy', ''),
    serviceCluster: fc.constantFrom('istio-proxy', ''),
    tracingServiceName: fc.constantFrom(
      'APP_LABEL_AND_NAMESPACE',
      'CANONICAL_NAME_ONLY',
      1,
      7,
      'BOGUS',
    ),
    // Enums by number: jsonpb writes a known one back as its name.
    interceptionMode: fc.constantFrom('REDIRECT', 'TPROXY', 'NONE', 1, 2, 'BOGUS'),
    gatewayTopology: sparse(
      {
        forwardClientCertDetails: fc.constantFrom('SANITIZE', 2, 'BOGUS'),
        numTrustedProxies: fc.constantFrom(1, '2'),
      },
      2,
    ),
    drainDuration: protoDuration,
    terminationDrainDuration: protoDuration,
    discoveryAddress: proxyAddress,
    statsdUdpAddress: proxyAddress,
    envoyMetricsServiceAddress: proxyAddress,
    envoyMetricsService: sparse({ address: proxyAddress }, 1),
    envoyAccessLogService: sparse({ address: proxyAddress }, 1),
    proxyAdminPort: proxyPort,
    statusPort: proxyPort,
    controlPlaneAuthPolicy: fc.constantFrom('NONE', 'MUTUAL_TLS', 'INHERIT', 0, 1, 7),
    concurrency: fc.constantFrom(0, 2, -1, null),
    statNameLength: fc.constantFrom(189, 0, -5),
    // Durations jsonpb writes back in seconds (`1m` -> `60s`).
    fileFlushInterval: fc.constantFrom('1m', '5s', '1500ms', 'abc'),
    discoveryRefreshDelay: fc.constantFrom('1s', '2m'),
    // Integer types and ranges jsonpb enforces (uint32 here).
    fileFlushMinSizeKb: fc.constantFrom(64, '7', -1, 4294967296),
    tracing,
    privateKeyProvider: sparse({ cryptomb: pollDelay, qat: pollDelay }, 1),
    connectionSettings: sparse(
      {
        httpIdleTimeout: fc.constantFrom('30s', '1m', '1500ms', '0s', '-1s', 'abc', 5),
        httpMaxConcurrentStreams: fc.constantFrom(100, 0, -1),
        http2InitialStreamWindowSize: fc.constantFrom(65535, 1048576, 100),
        listenerPerConnectionBufferLimitBytes: fc.constantFrom(32768, 0, -1),
        listenerConnectionLimit: fc.constantFrom(1000, 0),
      },
      2,
    ),
  },
  3,
).map((fields) => JSON.stringify(fields));

const proxyConfigAnnotation = fc.oneof(
  validatedProxyConfig,
  fc.constantFrom(
    'holdApplicationUntilProxyStarts: true',
    'holdApplicationUntilProxyStarts: false',
    'concurrency: 4',
    'interceptionMode: TPROXY',
    'proxyMetadata:\n  FOO: bar',
    'terminationDrainDuration: 10s',
    'image:\n  imageType: distroless',
    'statusPort: 15021',
    'tracing:\n  sampling: 10',
    'bogusField: 1',
    'bogusField: 1\nconcurrency: 3',
    'drain_duration: 10s',
    'concurrency: null',
    'parentShutdownDuration: 3s',
    'statsCompression: true',
    'concurrency: x',
    '{}',
    '',
    // Sub-messages: unknown fields at depth, key order against the declaration order, proto names.
    'tracing:\n  sampling: 10\n  bogus: 1',
    'image:\n  imageType: distroless\n  extra: x',
    'tracing:\n  zipkin:\n    address: zipkin.istio-system:9411\n    bogus: 1',
    'tracing:\n  sampling: 5\n  zipkin:\n    address: zipkin.istio-system:9411',
    'tracing:\n  max_path_tag_length: 99',
    'proxyStatsMatcher:\n  inclusionPrefixes: [cluster.outbound]\n  nope: 1',
    'tracing:\n  sampling: x',
    'tracing:\n  lightstep:\n    address: lightstep:8080',
    'terminationDrainDuration: 1m30s',
    'drainDuration: 1.5s',
    // Names printed unquoted (`- name: {{ $key }}`): YAML 1.1 reads `on` as a bool.
    'proxyMetadata:\n  "on": bar',
    'proxyMetadata:\n  "0755": bar',
  ),
);

/** Every annotation Istio's injector and templates read, with valid, edge and invalid values. */
const podAnnotations: fc.Arbitrary<Record<string, string>> = sparse(
  {
    'sidecar.istio.io/inject': boolish,
    'sidecar.istio.io/nativeSidecar': anyAnnotationValue,
    'sidecar.istio.io/proxyCPU': fc.oneof(quantity, fc.constant('lots')),
    'sidecar.istio.io/proxyMemory': fc.oneof(quantity, fc.constant('-1Gi')),
    'sidecar.istio.io/proxyCPULimit': quantity,
    'sidecar.istio.io/proxyMemoryLimit': quantity,
    'sidecar.istio.io/proxyImage': fc.constantFrom('custom/proxy:1', ''),
    'sidecar.istio.io/proxyImageType': fc.constantFrom('distroless', 'debug', 'default', 'x'),
    'sidecar.istio.io/interceptionMode': fc.constantFrom('REDIRECT', 'TPROXY', 'NONE', 'bogus'),
    'sidecar.istio.io/logLevel': fc.constantFrom('debug', 'info', 'warning', 'trace', 'x'),
    'sidecar.istio.io/componentLogLevel': fc.constantFrom('misc:error', 'upstream:debug'),
    'sidecar.istio.io/agentLogLevel': fc.constantFrom('default:debug', 'x'),
    'sidecar.istio.io/rewriteAppHTTPProbers': boolish,
    'sidecar.istio.io/capNetBindService': boolish,
    'sidecar.istio.io/userVolume': userVolumeAnnotation,
    'sidecar.istio.io/userVolumeMount': userVolumeMountAnnotation,
    'sidecar.istio.io/bootstrapOverride': fc.constantFrom('custom-bootstrap', ''),
    'status.sidecar.istio.io/port': fc.constantFrom(
      '15020',
      '0',
      '00',
      ' 15021',
      '15021',
      '99999',
      'x',
    ),
    // Printed unquoted in the template: YAML 1.1 reads `010` as octal 8, `08` as 8.
    'readiness.status.sidecar.istio.io/initialDelaySeconds': fc.constantFrom(
      '1',
      '0',
      '-1',
      'x',
      '010',
      '08',
    ),
    'readiness.status.sidecar.istio.io/periodSeconds': fc.constantFrom('5', '0', 'x', '0755'),
    'readiness.status.sidecar.istio.io/failureThreshold': fc.constantFrom('3', '0', 'x', '07'),
    'apm.datadoghq.com/env': fc.constantFrom('{"DD_ENV":"prod"}', '{"on":"x"}', '{"y":"1"}'),
    'traffic.sidecar.istio.io/includeOutboundIPRanges': cidrList,
    'traffic.sidecar.istio.io/excludeOutboundIPRanges': cidrList,
    'traffic.sidecar.istio.io/includeInboundPorts': portList,
    'traffic.sidecar.istio.io/excludeInboundPorts': portList,
    'traffic.sidecar.istio.io/includeOutboundPorts': portList,
    'traffic.sidecar.istio.io/excludeOutboundPorts': portList,
    'traffic.sidecar.istio.io/excludeInterfaces': fc.constantFrom('eth1', 'eth1,eth2', ''),
    'traffic.sidecar.istio.io/kubevirtInterfaces': fc.constantFrom('net1', ''),
    'istio.io/reroute-virtual-interfaces': fc.constantFrom('net1', 'net1,net2', ''),
    'proxy.istio.io/config': proxyConfigAnnotation,
    'proxy.istio.io/overrides': fc.constantFrom('{"containers":[]}', 'x'),
    'inject.istio.io/templates': fc.constantFrom(
      'sidecar',
      'gateway',
      'grpc-agent',
      'grpc-simple',
      'sidecar,grpc-agent',
      'nosuch',
      '',
    ),
    'prometheus.io/scrape': fc.constantFrom('true', 'false', 'x'),
    'prometheus.io/port': fc.constantFrom('9090', '15020', 'x'),
    'prometheus.io/path': fc.constantFrom('/metrics', '/stats'),
    'prometheus.istio.io/merge-metrics': boolish,
    'sidecar.istio.io/status': fc.constantFrom(
      '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy"],"imagePullSecrets":null}',
      'garbage',
    ),
    'kubectl.kubernetes.io/default-container': fc.constantFrom('app', 'missing'),
    'kubectl.kubernetes.io/default-logs-container': fc.constantFrom('app'),
    'networking.istio.io/tunnel': fc.constantFrom('http', ''),
    'k8s.v1.cni.cncf.io/networks': fc.constantFrom('istio-cni', 'other', 'a, b'),
    'cluster-autoscaler.kubernetes.io/safe-to-evict': fc.constantFrom('true'),
  },
  4,
);

/** Labels Istio reads (injection switch, revision, gateway, canonical service, network). */
const podLabels: fc.Arbitrary<Record<string, string>> = sparse(
  {
    app: fc.constantFrom('reviews', 'web', ''),
    version: fc.constantFrom('v1', 'v2'),
    'sidecar.istio.io/inject': boolish,
    'istio.io/rev': fc.constantFrom('default', 'canary', ''),
    'service.istio.io/canonical-name': fc.constantFrom('svc-name'),
    'service.istio.io/canonical-revision': fc.constantFrom('rev1'),
    'app.kubernetes.io/name': fc.constantFrom('kname'),
    'app.kubernetes.io/version': fc.constantFrom('1.0'),
    'topology.istio.io/network': fc.constantFrom('net-a'),
    'istio.io/dataplane-mode': fc.constantFrom('ambient', 'none'),
    istio: fc.constantFrom('ingressgateway'),
    'security.istio.io/tlsMode': fc.constantFrom('istio'),
  },
  3,
);

const podSpec: fc.Arbitrary<JsonObject> = fc
  .record(
    {
      containers: fc.uniqueArray(container(dnsName.filter((n) => n !== 'istio-proxy')), {
        minLength: 1,
        maxLength: 3,
        selector: (c) => c.name,
      }),
      initContainers: fc.uniqueArray(container(fc.constantFrom('init', 'migrate', 'istio-init')), {
        maxLength: 2,
        selector: (c) => c.name,
      }),
      proxy: fc.option(proxyOverride, { freq: 6 }),
      proxyAsInit: fc.boolean(),
      volumes: fc.uniqueArray(volume, { maxLength: 3, selector: (v) => v.name }),
      hostNetwork: fc.option(fc.boolean(), { freq: 5 }),
      securityContext: fc.record(
        { runAsUser: fc.constantFrom(1000, 0), fsGroup: fc.constantFrom(1337, 2000) },
        { requiredKeys: [] },
      ),
      serviceAccountName: fc.constantFrom('default', 'reviews'),
      imagePullSecrets: fc.constantFrom([], [{ name: 'pull' }]),
      restartPolicy: fc.constantFrom('Always', 'Never', 'OnFailure'),
      dnsPolicy: fc.constantFrom('ClusterFirst', 'ClusterFirstWithHostNet'),
      nodeName: fc.constantFrom('node-1'),
      terminationGracePeriodSeconds: fc.constantFrom(30, 0),
    },
    { requiredKeys: ['containers'] },
  )
  .map(({ proxy, proxyAsInit, hostNetwork, ...spec }) => {
    const out = { ...spec } as unknown as JsonObject;
    if (hostNetwork !== undefined && hostNetwork !== null) out.hostNetwork = hostNetwork;
    if (proxy) {
      if (proxyAsInit)
        out.initContainers = [...((spec.initContainers as JsonValue[]) ?? []), proxy];
      else out.containers = [...(spec.containers as JsonValue[]), proxy];
    }
    return out;
  });

const template: fc.Arbitrary<JsonObject> = fc
  .record({ labels: podLabels, annotations: podAnnotations, spec: podSpec })
  .map(({ labels, annotations, spec }) => {
    const metadata: JsonObject = {};
    if (Object.keys(labels).length > 0) metadata.labels = labels;
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    return { metadata, spec };
  });

const workload: fc.Arbitrary<Workload> = fc.record({
  kind: fc.constantFrom(
    'Pod',
    'Deployment',
    'Job',
    'CronJob',
    'StatefulSet',
    'DaemonSet',
    'ReplicaSet',
  ),
  name: fc.constantFrom('hello', 'reviews-v1', 'job-1', 'istio-ingressgateway'),
  namespace: fc.constantFrom('', 'default', 'test-ns', 'istio-system', 'kube-system', 'bookinfo'),
  template,
});

// ----- configuration ---------------------------------------------------------------------

const selector = fc.constantFrom(
  { matchLabels: { app: 'web' } },
  { matchExpressions: [{ key: 'version', operator: 'In', values: ['v2'] }] },
  { matchExpressions: [{ key: 'app', operator: 'Exists' }] },
  { matchLabels: { 'sidecar.istio.io/inject': 'false' } },
);

const values: fc.Arbitrary<JsonObject> = sparse(
  {
    cni: fc.boolean(),
    cniProvider: fc.constantFrom('default', 'multus'),
    tproxy: fc.constantFrom('REDIRECT', 'TPROXY'),
    hold: fc.boolean(),
    includeIPRanges: mostly(fc.constantFrom('*', '10.0.0.0/8'), cidrList),
    excludeIPRanges: mostly(validCidrList, cidrList),
    includeInboundPorts: mostly(fc.constantFrom('*', '80,8080'), portList),
    excludeInboundPorts: mostly(validPortList, portList),
    excludeOutboundPorts: mostly(validPortList, portList),
    proxyResources: fc.constantFrom(
      {},
      { requests: { cpu: '200m' } },
      { limits: { memory: '2Gi' }, requests: { cpu: '10m', memory: '40Mi' } },
    ),
    imagePullSecrets: fc.constantFrom([], ['pull-a'], ['pull-a', 'pull-b'], ['yes'], ['1_000']),
    pilotCertProvider: fc.constantFrom('istiod', 'kubernetes', 'custom', 'on'),
    // Printed unquoted by the templates (`value: {{ .Values.global.caAddress }}`, `- name: {{ . }}`):
    // a YAML 1.1 bool or number there makes istiod's typed decoding refuse the pod.
    caAddress: fc.constantFrom('', 'istiod.istio-system.svc:15012', 'yes', '0755', 'off'),
    tokenAudience: fc.constantFrom('istio-ca', 'y'),
    trustBundleName: fc.constantFrom('my-root-cert', 'no'),
    privileged: fc.boolean(),
    imagePullPolicy: fc.constantFrom('', 'Always', 'IfNotPresent'),
    logLevel: fc.constantFrom('warning', 'debug'),
    clusterName: fc.constantFrom('', 'cluster-1'),
    network: fc.constantFrom('', 'net-1'),
    meshID: fc.constantFrom('', 'mesh-1'),
    rewriteAppHTTPProbe: fc.boolean(),
    startupProbe: fc.boolean(),
    variant: fc.constantFrom('', 'distroless'),
    statusPort: fc.constantFrom(15020, 15021),
  },
  3,
).map((v) => {
  const proxy: JsonObject = {};
  const global: JsonObject = { proxy };
  const out: JsonObject = { global };
  const set = (o: JsonObject, k: string, x: JsonValue | undefined): void => {
    if (x !== undefined) o[k] = x;
  };
  if (v.cni !== undefined || v.cniProvider !== undefined)
    out.pilot = { cni: { enabled: v.cni ?? false, provider: v.cniProvider ?? 'default' } };
  if (v.tproxy === 'TPROXY') proxy.interceptionMode = 'TPROXY';
  set(proxy, 'holdApplicationUntilProxyStarts', v.hold);
  set(proxy, 'includeIPRanges', v.includeIPRanges);
  set(proxy, 'excludeIPRanges', v.excludeIPRanges);
  set(proxy, 'includeInboundPorts', v.includeInboundPorts);
  set(proxy, 'excludeInboundPorts', v.excludeInboundPorts);
  set(proxy, 'excludeOutboundPorts', v.excludeOutboundPorts);
  set(proxy, 'resources', v.proxyResources);
  set(proxy, 'privileged', v.privileged);
  set(proxy, 'logLevel', v.logLevel);
  set(proxy, 'statusPort', v.statusPort);
  if (v.startupProbe !== undefined)
    proxy.startupProbe = { enabled: v.startupProbe, failureThreshold: 600 };
  set(global, 'imagePullSecrets', v.imagePullSecrets as unknown as JsonValue | undefined);
  set(global, 'pilotCertProvider', v.pilotCertProvider);
  set(global, 'caAddress', v.caAddress);
  set(global, 'trustBundleName', v.trustBundleName);
  if (v.tokenAudience !== undefined) global.sds = { token: { aud: v.tokenAudience } };
  set(global, 'imagePullPolicy', v.imagePullPolicy);
  set(global, 'network', v.network);
  set(global, 'meshID', v.meshID);
  set(global, 'variant', v.variant);
  if (v.clusterName !== undefined) global.multiCluster = { clusterName: v.clusterName };
  if (v.rewriteAppHTTPProbe !== undefined)
    out.sidecarInjectorWebhook = { rewriteAppHTTPProbe: v.rewriteAppHTTPProbe };
  return out;
});

const mesh: fc.Arbitrary<JsonObject> = sparse(
  {
    hold: fc.boolean(),
    interceptionMode: fc.constantFrom('REDIRECT', 'TPROXY'),
    proxyMetadata: fc.constantFrom(
      {},
      { ISTIO_META_DNS_CAPTURE: 'true' },
      { FOO: 'bar' },
      { ON: '1' },
      { n: 'x' },
    ),
    concurrency: fc.constantFrom(0, 2),
    enablePrometheusMerge: fc.boolean(),
    trustDomain: fc.constantFrom('cluster.local', 'example.org'),
    outboundTrafficPolicy: fc.constantFrom('ALLOW_ANY', 'REGISTRY_ONLY'),
  },
  2,
).map((m) => {
  const defaultConfig: JsonObject = {};
  const out: JsonObject = {};
  if (m.hold !== undefined) defaultConfig.holdApplicationUntilProxyStarts = m.hold;
  if (m.interceptionMode !== undefined) defaultConfig.interceptionMode = m.interceptionMode;
  if (m.proxyMetadata !== undefined) defaultConfig.proxyMetadata = m.proxyMetadata;
  if (m.concurrency !== undefined) defaultConfig.concurrency = m.concurrency;
  if (Object.keys(defaultConfig).length > 0) out.defaultConfig = defaultConfig;
  if (m.enablePrometheusMerge !== undefined) out.enablePrometheusMerge = m.enablePrometheusMerge;
  if (m.trustDomain !== undefined) out.trustDomain = m.trustDomain;
  if (m.outboundTrafficPolicy !== undefined)
    out.outboundTrafficPolicy = { mode: m.outboundTrafficPolicy };
  return out;
});

const injectorConfig: fc.Arbitrary<JsonObject> = sparse(
  {
    policy: fc.constantFrom('enabled', 'disabled', 'bogus'),
    neverInjectSelector: fc.array(selector, { maxLength: 2 }),
    alwaysInjectSelector: fc.array(selector, { maxLength: 2 }),
    // `yes` is a boolean to YAML 1.1 readers (Go's) and a string to YAML 1.2 ones.
    injectedAnnotations: mostly(
      fc.constant<Record<string, string>>({ 'example.com/injected': 'on-create' }),
      fc.constant<Record<string, string>>({ 'example.com/injected': 'yes' }),
    ),
    defaultTemplates: fc.constantFrom(['sidecar'], ['sidecar', 'grpc-agent']),
  },
  2,
).map((c) => ({ ...c }) as unknown as JsonObject);

const settings: fc.Arbitrary<Settings> = fc.record({
  nativeSidecars: fc.boolean(),
  nullInjectedAnnotations: fc.oneof(
    { arbitrary: fc.constant(false), weight: 30 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
  platform: fc.constantFrom('' as const, '' as const, 'openshift' as const),
  values,
  mesh,
  config: injectorConfig,
});

export const NAMESPACES: NamespaceFact[] = [
  {
    name: 'test-ns',
    labels: {},
    annotations: {
      'openshift.io/sa.scc.uid-range': '1000620000/10000',
      'openshift.io/sa.scc.supplemental-groups': '1000620000/10000',
    },
  },
  { name: 'bookinfo', labels: { 'istio-injection': 'enabled' }, annotations: {} },
];
const namespaceFacts = fc.constant(NAMESPACES);

const injectPath = fc.constantFrom(
  '/inject',
  '/inject/',
  '/inject/cluster/c1/net/n1',
  '/inject/cluster/c--slash--2',
  '/inject/:ENV:cluster=c3:ENV:net=n3',
  '/inject/odd',
  '/inject/foo/bar',
);

export function caseArbitrary(mode: Mode): fc.Arbitrary<OracleCase> {
  return fc.record({
    mode: fc.constant(mode),
    settings,
    workload,
    requestNamespace: fc.constantFrom('default', 'test-ns', 'bookinfo', 'kube-system'),
    path: mode === 'webhook' ? injectPath : fc.constant('/inject'),
    namespaces: namespaceFacts,
    extraDocument: mode === 'kube-inject' ? fc.boolean() : fc.constant(false),
    asList: mode === 'kube-inject' ? fc.boolean() : fc.constant(false),
  });
}

/** A case written with its default-valued parts left out (as printed and committed), completed. */
export function expandCase(compact: Partial<OracleCase> & { mode: Mode }): OracleCase {
  const s: Partial<Settings> = compact.settings ?? {};
  const w: Partial<Workload> = compact.workload ?? {};
  return {
    mode: compact.mode,
    settings: {
      nativeSidecars: s.nativeSidecars ?? false,
      nullInjectedAnnotations: s.nullInjectedAnnotations ?? false,
      platform: s.platform ?? '',
      values: s.values ?? {},
      mesh: s.mesh ?? {},
      config: s.config ?? {},
    },
    workload: {
      kind: w.kind ?? 'Pod',
      name: w.name ?? 'hello',
      namespace: w.namespace ?? '',
      template: w.template ?? { spec: { containers: [{ name: 'app', image: 'nginx' }] } },
    },
    requestNamespace: compact.requestNamespace ?? 'default',
    path: compact.path ?? '/inject',
    namespaces: NAMESPACES,
    extraDocument: compact.extraDocument ?? false,
    asList: compact.asList ?? false,
  };
}
