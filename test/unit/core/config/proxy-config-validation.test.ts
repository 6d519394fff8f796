import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { proxyAddressError } from '../../../../src/core/config/checks.js';
import { loadInjectionConfigOrThrow } from '../../../../src/core/config/load.js';
import { DEFAULT_MESH } from '../../../../src/core/config/defaults.js';
import { resolveProxyConfig } from '../../../../src/core/proxy-config.js';
import { proxyConfigEnvValue } from '../../../../src/core/render/proxy-config-json.js';

const ANNOTATION = 'proxy.istio.io/config';

function problem(text: string): string | undefined {
  return resolveProxyConfig(DEFAULT_MESH, { [ANNOTATION]: text }).issues[0]?.reason;
}

// Accepted and refused as Istio's injector (master) answers them, read through test/oracle.
describe('proxyAddressError (ValidateProxyAddress)', () => {
  it.each([
    'istiod.istio-system.svc:15012',
    'Istiod:15012',
    'istiod:+80',
    'istiod:080',
    'istiod.:80',
    '1.2.3.4:15012',
    '[::1]:15012',
    '[fe80::1%eth0]:15012',
    '[::ffff:1.2.3.4]:80',
  ])('accepts %j', (address) => {
    expect(proxyAddressError(address)).toBeUndefined();
  });

  it.each([
    ['', 'missing port'],
    ['istiod', 'missing port'],
    ['::1:15012', 'too many colons'],
    ['[::1]x:80', 'missing port'],
    ['istiod:', 'is not a number'],
    ['istiod:0', 'port number 0 must be in the range 1..65535'],
    ['istiod:65536', 'port number 65536'],
    ['istiod:-1', 'port number -1'],
    ['a_b:80', '"a_b" is not a valid hostname or an IP address'],
    ['foo.123:80', '"foo.123" is not'],
    ['a.+1:80', '"a.+1" is not'],
    ['a..b:80', '"a..b" is not'],
    ['-a:80', '"-a" is not'],
    [':80', '"" is not'],
    ['01.2.3.4:80', '"01.2.3.4" is not'],
    ['[fe80::1%]:80', 'is not'],
    [`${'a'.repeat(64)}:80`, 'is not'],
  ])('refuses %j', (address, why) => {
    expect(proxyAddressError(address)).toContain(why);
  });
});

describe('the KEY.proxyConfig annotation as istiod validates it', () => {
  it.each([
    'drainDuration: 1s',
    'drainDuration: 1000ms',
    'drainDuration: 2m',
    // Not validated on the injection path.
    'terminationDrainDuration: 1.5s',
    'terminationDrainDuration: -3s',
    'concurrency: -1',
    'statNameLength: -5',
    'controlPlaneAuthPolicy: 1',
    'controlPlaneAuthPolicy: NONE',
    'tracingServiceName: CANONICAL_NAME_ONLY',
    // A tracingServiceName takes the place of the serviceCluster (one oneof).
    "serviceCluster: ''\ntracingServiceName: APP_LABEL_AND_NAMESPACE",
    "tracing:\n  zipkin:\n    address: '$(HOST_IP):9411'",
    "tracing:\n  datadog:\n    address: '$(HOST_IP):8126'",
    'tracing:\n  lightstep:\n    address: ls:80\n    accessToken: t',
    'tracing:\n  tlsSettings:\n    mode: 2\n    clientCertificate: /c\n    privateKey: /k',
    'tracing:\n  tlsSettings:\n    mode: SIMPLE\n    insecureSkipVerify: true\n    subjectAltNames: []',
    'tracing:\n  customTags:\n    a: null',
    'privateKeyProvider:\n  qat:\n    pollDelay: 10ms',
    'connectionSettings:\n  http2InitialConnectionWindowSize: 65535',
    'connectionSettings:\n  httpDrainTimeout: 0s',
    "envoyMetricsService:\n  address: ''",
  ])('accepts %j', (text) => {
    expect(problem(text)).toBeUndefined();
  });

  it.each([
    ['drainDuration: 1.5s', 'drainDuration: must be whole seconds'],
    ['drainDuration: 1500us', 'drainDuration: must be whole milliseconds'],
    ['drainDuration: 0.5ms', 'drainDuration: must be at least 1ms'],
    ['drainDuration: -1s', 'drainDuration: must be at least 1ms, got "-1s"'],
    ['proxyAdminPort: 0', 'proxyAdminPort: must be a port 1-65535, got 0'],
    ['proxyAdminPort: -1', 'proxyAdminPort: must be a port 1-65535, got -1'],
    ['statusPort: 70000', 'statusPort: must be a port 1-65535, got 70000'],
    ["configPath: ''", 'configPath: must be set'],
    ["binaryPath: ''", 'binaryPath: must be set'],
    ["serviceCluster: ''", 'serviceCluster: must be set'],
    ["discoveryAddress: ''", 'discoveryAddress: must be set'],
    ["discoveryAddress: 'istiod:0'", 'discoveryAddress: port number 0'],
    ['controlPlaneAuthPolicy: INHERIT', 'controlPlaneAuthPolicy: must be NONE or MUTUAL_TLS'],
    ['controlPlaneAuthPolicy: 7', 'got 7'],
    ['envoyMetricsServiceAddress: bad', 'envoyMetricsServiceAddress: expected "host:port"'],
    ['tracing:\n  zipkin: {}', 'tracing.zipkin.address: expected "host:port"'],
    ['tracing:\n  datadog: {}', 'tracing.datadog.address'],
    ['tracing:\n  lightstep:\n    accessToken: t', 'tracing.lightstep.address: is required'],
    ['tracing:\n  lightstep:\n    address: ls:80', 'tracing.lightstep.accessToken: is required'],
    [
      'tracing:\n  tlsSettings:\n    mode: MUTUAL\n    clientCertificate: /c',
      'privateKey: required',
    ],
    [
      'tracing:\n  tlsSettings:\n    mode: SIMPLE\n    insecureSkipVerify: true\n    caCertificates: /x',
      'insecureSkipVerify with mode SIMPLE',
    ],
    ['tracing:\n  tlsSettings:\n    credentialName: configmap://ns/x', 'configmap://'],
    [
      'tracing:\n  tlsSettings:\n    mode: MUTUAL\n    credentialName: c\n    caCrl: x',
      'credentialName excludes',
    ],
    ['privateKeyProvider: {}', 'privateKeyProvider: needs a provider'],
    ['privateKeyProvider:\n  cryptomb: {}', 'privateKeyProvider.cryptomb.pollDelay: is required'],
    ['privateKeyProvider:\n  qat:\n    pollDelay: 0s', 'pollDelay: must be non-zero'],
    ['connectionSettings:\n  httpIdleTimeout: -1s', 'httpIdleTimeout: must not be negative'],
    ['connectionSettings:\n  http2InitialStreamWindowSize: 100', 'must be at least 65535'],
    ['connectionSettings:\n  listenerConnectionLimit: 0', 'must be positive'],
  ])('refuses %j', (text, why) => {
    const reason = problem(text);
    expect(reason).toContain('invalid proxy config: ');
    expect(reason).toContain(why);
  });

  it('validates over the built-in defaults, not over the mesh defaultConfig', () => {
    const mesh = loadInjectionConfigOrThrow({
      mesh: 'defaultConfig:\n  statsdUdpAddress: nohost\n  drainDuration: 2.5s',
    }).mesh;
    const { proxyConfig, issues } = resolveProxyConfig(mesh, { [ANNOTATION]: 'concurrency: 2' });
    expect(issues).toEqual([]);
    expect(proxyConfig.concurrency).toBe(2);
    expect(proxyConfig.drainDuration).toBe('2.500s');
  });

  it('refuses every drainDuration that is not whole seconds, naming it (generated)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 ** 6 }),
        fc.integer({ min: 1, max: 999 }),
        (s, ms) => {
          expect(problem(`drainDuration: ${s}s`)).toBeUndefined();
          expect(problem(`drainDuration: ${s}s${ms}ms`)).toContain(
            `drainDuration: must be whole seconds`,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('sub-message values as istiod reads them', () => {
  it.each([
    [
      'privateKeyProvider: {cryptomb: {pollDelay: 10ms}}',
      'privateKeyProvider.cryptomb.pollDelay',
      '0.010s',
    ],
    ['connectionSettings: {httpIdleTimeout: 1m}', 'connectionSettings.httpIdleTimeout', '60s'],
    ['tracing: {maxPathTagLength: "12"}', 'tracing.maxPathTagLength', 12],
    ['fileFlushInterval: 1m', 'fileFlushInterval', '60s'],
  ])('%j holds %s as jsonpb writes it back', (text, path, want) => {
    const { proxyConfig, issues } = resolveProxyConfig(DEFAULT_MESH, { [ANNOTATION]: text });
    expect(issues).toEqual([]);
    let at: unknown = proxyConfig;
    for (const key of path.split('.')) at = (at as Record<string, unknown>)[key];
    expect(at).toBe(want);
  });

  it.each([
    [
      'connectionSettings: {httpIdleTimeout: abc}',
      'connectionSettings.httpIdleTimeout: expected a duration',
    ],
    ['connectionSettings: {httpIdleTimeout: 5}', 'got 5'],
    [
      'privateKeyProvider: {qat: {pollDelay: x}}',
      'privateKeyProvider.qat.pollDelay: expected a duration',
    ],
  ])('refuses %j', (text, why) => {
    expect(problem(text)).toContain(why);
  });
});

describe('enums and the ClusterName oneof as istiod reads them', () => {
  it.each([
    ['interceptionMode: 2', 'interceptionMode', 'NONE'],
    ['interceptionMode: 5', 'interceptionMode', 5],
    ['tracingServiceName: 1', 'tracingServiceName', 'CANONICAL_NAME_ONLY'],
    ['tracing: {tlsSettings: {mode: 3}}', 'tracing.tlsSettings.mode', 'ISTIO_MUTUAL'],
    [
      'gatewayTopology: {forwardClientCertDetails: 2}',
      'gatewayTopology.forwardClientCertDetails',
      'FORWARD_ONLY',
    ],
  ])('%j holds %s as jsonpb writes it back', (text, path, want) => {
    const { proxyConfig, issues } = resolveProxyConfig(DEFAULT_MESH, { [ANNOTATION]: text });
    expect(issues).toEqual([]);
    let at: unknown = proxyConfig;
    for (const key of path.split('.')) at = (at as Record<string, unknown>)[key];
    expect(at).toBe(want);
  });

  it.each([
    ['tracingServiceName: BOGUS', 'tracingServiceName: expected one of APP_LABEL_AND_NAMESPACE'],
    ['tracing: {tlsSettings: {mode: BOGUS}}', 'tracing.tlsSettings.mode: expected one of DISABLE'],
  ])('refuses %j', (text, why) => {
    expect(problem(text)).toContain(why);
  });

  it('a tracingServiceName replaces the serviceCluster and is printed at its zero value', () => {
    const { proxyConfig, issues } = resolveProxyConfig(DEFAULT_MESH, {
      [ANNOTATION]: "serviceCluster: ''\ntracingServiceName: APP_LABEL_AND_NAMESPACE",
    });
    expect(issues).toEqual([]);
    expect(Object.hasOwn(proxyConfig, 'serviceCluster')).toBe(false);
    expect(proxyConfigEnvValue(proxyConfig)).toBe(
      '{"tracingServiceName":"APP_LABEL_AND_NAMESPACE"}\n',
    );
    const mesh = loadInjectionConfigOrThrow({
      mesh: 'defaultConfig: {tracingServiceName: CANONICAL_NAME_ONLY}',
    }).mesh;
    const back = resolveProxyConfig(mesh, { [ANNOTATION]: 'serviceCluster: svc' }).proxyConfig;
    expect(proxyConfigEnvValue(back)).toBe('{"serviceCluster":"svc"}\n');
  });
});

describe('numbers as their protobuf types hold them', () => {
  it.each([
    [
      'tracing: {maxPathTagLength: 1.5}',
      'tracing.maxPathTagLength: expected an integer 0-4294967295',
    ],
    ['tracing: {maxPathTagLength: -1}', 'got -1'],
    ['gatewayTopology: {numTrustedProxies: 4294967296}', 'gatewayTopology.numTrustedProxies'],
    ['tracing: {sampling: .inf}', 'tracing.sampling: expected a finite number'],
    ['fileFlushMinSizeKb: -1', 'fileFlushMinSizeKb: expected an integer 0-4294967295'],
  ])('refuses %j', (text, why) => {
    expect(problem(text)).toContain(why);
  });

  it.each([
    'tracing: {sampling: -5}',
    'tracing: {sampling: 1e-7}',
    'readinessProbe: {timeoutSeconds: -3}',
    "fileFlushMinSizeKb: '7'",
  ])('accepts %j', (text) => {
    expect(problem(text)).toBeUndefined();
  });
});
