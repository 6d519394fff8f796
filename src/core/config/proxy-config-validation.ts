/**
 * The semantic checks istiod applies to a pod's `KEY.proxyConfig` annotation before injecting:
 * the annotation is applied over Istio's built-in ProxyConfig defaults (not over the mesh's
 * `defaultConfig`) and the result must pass ValidateMeshConfigProxyConfig; any error refuses the
 * injection, warnings do not. Webhook and kube-inject alike (both run RunTemplate).
 * istio/pkg/kube/inject/validate.go validateProxyConfig;
 * istio/pkg/config/validation/agent/validation.go ValidateMeshConfigProxyConfig.
 *
 * Each problem names the field, the value found and why, as `field: text`.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { describeValue, goParseDuration, proxyAddressError } from './checks.js';
import type { ProxyConfig } from './types.js';

const MS = 1_000_000n;
const SECOND = 1_000_000_000n;

/** A Duration field as jsonpb holds it (time.ParseDuration text), in nanoseconds. */
function nanos(value: JsonValue | undefined): bigint | undefined {
  return typeof value === 'string' ? goParseDuration(value) : undefined;
}

/** A wrapper or scalar number as jsonpb reads it (a quoted number is accepted). */
function numberOf(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && !isNaN(Number(value))) {
    return Number(value);
  }
  return undefined;
}

function sub(value: JsonValue | undefined, key: string): JsonValue | undefined {
  return isJsonObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function text(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** agent/validation.go ValidateDrainDuration (ValidateDuration, then whole seconds). */
function drainDurationProblem(value: JsonValue | undefined): string | undefined {
  const ns = nanos(value);
  if (ns === undefined) return undefined;
  const got = `got ${describeValue(value)}`;
  if (ns < MS) return `drainDuration: must be at least 1ms, ${got}`;
  if (ns % MS !== 0n) return `drainDuration: must be whole milliseconds, ${got}`;
  if (ns % SECOND !== 0n) {
    return `drainDuration: must be whole seconds (drain time only supports durations to seconds precision), ${got}`;
  }
  return undefined;
}

function addressProblem(path: string, value: JsonValue | undefined): string | undefined {
  const address = text(value);
  const why = proxyAddressError(address);
  return why === undefined ? undefined : `${path}: ${why}, got ${describeValue(address)}`;
}

function portProblem(path: string, value: JsonValue | undefined): string | undefined {
  const n = numberOf(value) ?? 0;
  return n >= 1 && n <= 65535
    ? undefined
    : `${path}: must be a port 1-65535, got ${describeValue(value ?? 0)}`;
}

/** agent/validation.go ValidateTLS with no configuration namespace (the tracer's TLS settings). */
function tlsProblems(tls: JsonObject, path: string): string[] {
  const out: string[] = [];
  const mode = tls['mode'];
  const simple = mode === 'SIMPLE' || mode === 1;
  const mutual = mode === 'MUTUAL' || mode === 2;
  const credentialName = text(tls['credentialName']);
  const caCertificates = text(tls['caCertificates']);
  const sans = tls['subjectAltNames'];
  const hasSans = Array.isArray(sans) && sans.length > 0;
  // A configmap:// credential must sit in the configuration's namespace; here there is none.
  if (credentialName.startsWith('configmap://')) {
    out.push(
      `${path}.credentialName: ${describeValue(credentialName)}: a configmap:// credential needs the configuration's namespace, which a proxy config has not`,
    );
  }
  if (tls['insecureSkipVerify'] === true) {
    if (simple && (caCertificates !== '' || credentialName !== '' || hasSans)) {
      out.push(
        `${path}: insecureSkipVerify with mode SIMPLE excludes caCertificates, credentialName and subjectAltNames`,
      );
    }
    if (mutual && (caCertificates !== '' || hasSans)) {
      out.push(
        `${path}: insecureSkipVerify with mode MUTUAL excludes caCertificates and subjectAltNames`,
      );
    }
  }
  if ((simple || mutual) && credentialName !== '') {
    const fileFields = ['clientCertificate', 'caCertificates', 'privateKey', 'caCrl'];
    if (fileFields.some((f) => text(tls[f]) !== '')) {
      out.push(`${path}: credentialName excludes ${fileFields.join(', ')}`);
    }
    return out;
  }
  if (mutual) {
    if (text(tls['clientCertificate']) === '') {
      out.push(`${path}.clientCertificate: required for mode MUTUAL`);
    }
    if (text(tls['privateKey']) === '') out.push(`${path}.privateKey: required for mode MUTUAL`);
  }
  return out;
}

function tracingProblems(tracing: JsonValue | undefined): string[] {
  const out: string[] = [];
  const lightstep = sub(tracing, 'lightstep');
  if (isJsonObject(lightstep)) {
    const address = text(lightstep['address']);
    if (address === '') out.push('tracing.lightstep.address: is required');
    else {
      const problem = addressProblem('tracing.lightstep.address', address);
      if (problem !== undefined) out.push(problem);
    }
    if (text(lightstep['accessToken']) === '') {
      out.push('tracing.lightstep.accessToken: is required');
    }
  }
  // Zipkin and Datadog addresses may start with the node's IP, filled in by the agent.
  for (const tracer of ['zipkin', 'datadog']) {
    const config = sub(tracing, tracer);
    if (!isJsonObject(config)) continue;
    const address = text(config['address']);
    const why = proxyAddressError(address.replace('$(HOST_IP)', '127.0.0.1'));
    if (why !== undefined) {
      out.push(`tracing.${tracer}.address: ${why}, got ${describeValue(address)}`);
    }
  }
  const tls = sub(tracing, 'tlsSettings');
  if (isJsonObject(tls)) out.push(...tlsProblems(tls, 'tracing.tlsSettings'));
  return out;
}

function privateKeyProviderProblems(provider: JsonValue | undefined): string[] {
  if (provider === undefined) return [];
  const name = ['cryptomb', 'qat'].find((p) => isJsonObject(sub(provider, p)));
  if (name === undefined) {
    return ['privateKeyProvider: needs a provider (cryptomb or qat)'];
  }
  const pollDelay = sub(sub(provider, name), 'pollDelay');
  if (pollDelay === undefined) return [`privateKeyProvider.${name}.pollDelay: is required`];
  if (nanos(pollDelay) === 0n) {
    return [
      `privateKeyProvider.${name}.pollDelay: must be non-zero, got ${describeValue(pollDelay)}`,
    ];
  }
  return [];
}

/** agent/validation.go validateConnectionSettings: limits, timeouts and HTTP/2 windows. */
const CONNECTION_LIMITS: readonly (readonly [field: string, kind: 'n' | 'd', minimum: number])[] = [
  ['listenerPerConnectionBufferLimitBytes', 'n', 0],
  ['clusterPerConnectionBufferLimitBytes', 'n', 0],
  ['httpIdleTimeout', 'd', 0],
  ['httpMaxConnectionDuration', 'd', 0],
  ['httpDrainTimeout', 'd', 0],
  ['httpRequestTimeout', 'd', 0],
  ['httpRequestHeadersTimeout', 'd', 0],
  ['httpStreamIdleTimeout', 'd', 0],
  ['httpMaxStreamDuration', 'd', 0],
  ['httpMaxConcurrentStreams', 'n', 1],
  ['http2InitialStreamWindowSize', 'n', 65535],
  ['http2InitialConnectionWindowSize', 'n', 65535],
  ['listenerConnectionLimit', 'n', 1],
  ['globalDownstreamConnectionLimit', 'n', 1],
];

function connectionSettingsProblems(settings: JsonValue | undefined): string[] {
  if (!isJsonObject(settings)) return [];
  const out: string[] = [];
  for (const [field, kind, minimum] of CONNECTION_LIMITS) {
    const value = settings[field];
    if (value === undefined || value === null) continue;
    const below = kind === 'd' ? (nanos(value) ?? 0n) < 0n : (numberOf(value) ?? minimum) < minimum;
    if (!below) continue;
    const want =
      minimum === 0
        ? 'must not be negative'
        : minimum === 1
          ? 'must be positive'
          : `must be at least ${minimum}`;
    out.push(`connectionSettings.${field}: ${want}, got ${describeValue(value)}`);
  }
  return out;
}

/** Every problem ValidateMeshConfigProxyConfig reports for `config` (defaults + annotation). */
export function proxyConfigProblems(config: ProxyConfig): string[] {
  const c = config as JsonObject;
  const problems: (string | undefined)[] = [];
  if (text(c['configPath']) === '') problems.push('configPath: must be set');
  if (text(c['binaryPath']) === '') problems.push('binaryPath: must be set');
  // ClusterName is a oneof: a tracingServiceName replaces the serviceCluster.
  if (c['tracingServiceName'] === undefined && text(c['serviceCluster']) === '') {
    problems.push('serviceCluster: must be set (or tracingServiceName)');
  }
  problems.push(drainDurationProblem(c['drainDuration']));
  // Mutual TLS relies on the discovery service: its address is mandatory.
  if (text(c['discoveryAddress']) === '') problems.push('discoveryAddress: must be set');
  else problems.push(addressProblem('discoveryAddress', c['discoveryAddress']));
  problems.push(...tracingProblems(c['tracing']));
  for (const field of ['statsdUdpAddress', 'envoyMetricsServiceAddress']) {
    if (text(c[field]) !== '') problems.push(addressProblem(field, c[field]));
  }
  for (const service of ['envoyMetricsService', 'envoyAccessLogService']) {
    const address = sub(c[service], 'address');
    if (text(address) !== '') problems.push(addressProblem(`${service}.address`, address));
  }
  problems.push(portProblem('proxyAdminPort', c['proxyAdminPort']));
  const policy = c['controlPlaneAuthPolicy'] ?? 'NONE';
  if (!['NONE', 'MUTUAL_TLS', 0, 1].includes(policy as string | number)) {
    problems.push(
      `controlPlaneAuthPolicy: must be NONE or MUTUAL_TLS, got ${describeValue(policy)}`,
    );
  }
  problems.push(portProblem('statusPort', c['statusPort']));
  problems.push(...privateKeyProviderProblems(c['privateKeyProvider']));
  problems.push(...connectionSettingsProblems(c['connectionSettings']));
  return problems.filter((p): p is string => p !== undefined);
}
