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
import {
  PROXY_CONFIG_FIELDS,
  type ProxyConfigFieldKind as FieldKind,
} from '../config/proxy-config-fields.js';

const FIELDS = PROXY_CONFIG_FIELDS;

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
    // A oneof member is printed whenever it is set, its zero value too (tracingServiceName).
    if (name !== 'tracingServiceName' && isZero(value, kind, enumZero)) continue;
    if (Object.hasOwn(BUILTIN_DEFAULTS, name) && BUILTIN_DEFAULTS[name] === value) continue;
    out[name] = kind === 'map' && isJsonObject(value) ? sortedObject(value) : value;
  }
  // Only declared fields: protobuf JSON cannot hold another (istiod drops it when reading).
  return out;
}

/** The exact `PROXY_CONFIG` env value (`{}\n` for a default proxy config). */
export function proxyConfigEnvValue(proxyConfig: ProxyConfig): string {
  return `${JSON.stringify(cleanProxyConfig(proxyConfig))}\n`;
}
