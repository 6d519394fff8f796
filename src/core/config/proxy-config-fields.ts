/**
 * The fields of istio.mesh.v1alpha1.ProxyConfig, in declaration order, and how istiod reads a
 * ProxyConfig text (the `KEY.proxyConfig` annotation, mesh `defaultConfig`): through
 * protomarshal.ApplyYAML, i.e. golang/protobuf's jsonpb, which accepts a field under its proto
 * name (`drain_duration`) or its JSON name (`drainDuration`, which wins when both are given),
 * skips a field whose value is `null` (the field below is kept) and, on its retry with
 * AllowUnknownFields, drops every field the message does not declare.
 * Fields: https://github.com/istio/api/blob/master/mesh/v1alpha1/proxy.proto
 * Reading: istio/pkg/util/protomarshal/protomarshal.go ApplyJSON; golang/protobuf jsonpb/decode.go.
 */
import { isJsonObject, setOwn, type JsonObject, type JsonValue } from '../json.js';
import { describeValue, goParseDuration, protoDurationText } from './checks.js';

export type ProxyConfigFieldKind = 'scalar' | 'wrapper' | 'enum' | 'message' | 'map' | 'list';

/** JSON name, protobuf kind, and for enums the zero value (printed only when non-zero). */
export const PROXY_CONFIG_FIELDS: readonly (readonly [string, ProxyConfigFieldKind, string?])[] = [
  ['configPath', 'scalar'],
  ['binaryPath', 'scalar'],
  ['serviceCluster', 'scalar'],
  ['tracingServiceName', 'enum', 'APP_LABEL_AND_NAMESPACE'],
  ['drainDuration', 'message'],
  ['discoveryAddress', 'scalar'],
  ['discoveryRefreshDelay', 'message'],
  ['zipkinAddress', 'scalar'],
  ['statsdUdpAddress', 'scalar'],
  ['envoyMetricsServiceAddress', 'scalar'],
  ['proxyAdminPort', 'scalar'],
  ['availabilityZone', 'scalar'],
  ['controlPlaneAuthPolicy', 'enum', 'NONE'],
  ['customConfigFile', 'scalar'],
  ['statNameLength', 'scalar'],
  ['concurrency', 'wrapper'],
  ['proxyBootstrapTemplatePath', 'scalar'],
  ['interceptionMode', 'enum', 'REDIRECT'],
  ['tracing', 'message'],
  ['sds', 'message'],
  ['envoyAccessLogService', 'message'],
  ['envoyMetricsService', 'message'],
  ['proxyMetadata', 'map'],
  ['runtimeValues', 'map'],
  ['statusPort', 'scalar'],
  ['extraStatTags', 'list'],
  ['gatewayTopology', 'message'],
  ['terminationDrainDuration', 'message'],
  ['meshId', 'scalar'],
  ['readinessProbe', 'message'],
  ['proxyStatsMatcher', 'message'],
  ['holdApplicationUntilProxyStarts', 'wrapper'],
  ['caCertificatesPem', 'list'],
  ['image', 'message'],
  ['privateKeyProvider', 'message'],
  ['proxyHeaders', 'message'],
  ['fileFlushInterval', 'message'],
  ['fileFlushMinSizeKb', 'scalar'],
  ['statsCompression', 'wrapper'],
  ['connectionSettings', 'message'],
];

/** The proto name protoc derives the JSON name from (`fileFlushMinSizeKb` <- `file_flush_min_size_kb`). */
function protoName(jsonName: string): string {
  return jsonName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const NAMES: readonly (readonly [json: string, proto: string])[] = PROXY_CONFIG_FIELDS.map(
  ([name]) => [name, protoName(name)],
);

/**
 * The sub-messages of ProxyConfig, field by field in declaration order: JSON name, kind, and the
 * message type of a message, map or list of messages (`s` string, `n` number, `b` bool, `e` enum
 * with its zero value, `w` wrapper and `d` Duration: kept when set, `m` message, `map`, `list`). A
 * `oneof` group name marks fields of which jsonpb keeps only the last one set.
 * https://github.com/istio/api/blob/master/mesh/v1alpha1/proxy.proto, networking/v1alpha3
 * destination_rule.proto (ClientTLSSettings, TcpKeepalive) and workload_group.proto
 * (ReadinessProbe), networking/v1beta1/proxy_config.proto (ProxyImage).
 */
type SubKind = 's' | 'n' | 'b' | 'e' | 'w' | 'd' | 'm' | 'map' | 'list';
type SubField = readonly [json: string, kind: SubKind, type?: string, oneof?: string];

const W = 'w';

const FORWARD_CLIENT_CERT = [
  'UNDEFINED',
  'SANITIZE',
  'FORWARD_ONLY',
  'APPEND_FORWARD',
  'SANITIZE_SET',
  'ALWAYS_FORWARD_ONLY',
];

/**
 * The value names of each sub-message enum, by number: jsonpb reads a name or a number and writes
 * a known number back as its name; it refuses an unknown name (an unknown number is kept).
 */
const ENUM_NAMES: ReadonlyMap<string, readonly string[]> = new Map([
  ['ClientTLSSettings.mode', ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']],
  ['Topology.forwardClientCertDetails', FORWARD_CLIENT_CERT],
  ['ProxyHeaders.forwardedClientCert', FORWARD_CLIENT_CERT],
  ['MetadataExchangeHeaders.mode', ['UNDEFINED', 'IN_MESH']],
  ['ConnectionSettings.profile', ['SIDECAR', 'EDGE']],
  [
    'ConnectionSettings.httpHeadersWithUnderscoresAction',
    [
      'HEADERS_WITH_UNDERSCORES_UNSPECIFIED',
      'HEADERS_WITH_UNDERSCORES_ALLOW',
      'HEADERS_WITH_UNDERSCORES_REJECT_REQUEST',
      'HEADERS_WITH_UNDERSCORES_DROP_HEADER',
    ],
  ],
  [
    'ConnectionSettings.httpPathWithEscapedSlashesAction',
    [
      'PATH_WITH_ESCAPED_SLASHES_UNSPECIFIED',
      'KEEP_UNCHANGED',
      'REJECT_REQUEST',
      'UNESCAPE_AND_REDIRECT',
      'UNESCAPE_AND_FORWARD',
    ],
  ],
]);

/** Why jsonpb refuses an enum name (it is not one of the enum's), or undefined. */
function unknownEnumName(type: string, json: string, v: JsonValue): string | undefined {
  const names = ENUM_NAMES.get(`${type}.${json}`);
  if (names === undefined || typeof v !== 'string' || names.includes(v)) return undefined;
  return `expected one of ${names.join(', ')}, got ${describeValue(v)}`;
}

const UINT32: readonly [number, number] = [0, 4294967295];
const INT32: readonly [number, number] = [-2147483648, 2147483647];

/** The integer fields among the sub-messages' numbers (the others are doubles), with their range. */
const INTEGER_RANGES: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['Tracing.maxPathTagLength', UINT32],
  ['Topology.numTrustedProxies', UINT32],
  ['TcpKeepalive.probes', UINT32],
  ['HTTPHealthCheckConfig.port', UINT32],
  ['TCPHealthCheckConfig.port', UINT32],
  ['GrpcHealthCheckConfig.port', UINT32],
  ...[
    'initialDelaySeconds',
    'timeoutSeconds',
    'periodSeconds',
    'successThreshold',
    'failureThreshold',
  ].map((f): [string, readonly [number, number]] => [`ReadinessProbe.${f}`, INT32]),
]);

/** Why jsonpb refuses a number: not finite, or not an integer in the field's range. */
function numberProblem(type: string, json: string, v: JsonValue): string | undefined {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return `expected a finite number, got ${describeValue(v)}`;
  const range = INTEGER_RANGES.get(`${type}.${json}`);
  if (range === undefined || (Number.isInteger(n) && n >= range[0] && n <= range[1])) {
    return undefined;
  }
  return `expected an integer ${range[0]}-${range[1]}, got ${describeValue(v)}`;
}

/** Why jsonpb refuses an enum name or a number of the right shape, or undefined. */
function scalarProblem(
  kind: SubKind,
  type: string,
  json: string,
  v: JsonValue,
): string | undefined {
  if (kind === 'e') return unknownEnumName(type, json, v);
  return kind === 'n' ? numberProblem(type, json, v) : undefined;
}

/** An enum value as jsonpb writes it back: a known number as its name. */
function enumValue(type: string, json: string, v: JsonValue): JsonValue {
  if (typeof v !== 'number') return v;
  return ENUM_NAMES.get(`${type}.${json}`)?.[v] ?? v;
}
const MESSAGES: ReadonlyMap<string, readonly SubField[]> = new Map<string, readonly SubField[]>([
  [
    'Tracing',
    [
      ['zipkin', 'm', 'Zipkin', 'tracer'],
      ['lightstep', 'm', 'Lightstep', 'tracer'],
      ['datadog', 'm', 'Datadog', 'tracer'],
      ['stackdriver', 'm', 'Stackdriver', 'tracer'],
      ['openCensusAgent', 'm', 'OpenCensusAgent', 'tracer'],
      ['customTags', 'map', 'CustomTag'],
      ['maxPathTagLength', 'n'],
      ['sampling', 'n'],
      ['tlsSettings', 'm', 'ClientTLSSettings'],
      ['enableIstioTags', W],
    ],
  ],
  ['Zipkin', [['address', 's']]],
  [
    'Lightstep',
    [
      ['address', 's'],
      ['accessToken', 's'],
    ],
  ],
  ['Datadog', [['address', 's']]],
  [
    'Stackdriver',
    [
      ['debug', 'b'],
      ['maxNumberOfAttributes', W],
      ['maxNumberOfAnnotations', W],
      ['maxNumberOfMessageEvents', W],
    ],
  ],
  [
    'OpenCensusAgent',
    [
      ['address', 's'],
      ['context', 'list'],
    ],
  ],
  [
    'CustomTag',
    [
      ['literal', 'm', 'Literal', 'type'],
      ['environment', 'm', 'NameDefault', 'type'],
      ['header', 'm', 'NameDefault', 'type'],
    ],
  ],
  ['Literal', [['value', 's']]],
  [
    'NameDefault',
    [
      ['name', 's'],
      ['defaultValue', 's'],
    ],
  ],
  [
    'SDS',
    [
      ['enabled', 'b'],
      ['k8sSaJwtPath', 's'],
    ],
  ],
  [
    'Topology',
    [
      ['numTrustedProxies', 'n'],
      ['forwardClientCertDetails', 'e', 'UNDEFINED'],
      ['proxyProtocol', 'm', 'Empty'],
    ],
  ],
  ['Empty', []],
  [
    'RemoteService',
    [
      ['address', 's'],
      ['tlsSettings', 'm', 'ClientTLSSettings'],
      ['tcpKeepalive', 'm', 'TcpKeepalive'],
    ],
  ],
  [
    'ClientTLSSettings',
    [
      ['mode', 'e', 'DISABLE'],
      ['clientCertificate', 's'],
      ['privateKey', 's'],
      ['caCertificates', 's'],
      ['credentialName', 's'],
      ['subjectAltNames', 'list'],
      ['sni', 's'],
      ['insecureSkipVerify', W],
      ['caCrl', 's'],
    ],
  ],
  [
    'TcpKeepalive',
    [
      ['probes', 'n'],
      ['time', 'd'],
      ['interval', 'd'],
    ],
  ],
  [
    'ReadinessProbe',
    [
      ['initialDelaySeconds', 'n'],
      ['timeoutSeconds', 'n'],
      ['periodSeconds', 'n'],
      ['successThreshold', 'n'],
      ['failureThreshold', 'n'],
      ['httpGet', 'm', 'HTTPHealthCheckConfig', 'method'],
      ['tcpSocket', 'm', 'TCPHealthCheckConfig', 'method'],
      ['exec', 'm', 'ExecHealthCheckConfig', 'method'],
      ['grpc', 'm', 'GrpcHealthCheckConfig', 'method'],
    ],
  ],
  [
    'HTTPHealthCheckConfig',
    [
      ['path', 's'],
      ['port', 'n'],
      ['host', 's'],
      ['scheme', 's'],
      ['httpHeaders', 'list', 'HTTPHeader'],
    ],
  ],
  [
    'HTTPHeader',
    [
      ['name', 's'],
      ['value', 's'],
    ],
  ],
  [
    'TCPHealthCheckConfig',
    [
      ['host', 's'],
      ['port', 'n'],
    ],
  ],
  ['ExecHealthCheckConfig', [['command', 'list']]],
  [
    'GrpcHealthCheckConfig',
    [
      ['port', 'n'],
      ['service', 's'],
    ],
  ],
  [
    'ProxyStatsMatcher',
    [
      ['inclusionPrefixes', 'list'],
      ['inclusionSuffixes', 'list'],
      ['inclusionRegexps', 'list'],
    ],
  ],
  ['ProxyImage', [['imageType', 's']]],
  [
    'PrivateKeyProvider',
    [
      ['cryptomb', 'm', 'PollFallback', 'provider'],
      ['qat', 'm', 'PollFallback', 'provider'],
    ],
  ],
  [
    'PollFallback',
    [
      ['pollDelay', 'd'],
      ['fallback', W],
    ],
  ],
  [
    'ProxyHeaders',
    [
      ['forwardedClientCert', 'e', 'UNDEFINED'],
      ['setCurrentClientCertDetails', 'm', 'SetCurrentClientCertDetails'],
      ['requestId', 'm', 'Disabled'],
      ['server', 'm', 'Server'],
      ['attemptCount', 'm', 'Disabled'],
      ['envoyDebugHeaders', 'm', 'Disabled'],
      ['metadataExchangeHeaders', 'm', 'MetadataExchangeHeaders'],
      ['preserveHttp1HeaderCase', W],
      ['xForwardedHost', 'm', 'Enabled'],
      ['xForwardedPort', 'm', 'Enabled'],
    ],
  ],
  ['Disabled', [['disabled', W]]],
  ['Enabled', [['enabled', W]]],
  [
    'Server',
    [
      ['disabled', W],
      ['value', 's'],
    ],
  ],
  ['MetadataExchangeHeaders', [['mode', 'e', 'UNDEFINED']]],
  [
    'SetCurrentClientCertDetails',
    [
      ['subject', W],
      ['cert', W],
      ['chain', W],
      ['dns', W],
      ['uri', W],
    ],
  ],
  [
    'ConnectionSettings',
    [
      ['profile', 'e', 'SIDECAR'],
      ['listenerPerConnectionBufferLimitBytes', W],
      ['clusterPerConnectionBufferLimitBytes', W],
      ['httpIdleTimeout', 'd'],
      ['httpMaxConnectionDuration', 'd'],
      ['httpDrainTimeout', 'd'],
      ['httpRequestTimeout', 'd'],
      ['httpRequestHeadersTimeout', 'd'],
      ['httpStreamIdleTimeout', 'd'],
      ['httpMaxStreamDuration', 'd'],
      ['httpMaxConcurrentStreams', W],
      ['http2InitialStreamWindowSize', W],
      ['http2InitialConnectionWindowSize', W],
      ['httpHeadersWithUnderscoresAction', 'e', 'HEADERS_WITH_UNDERSCORES_UNSPECIFIED'],
      ['httpMergeSlashes', W],
      ['httpPathWithEscapedSlashesAction', 'e', 'PATH_WITH_ESCAPED_SLASHES_UNSPECIFIED'],
      ['listenerConnectionLimit', W],
      ['globalDownstreamConnectionLimit', W],
    ],
  ],
]);

/** The message type of each top-level message field that is not a well-known type. */
const TOP_MESSAGES: ReadonlyMap<string, string> = new Map([
  ['tracing', 'Tracing'],
  ['sds', 'SDS'],
  ['envoyAccessLogService', 'RemoteService'],
  ['envoyMetricsService', 'RemoteService'],
  ['gatewayTopology', 'Topology'],
  ['readinessProbe', 'ReadinessProbe'],
  ['proxyStatsMatcher', 'ProxyStatsMatcher'],
  ['image', 'ProxyImage'],
  ['privateKeyProvider', 'PrivateKeyProvider'],
  ['proxyHeaders', 'ProxyHeaders'],
  ['connectionSettings', 'ConnectionSettings'],
]);

/** Compiled per message: [JSON name, proto name, kind, message type, oneof, enum zero]. */
const COMPILED: ReadonlyMap<
  string,
  readonly (readonly [
    string,
    string,
    SubKind,
    string | undefined,
    string | undefined,
    string | undefined,
  ])[]
> = new Map(
  [...MESSAGES].map(([name, fields]) => [
    name,
    fields.map(([json, kind, type, oneof]) => {
      const zero = kind === 'e' ? type : undefined;
      const sub = kind === 'e' ? undefined : type;
      return [json, protoName(json), kind, sub, oneof, zero] as const;
    }),
  ]),
);

/** A field's value read from the JSON name, else the proto name (jsonpb: the JSON name wins). */
function fieldValue(obj: JsonObject, json: string, proto: string): JsonValue | undefined {
  if (Object.hasOwn(obj, json)) return obj[json];
  return Object.hasOwn(obj, proto) ? obj[proto] : undefined;
}

/** proto3's zero value of a scalar, enum or collection: jsonpb reads it as unset. */
function isZeroValue(value: JsonValue, kind: SubKind, zero: string | undefined): boolean {
  switch (kind) {
    case 's':
    case 'n':
    case 'b':
      return value === '' || value === 0 || value === false;
    case 'e':
      return value === zero || value === 0;
    case 'map':
      return isJsonObject(value) && Object.keys(value).length === 0;
    case 'list':
      return Array.isArray(value) && value.length === 0;
    case 'w':
    case 'd':
    case 'm':
      return false;
  }
}

/**
 * A sub-message as jsonpb reads it and writes it back (protoToJSON): declared fields only, under
 * their JSON names, in declaration order; nulls, zero values and all but the last member of a
 * oneof left out. A value of the wrong shape is kept as it is (the type checks name it).
 */
function readMessage(type: string, value: JsonValue): JsonValue {
  const fields = COMPILED.get(type);
  if (fields === undefined || !isJsonObject(value)) return value;
  const out: JsonObject = {};
  const oneofs = new Map<string, string>();
  for (const [json, proto, kind, sub, oneof, zero] of fields) {
    const v = fieldValue(value, json, proto);
    if (v === undefined || v === null) continue;
    if (oneof !== undefined) {
      const before = oneofs.get(oneof);
      if (before !== undefined) delete out[before];
      oneofs.set(oneof, json);
    }
    const read = kind === 'e' ? enumValue(type, json, v) : readField(kind, sub, v);
    if (isZeroValue(read, kind, zero)) continue;
    out[json] = read;
  }
  return out;
}

function readField(kind: SubKind, sub: string | undefined, v: JsonValue): JsonValue {
  // jsonpb writes a Duration back as seconds (`1m` -> `60s`) and a quoted number as a number.
  if (kind === 'd' && typeof v === 'string') {
    const ns = goParseDuration(v);
    return ns === undefined ? v : protoDurationText(ns);
  }
  if (kind === 'n' && typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v))) {
    return Number(v);
  }
  if (sub === undefined) return v;
  if (kind === 'm') return readMessage(sub, v);
  if (kind === 'list' && Array.isArray(v)) return v.map((e) => readMessage(sub, e));
  if (kind === 'map' && isJsonObject(v)) {
    const out: JsonObject = {};
    for (const [k, e] of Object.entries(v))
      if (e !== null && e !== undefined) setOwn(out, k, readMessage(sub, e));
    return out;
  }
  return v;
}

/** Whether jsonpb accepts `v` for a field of this kind (a number may be quoted, as jsonpb allows). */
function shapeOk(kind: SubKind, v: JsonValue): boolean {
  switch (kind) {
    case 's':
      return typeof v === 'string';
    case 'n':
      return (
        typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v)))
      );
    case 'b':
      return typeof v === 'boolean';
    case 'e':
      return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
    case 'w':
      return typeof v !== 'object';
    case 'd':
      return typeof v === 'string' && goParseDuration(v) !== undefined;
    case 'm':
    case 'map':
      return isJsonObject(v);
    case 'list':
      return Array.isArray(v);
  }
}

function messageProblems(type: string, value: JsonValue, path: string, out: string[]): void {
  const fields = COMPILED.get(type);
  if (fields === undefined) return;
  if (!isJsonObject(value)) {
    out.push(`${path}: expected a map`);
    return;
  }
  for (const [json, proto, kind, sub] of fields) {
    const v = fieldValue(value, json, proto);
    if (v === undefined || v === null) continue;
    const at = `${path}.${json}`;
    if (!shapeOk(kind, v)) {
      const want =
        kind === 'd' ? 'a duration such as "45s" or "1m"' : kind === 'list' ? 'a list' : 'a value';
      out.push(`${at}: expected ${want} for this field, got ${describeValue(v)}`);
      continue;
    }
    const unknown = scalarProblem(kind, type, json, v);
    if (unknown !== undefined) {
      out.push(`${at}: ${unknown}`);
      continue;
    }
    if (sub === undefined) {
      if (kind === 'list' && (v as JsonValue[]).some((e) => typeof e !== 'string'))
        out.push(`${at}: expected a list of strings`);
      continue;
    }
    if (kind === 'm') messageProblems(sub, v, at, out);
    else if (kind === 'list')
      (v as JsonValue[]).forEach((e, i) => messageProblems(sub, e, `${at}[${i}]`, out));
    else if (kind === 'map')
      for (const [k, e] of Object.entries(v as JsonObject))
        if (e !== null && e !== undefined) messageProblems(sub, e, `${at}.${k}`, out);
  }
}

/**
 * Values of the sub-messages that jsonpb refuses (a string where a number or a map belongs, a
 * map where a string does): both its strict read and its retry fail, so istiod refuses the text.
 * jsonpb/decode.go unmarshalSingularValue.
 */
export function subMessageProblems(overlay: JsonObject): string[] {
  const out: string[] = [];
  for (const [json, proto] of NAMES) {
    const type = TOP_MESSAGES.get(json);
    if (type === undefined) continue;
    const value = fieldValue(overlay, json, proto);
    if (value !== undefined && value !== null) messageProblems(type, value, json, out);
  }
  return out;
}

/**
 * A ProxyConfig map as jsonpb reads it into the message: the declared fields under their JSON
 * names, in declaration order; `null` values and undeclared fields are left out, at every depth
 * (jsonpb's retry with AllowUnknownFields drops them in sub-messages too).
 */
export function declaredProxyConfigFields(overlay: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [json, proto] of NAMES) {
    const value = fieldValue(overlay, json, proto);
    if (value === undefined || value === null) continue;
    // ClusterName oneof: the later-declared tracingServiceName replaces a serviceCluster.
    if (json === 'tracingServiceName') delete out['serviceCluster'];
    const type = TOP_MESSAGES.get(json);
    out[json] = type === undefined ? value : readMessage(type, value);
  }
  return out;
}
