import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MESH,
  DEFAULT_PROXY_CONFIG,
  DEFAULT_VALUES,
} from '../../../../src/core/config/defaults.js';
import { loadInjectionConfigOrThrow } from '../../../../src/core/config/load.js';
import type { ConfigIssue, MeshConfig, Values } from '../../../../src/core/config/types.js';
import {
  holdApplicationUntilProxyStarts,
  parseProxyConfigOverlay,
  resolveProxyConfig,
} from '../../../../src/core/proxy-config.js';
import { PROXY_CONFIG_FIELDS } from '../../../../src/core/config/proxy-config-fields.js';
import { proxyConfigEnvValue } from '../../../../src/core/render/proxy-config-json.js';

const ANNOTATION = 'proxy.istio.io/config';

function meshWith(yaml: string): MeshConfig {
  return loadInjectionConfigOrThrow({ mesh: yaml }).mesh;
}

describe('resolveProxyConfig', () => {
  it('without annotation: built-in defaults under the mesh defaultConfig', () => {
    const { proxyConfig, issues } = resolveProxyConfig(
      meshWith('defaultConfig: {drainDuration: 23s}'),
      {},
    );
    expect(issues).toEqual([]);
    expect(proxyConfig.drainDuration).toBe('23s');
    expect(proxyConfig.statusPort).toBe(15020);
    expect(proxyConfig.binaryPath).toBe(DEFAULT_PROXY_CONFIG.binaryPath);
    expect(proxyConfig.interceptionMode).toBe('REDIRECT');
  });

  it('returns the same frozen object for the same mesh (no per-request merge)', () => {
    const a = resolveProxyConfig(DEFAULT_MESH, {}).proxyConfig;
    const b = resolveProxyConfig(DEFAULT_MESH, { other: 'x' }).proxyConfig;
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('overlays a YAML annotation, merging proxyMetadata key-wise', () => {
    const mesh = meshWith(
      'defaultConfig:\n  proxyMetadata: {ISTIO_META_TLS_CLIENT_KEY: /etc/a}\n  concurrency: 2',
    );
    const { proxyConfig, issues } = resolveProxyConfig(mesh, {
      [ANNOTATION]: 'discoveryAddress: foo:123\nconcurrency: 0\nproxyMetadata:\n  FOO: bar\n',
    });
    expect(issues).toEqual([]);
    expect(proxyConfig.discoveryAddress).toBe('foo:123');
    expect(proxyConfig.concurrency).toBe(0);
    expect(proxyConfig.proxyMetadata).toEqual({ ISTIO_META_TLS_CLIENT_KEY: '/etc/a', FOO: 'bar' });
  });

  it('accepts a JSON annotation and replaces non-map fields', () => {
    const { proxyConfig } = resolveProxyConfig(
      meshWith('defaultConfig: {tracing: {zipkin: {address: z:1}}}'),
      {
        [ANNOTATION]:
          '{"tracing": {}, "interceptionMode": "TPROXY", "holdApplicationUntilProxyStarts": true}',
      },
    );
    expect(proxyConfig.tracing).toEqual({});
    expect(proxyConfig.interceptionMode).toBe('TPROXY');
    expect(proxyConfig.holdApplicationUntilProxyStarts).toBe(true);
  });

  it.each([
    [
      'statusPort: abc',
      'failed to convert to apply proxy config: statusPort: expected a 32-bit integer, got "abc"',
    ],
    ['interceptionMode: BOGUS', 'interceptionMode: expected one of REDIRECT, TPROXY, NONE'],
    [
      'holdApplicationUntilProxyStarts: "yes"',
      'holdApplicationUntilProxyStarts: expected a boolean',
    ],
    ['proxyMetadata: {A: 1}', 'proxyMetadata.A: expected a string, got 1'],
    ['drainDuration: 45', 'drainDuration: expected a duration'],
    ['[1, 2]', 'expected a ProxyConfig map'],
    ['a: [', 'failed to convert to apply proxy config'],
    ['discoveryAddress: ""', 'invalid proxy config: discoveryAddress'],
    ['drainDuration: 0s', 'drainDuration: must be at least 1ms, got "0s"'],
    ['drainDuration: 1.5s', 'drainDuration: must be whole seconds'],
    ['statusPort: 0', 'statusPort: must be a port 1-65535, got 0'],
    ['controlPlaneAuthPolicy: INHERIT', 'controlPlaneAuthPolicy: must be NONE or MUTUAL_TLS'],
    ['discoveryAddress: "a_b:80"', '"a_b" is not a valid hostname or an IP address'],
    ['privateKeyProvider: {}', 'privateKeyProvider: needs a provider'],
    ['tracing: {tlsSettings: {mode: MUTUAL}}', 'tracing.tlsSettings.clientCertificate: required'],
    ['connectionSettings: {httpMaxConcurrentStreams: 0}', 'must be positive, got 0'],
    ['statsdUdpAddress: nope', 'statsdUdpAddress: expected "host:port"'],
    ['envoyMetricsService: {address: nope}', 'envoyMetricsService.address'],
    ['tracing: {zipkin: {address: zipkin}}', 'tracing.zipkin.address: expected "host:port"'],
    ['tracing: {datadog: {address: "dd:x"}}', 'tracing.datadog.address'],
  ])('%j is reported and the mesh-level config is kept', (text, reason) => {
    const { proxyConfig, issues } = resolveProxyConfig(DEFAULT_MESH, { [ANNOTATION]: text });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe(`metadata.annotations[${ANNOTATION}]`);
    expect(issues[0]?.value).toBe(text);
    expect(issues[0]?.reason).toContain(reason);
    expect(proxyConfig.statusPort).toBe(15020);
  });

  it('accepts valid tracer addresses', () => {
    const { issues } = resolveProxyConfig(DEFAULT_MESH, {
      [ANNOTATION]: 'tracing: {zipkin: {address: "zipkin.istio-system:9411"}}',
    });
    expect(issues).toEqual([]);
  });

  it('drops fields ProxyConfig does not declare, as istiod reads the annotation', () => {
    const { proxyConfig, issues } = resolveProxyConfig(DEFAULT_MESH, {
      [ANNOTATION]: 'somethingNew: {a: 1}\nparentShutdownDuration: 3s\nconcurrency: 3',
    });
    expect(issues).toEqual([]);
    expect(Object.hasOwn(proxyConfig, 'somethingNew')).toBe(false);
    expect(Object.hasOwn(proxyConfig, 'parentShutdownDuration')).toBe(false);
    expect(proxyConfig.concurrency).toBe(3);
    expect(proxyConfigEnvValue(proxyConfig)).toBe('{"concurrency":3}\n');
  });

  it('reads proto field names, the JSON name winning, and keeps the value below for null', () => {
    const mesh = meshWith('defaultConfig: {concurrency: 2}');
    const { proxyConfig, issues } = resolveProxyConfig(mesh, {
      [ANNOTATION]: 'drain_duration: 10s\nstatus_port: 15099\nstatusPort: 15021\nconcurrency: null',
    });
    expect(issues).toEqual([]);
    expect(proxyConfig.drainDuration).toBe('10s');
    expect(proxyConfig.statusPort).toBe(15021);
    expect(proxyConfig.concurrency).toBe(2);
    // A proto name is type-checked like the JSON name.
    expect(
      resolveProxyConfig(DEFAULT_MESH, { [ANNOTATION]: 'status_port: x' }).issues,
    ).toHaveLength(1);
  });

  it('drops undeclared fields from any annotation and mesh defaultConfig (generated)', () => {
    const declared = new Set(PROXY_CONFIG_FIELDS.map(([name]) => name));
    const undeclared = fc
      .stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,12}$/)
      .filter((k) => !declared.has(k));
    fc.assert(
      fc.property(
        fc.dictionary(undeclared, fc.oneof(fc.integer(), fc.string(), fc.constant({ a: 1 }))),
        fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }),
        (extra, concurrency) => {
          const overlay = { ...extra, ...(concurrency === undefined ? {} : { concurrency }) };
          const text = JSON.stringify(overlay);
          const { proxyConfig, issues } = resolveProxyConfig(DEFAULT_MESH, { [ANNOTATION]: text });
          expect(issues).toEqual([]);
          for (const k of Object.keys(extra)) expect(Object.hasOwn(proxyConfig, k)).toBe(false);
          expect(proxyConfigEnvValue(proxyConfig)).toBe(
            concurrency === undefined ? '{}\n' : `{"concurrency":${concurrency}}\n`,
          );
          const fromMesh = resolveProxyConfig(meshWith(`defaultConfig: ${text}`), {}).proxyConfig;
          for (const k of Object.keys(extra)) expect(Object.hasOwn(fromMesh, k)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('holdApplicationUntilProxyStarts', () => {
  const valuesWithHold: Values = loadInjectionConfigOrThrow({
    set: ['values.global.proxy.holdApplicationUntilProxyStarts=true'],
  }).values;
  it.each([
    ['nothing set', DEFAULT_MESH, {}, DEFAULT_VALUES, false],
    ['values', DEFAULT_MESH, {}, valuesWithHold, true],
    [
      'mesh defaultConfig',
      meshWith('defaultConfig: {holdApplicationUntilProxyStarts: true}'),
      {},
      DEFAULT_VALUES,
      true,
    ],
    [
      'annotation',
      DEFAULT_MESH,
      { [ANNOTATION]: 'holdApplicationUntilProxyStarts: true' },
      DEFAULT_VALUES,
      true,
    ],
    // The values flag is an OR: an annotation cannot switch it off.
    [
      'annotation false with values true',
      DEFAULT_MESH,
      { [ANNOTATION]: 'holdApplicationUntilProxyStarts: false' },
      valuesWithHold,
      true,
    ],
    [
      'annotation false over mesh true',
      meshWith('defaultConfig: {holdApplicationUntilProxyStarts: true}'),
      { [ANNOTATION]: 'holdApplicationUntilProxyStarts: false' },
      DEFAULT_VALUES,
      false,
    ],
  ] as const)('%s', (_name, mesh, annotations, values, want) => {
    expect(holdApplicationUntilProxyStarts(mesh, annotations, values)).toBe(want);
  });
});

describe('parseProxyConfigOverlay', () => {
  it('parses each annotation text once and hands out the same frozen overlay', () => {
    const text = 'concurrency: 3\nproxyMetadata: {FOO: bar}\n';
    const first: ConfigIssue[] = [];
    const second: ConfigIssue[] = [];
    const a = parseProxyConfigOverlay(text, first);
    const b = parseProxyConfigOverlay(text, second);
    expect(a).toEqual({ concurrency: 3, proxyMetadata: { FOO: 'bar' } });
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect([first, second]).toEqual([[], []]);
  });

  it('reports the problems of a bad text every time it is read', () => {
    for (let i = 0; i < 2; i++) {
      const issues: ConfigIssue[] = [];
      expect(parseProxyConfigOverlay('concurrency: [1', issues)).toBeUndefined();
      expect(issues).toHaveLength(1);
    }
  });
});
