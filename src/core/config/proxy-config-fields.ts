/**
 * The fields of istio.mesh.v1alpha1.ProxyConfig, in declaration order, and how istiod reads a
 * ProxyConfig text (the `proxy.istio.io/config` annotation, mesh `defaultConfig`): through
 * protomarshal.ApplyYAML, i.e. golang/protobuf's jsonpb, which accepts a field under its proto
 * name (`drain_duration`) or its JSON name (`drainDuration`, which wins when both are given),
 * skips a field whose value is `null` (the field below is kept) and, on its retry with
 * AllowUnknownFields, drops every field the message does not declare.
 * Fields: https://github.com/istio/api/blob/master/mesh/v1alpha1/proxy.proto
 * Reading: istio/pkg/util/protomarshal/protomarshal.go ApplyJSON; golang/protobuf jsonpb/decode.go.
 */
import type { JsonObject } from '../json.js';

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
 * A ProxyConfig map as jsonpb reads it into the message: the declared fields under their JSON
 * names, in declaration order; `null` values and undeclared fields are left out.
 */
export function declaredProxyConfigFields(overlay: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [json, proto] of NAMES) {
    const value = Object.hasOwn(overlay, json)
      ? overlay[json]
      : Object.hasOwn(overlay, proto)
        ? overlay[proto]
        : undefined;
    if (value !== undefined && value !== null) out[json] = value;
  }
  return out;
}
