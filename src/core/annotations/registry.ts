/**
 * The annotation and label registry: one entry per key of src/core/annotations/keys.ts, with
 * where it is read, its documentation line (the row of docs/templates.md "Annotations and
 * labels"; test/unit/core/annotations/registry.test.ts keeps the two in step), the validator
 * whose failure refuses the injection (spec §4.2) and the fallback whose misuse only warns.
 *
 * To add an annotation: add its key to `KEY`, its entry here, and its row to docs/templates.md.
 */
import { DEFAULT_MESH } from '../config/defaults.js';
import { resolveProxyConfig } from '../proxy-config.js';
import { isQuantityError, parseQuantity } from '../quantity.js';
import { KEY, type KeyName } from './keys.js';
import {
  cidrListError,
  interfaceListError,
  parseGoBool,
  portError,
  portListError,
  uint32Error,
} from './value-formats.js';

/** A problem text for an invalid value, or undefined when the value is accepted. */
export type Validator = (value: string) => string | undefined;

/** A value Istio silently falls back on: we keep the fallback but warn (AdmissionResponse warnings). */
export interface Fallback {
  accepts: (value: string) => boolean;
  /** What happens instead, and what would have been understood. */
  note: string;
}

export interface KeyEntry {
  /** Where the key is set: on the pod's annotations, its labels, or either. */
  readonly on: 'annotation' | 'label' | 'label or annotation';
  /** The row's text in docs/templates.md "Annotations and labels". */
  readonly doc: string;
  readonly validate?: Validator;
  readonly fallback?: Fallback;
}

const INTERCEPTION_MODES = ['REDIRECT', 'TPROXY', 'NONE'];

function prefixed(label: string, check: Validator): Validator {
  return (value) => {
    const problem = check(value);
    return problem === undefined ? undefined : `${label} invalid: ${problem}`;
  };
}

const interceptionMode: Validator = (value) =>
  INTERCEPTION_MODES.includes(value)
    ? undefined
    : `interceptionMode invalid, use ${INTERCEPTION_MODES.join(',')}: ${value}`;

const goBool: Validator = (value) =>
  parseGoBool(value) === undefined
    ? `invalid boolean '${value}': use 1, t, T, TRUE, true, True, 0, f, F, FALSE, false or False`
    : undefined;

const quantity: Validator = (value) => {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is rejected
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'value contains control characters';
  const parsed = parseQuantity(value);
  return isQuantityError(parsed)
    ? `${parsed.error} '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`
    : undefined;
};

const proxyConfig: Validator = (value) => {
  const { issues } = resolveProxyConfig(DEFAULT_MESH, { [KEY.proxyConfig]: value });
  return issues[0]?.reason;
};

const TRUE_OR_FALSE = (value: string): boolean => value === 'true' || value === 'false';
const GO_BOOL = (value: string): boolean => parseGoBool(value) !== undefined;

const anyOf = (value: string): boolean => value === '*';

export const REGISTRY: Readonly<Record<KeyName, KeyEntry>> = Object.freeze({
  inject: {
    on: 'label or annotation',
    doc: '`"true"` / `"false"` opts the pod in or out (the label wins over the annotation)',
  },
  status: {
    on: 'annotation',
    doc: 'written: what was injected; read on re-injection to strip the previous injection',
  },
  templates: {
    on: 'annotation',
    doc: 'comma list of templates to render instead of `defaultTemplates`',
  },
  rev: { on: 'label or annotation', doc: 'revision selection; written: the injecting revision' },
  proxyConfig: {
    on: 'annotation',
    doc: 'a ProxyConfig (YAML or JSON) merged over `mesh.defaultConfig`',
    validate: proxyConfig,
  },
  overrides: {
    on: 'annotation',
    doc: 'written: the user fields of the proxy containers, put back on re-injection',
  },
  nativeSidecar: {
    on: 'annotation',
    doc: '`true`/`false` forces native/classic placement',
    fallback: {
      accepts: TRUE_OR_FALSE,
      note: 'want "true" or "false"; using the cluster default',
    },
  },
  proxyImage: {
    on: 'annotation',
    doc: 'full image for proxy and init container when it contains `/`',
    fallback: {
      accepts: (value) => value.includes('/'),
      note: 'want a full image reference; using the configured image',
    },
  },
  proxyImageType: {
    on: 'annotation',
    doc: 'image type suffix (`distroless`, `debug`, `default` = none) for both images',
  },
  proxyCPU: {
    on: 'annotation',
    doc: 'proxy CPU request; if any resource annotation is present, proxy and init resources come only from them',
    validate: quantity,
  },
  proxyMemory: { on: 'annotation', doc: 'proxy memory request', validate: quantity },
  proxyCPULimit: { on: 'annotation', doc: 'proxy CPU limit', validate: quantity },
  proxyMemoryLimit: { on: 'annotation', doc: 'proxy memory limit', validate: quantity },
  logLevel: { on: 'annotation', doc: '`--proxyLogLevel`' },
  componentLogLevel: { on: 'annotation', doc: '`--proxyComponentLogLevel`' },
  agentLogLevel: {
    on: 'annotation',
    doc: '`--log_output_level` of the agent and the init container',
  },
  capNetBindService: {
    on: 'annotation',
    doc: '`"true"`: NET_BIND_SERVICE, proxy runs as uid 0 (overrides `global.proxy.capNetBindService`)',
    fallback: { accepts: TRUE_OR_FALSE, note: 'want "true" or "false"; treated as "false"' },
  },
  bootstrapOverride: {
    on: 'annotation',
    doc: 'ConfigMap volume `custom-bootstrap-volume`, mount `/etc/istio/custom-bootstrap`, env `ISTIO_BOOTSTRAP_OVERRIDE`',
  },
  userVolume: {
    on: 'annotation',
    doc: 'JSON object `{name: volumeSource}` appended to the pod volumes',
  },
  userVolumeMount: {
    on: 'annotation',
    doc: 'JSON object `{name: mountFields}` appended to the proxy mounts',
  },
  rewriteAppHTTPProbers: {
    on: 'annotation',
    doc: 'whether application HTTP probes are rewritten to the agent (else `sidecarInjectorWebhook.rewriteAppHTTPProbe`)',
    fallback: { accepts: GO_BOOL, note: 'want a boolean; using the configured default' },
  },
  statusPort: {
    on: 'annotation',
    doc: 'status port: `-d` exclusion, drain hook port; `"0"` removes the proxy readiness and startup probes',
    // Istio names the wrong setting in this message; kept so the text matches upstream reports.
    validate: prefixed('excludeInboundPorts', portError),
  },
  readinessInitialDelay: {
    on: 'annotation',
    doc: 'proxy readiness probe initial delay',
    validate: uint32Error,
  },
  readinessPeriod: { on: 'annotation', doc: 'proxy readiness probe period', validate: uint32Error },
  readinessFailureThreshold: {
    on: 'annotation',
    doc: 'proxy readiness probe failure threshold',
    validate: uint32Error,
  },
  interceptionMode: {
    on: 'annotation',
    doc: '`-m`, TPROXY security context (NET_ADMIN, uid 0, gid 1337, `-u 1337`), `NONE` drops the iptables container, env `ISTIO_META_INTERCEPTION_MODE`',
    validate: interceptionMode,
  },
  includeOutboundIPRanges: {
    on: 'annotation',
    doc: '`-i`',
    validate: prefixed('includeIPRanges', (v) => (anyOf(v) ? undefined : cidrListError(v))),
  },
  excludeOutboundIPRanges: {
    on: 'annotation',
    doc: '`-x`',
    validate: prefixed('excludeIPRanges', cidrListError),
  },
  includeInboundPorts: {
    on: 'annotation',
    doc: '`-b`',
    validate: prefixed('includeInboundPorts', (v) => (anyOf(v) ? undefined : portListError(v))),
  },
  excludeInboundPorts: {
    on: 'annotation',
    doc: 'part of `-d`',
    validate: prefixed('excludeInboundPorts', portListError),
  },
  includeOutboundPorts: {
    on: 'annotation',
    doc: '`-q` (only when present, or set in values)',
  },
  excludeOutboundPorts: {
    on: 'annotation',
    doc: '`-o` (only when present, or set in values)',
    validate: prefixed('excludeOutboundPorts', portListError),
  },
  kubevirtInterfaces: {
    on: 'annotation',
    doc: '`-k` (after `istio.io/reroute-virtual-interfaces`)',
    validate: interfaceListError,
  },
  rerouteVirtualInterfaces: {
    on: 'annotation',
    doc: '`-k` (wins over `kubevirtInterfaces`)',
    validate: interfaceListError,
  },
  excludeInterfaces: { on: 'annotation', doc: '`-c`', validate: interfaceListError },
  prometheusScrape: {
    on: 'annotation',
    doc: 'application scrape switch, handed to the agent when metrics are merged',
    fallback: { accepts: GO_BOOL, note: 'want a boolean; treated as "true"' },
  },
  prometheusPort: {
    on: 'annotation',
    doc: 'application metrics port, handed to the agent when metrics are merged',
  },
  prometheusPath: {
    on: 'annotation',
    doc: 'application metrics path, handed to the agent when metrics are merged',
  },
  scrapeTargets: {
    on: 'annotation',
    doc: '`port:path,...` scrape targets handed to the agent when metrics are merged',
  },
  mergeMetrics: {
    on: 'annotation',
    doc: 'whether application and proxy metrics are merged (else `meshConfig.enablePrometheusMerge`)',
    validate: goBool,
  },
  securePort: {
    on: 'annotation',
    doc: 'written from the proxy env `ENVOY_SECURE_MERGED_METRICS_PORT` unless set',
  },
  datadogEnv: {
    on: 'annotation',
    doc: 'with `global.proxy.tracer: datadog`, a JSON object whose entries become proxy env (sorted)',
  },
  defaultContainer: {
    on: 'annotation',
    doc: 'kept; set to the first non-proxy container only when absent',
  },
  defaultLogsContainer: {
    on: 'annotation',
    doc: 'kept; set to the first non-proxy container only when absent',
  },
} satisfies Record<KeyName, KeyEntry>);

/** Entries as `[key, entry]`, in the order of `KEY`. */
export const REGISTRY_ENTRIES: readonly (readonly [string, KeyEntry])[] = Object.freeze(
  (Object.keys(KEY) as KeyName[]).map((name) => [KEY[name], REGISTRY[name]] as const),
);

/** Annotation key -> validator, for the keys that have one (a null-prototype map). */
export const ANNOTATION_VALIDATORS: ReadonlyMap<string, Validator> = new Map(
  REGISTRY_ENTRIES.flatMap(([key, entry]) =>
    entry.validate === undefined ? [] : [[key, entry.validate] as const],
  ),
);

/** Annotation key -> fallback, for the keys whose unrecognised values only warn. */
export const ANNOTATION_FALLBACKS: readonly (readonly [string, Fallback])[] =
  REGISTRY_ENTRIES.flatMap(([key, entry]) =>
    entry.fallback === undefined ? [] : [[key, entry.fallback] as const],
  );
