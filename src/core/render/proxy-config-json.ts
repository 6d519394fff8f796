/**
 * The `PROXY_CONFIG` env value: the effective ProxyConfig in protobuf JSON (camelCase names,
 * declaration order of istio.mesh.v1alpha1.ProxyConfig, zero values omitted, wrapper types kept
 * when set), after removing every field equal to Istio's built-in default, plus a newline.
 * Field order: https://github.com/istio/api/blob/master/mesh/v1alpha1/proxy.proto
 * Default-valued fields: https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#ProxyConfig
 */
import { isJsonObject, sortedObject, type JsonObject, type JsonValue } from '../json.js';
import { DEFAULT_PROXY_CONFIG } from '../config/defaults.js';
import type { ProxyConfig } from '../config/types.js';

type FieldKind = 'scalar' | 'wrapper' | 'enum' | 'message' | 'map' | 'list';

/** Field name, its protobuf kind, and for enums the zero value (printed only when non-zero). */
const FIELDS: readonly (readonly [string, FieldKind, string?])[] = [
  ['configPath', 'scalar'],
  ['binaryPath', 'scalar'],
  ['serviceCluster', 'scalar'],
  ['tracingServiceName', 'enum', 'APP_LABEL_AND_NAMESPACE'],
  ['drainDuration', 'message'],
  ['parentShutdownDuration', 'message'],
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
];
const KNOWN_FIELDS = new Set(FIELDS.map(([name]) => name));

/** Istio's built-in ProxyConfig defaults: a field holding exactly this value is left out. */
const BUILTIN_DEFAULTS: Readonly<Record<string, JsonValue | undefined>> = DEFAULT_PROXY_CONFIG;

function isZero(value: JsonValue, kind: FieldKind, enumZero: string | undefined): boolean {
  switch (kind) {
    case 'scalar':
      return value === '' || value === 0 || value === false;
    case 'enum':
      return value === enumZero || value === 0;
    case 'wrapper':
    case 'message':
      return false;
    case 'map':
      return isJsonObject(value) && Object.keys(value).length === 0;
    case 'list':
      return Array.isArray(value) && value.length === 0;
  }
}

/** The ProxyConfig with default and zero-valued fields removed, in protobuf declaration order. */
export function cleanProxyConfig(proxyConfig: ProxyConfig): JsonObject {
  const out: JsonObject = {};
  for (const [name, kind, enumZero] of FIELDS) {
    const value = proxyConfig[name];
    if (value === undefined || value === null) continue;
    if (isZero(value, kind, enumZero)) continue;
    if (Object.hasOwn(BUILTIN_DEFAULTS, name) && BUILTIN_DEFAULTS[name] === value) continue;
    out[name] = kind === 'map' && isJsonObject(value) ? sortedObject(value) : value;
  }
  // Fields this table does not know yet are kept, after the known ones, in their own order.
  for (const [name, value] of Object.entries(proxyConfig)) {
    if (KNOWN_FIELDS.has(name) || value === undefined || value === null) continue;
    out[name] = value;
  }
  return out;
}

/** The exact `PROXY_CONFIG` env value (`{}\n` for a default proxy config). */
export function proxyConfigEnvValue(proxyConfig: ProxyConfig): string {
  return `${JSON.stringify(cleanProxyConfig(proxyConfig))}\n`;
}
