/**
 * Every Prometheus metric of the injector is defined and created here, and nowhere else, on a
 * Registry owned by the composition root and passed around (never prom-client's global registry).
 * README.md "Endpoints and metrics" lists every name; test/unit/metrics/registry.test.ts keeps the
 * two in step.
 *
 * Names: `sidecar_injection_*` for what istiod's own injector exports under the same name (so
 * existing dashboards keep working), `sidecar_injector_*` for what only this process exports.
 * To add a metric: add its definition to METRIC_DEFINITIONS, create it in the group that owns it
 * (or a new group function below), and name it in the README.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** From 0.5 ms (a small pod) to 1 s (the point where an admission is already too slow). */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

interface MetricDefinition {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

function metric<const L extends readonly string[] = readonly []>(
  name: string,
  help: string,
  labelNames: L = [] as unknown as L,
): { name: string; help: string; labelNames: L } {
  return { name, help, labelNames };
}

/** Prefix of the metrics istiod's injector also exports. */
const ISTIO_PREFIX = 'sidecar_injection_';
/** Prefix of the metrics only this injector exports. */
const OWN_PREFIX = 'sidecar_injector_';

export const METRIC_DEFINITIONS = {
  requests: metric(`${ISTIO_PREFIX}requests_total`, 'Total number of sidecar injection requests'),
  success: metric(`${ISTIO_PREFIX}success_total`, 'Total number of successful sidecar injections'),
  skip: metric(
    `${ISTIO_PREFIX}skip_total`,
    'Total number of requests answered without injection, by reason',
    ['reason'],
  ),
  failure: metric(
    `${ISTIO_PREFIX}failure_total`,
    'Total number of failed requests, by error code',
    ['code'],
  ),
  duration: metric(
    `${ISTIO_PREFIX}duration_seconds`,
    'Time taken to answer an injection request, in seconds',
  ),
  // istiod's own name for the same measurement (pkg/kube/inject/monitoring.go, injectionTime),
  // so alerts and dashboards written for istiod keep working.
  injectionTime: metric(`${ISTIO_PREFIX}time_seconds`, 'Total time taken for injection in seconds'),
  certificateExpiry: metric(
    `${OWN_PREFIX}certificate_expiration_timestamp_seconds`,
    'Expiry (notAfter, seconds since the epoch) of the serving certificate in use',
  ),
  configReloadErrors: metric(
    `${OWN_PREFIX}config_reload_errors_total`,
    'Configuration changes rejected because they did not parse or validate (the last good configuration stays in use)',
  ),
  configReloads: metric(
    `${OWN_PREFIX}config_reloads_total`,
    'Configuration changes applied without a restart',
  ),
  informerRestarts: metric(
    `${OWN_PREFIX}informer_restarts_total`,
    'Informer restarts after a list or watch error',
    ['informer'],
  ),
  namespaceLookups: metric(
    `${OWN_PREFIX}namespace_lookups_total`,
    'Namespace lookups by where the answer came from (cache, api, unavailable)',
    ['source'],
  ),
  // Gauges of the cluster audit (src/k8s/pod-audit.ts, src/k8s/webhook-audit.ts): states, not
  // counts of events, so no _total suffix.
  podsMissingSidecar: metric(
    `${OWN_PREFIX}pods_missing_sidecar`,
    'Running pods the current configuration would inject but that have no istio-proxy (namespaces beyond the cap are summed under "_other")',
    ['namespace', 'owner_kind'],
  ),
  podsStaleProxy: metric(
    `${OWN_PREFIX}pods_stale_proxy`,
    'Injected pods whose proxy differs from what the configuration injects now, by reason (revision, image)',
    ['namespace', 'owner_kind', 'reason'],
  ),
  podAuditPods: metric(`${OWN_PREFIX}pod_audit_pods`, 'Pods judged by the last audit run'),
  podAuditDuration: metric(
    `${OWN_PREFIX}pod_audit_duration_seconds`,
    'Duration of the last audit run (it yields to requests between slices)',
  ),
  webhookFindings: metric(
    `${OWN_PREFIX}webhook_findings`,
    'Findings of the webhook self-check by code (overlap, ca-bundle-mismatch, ...)',
    ['code'],
  ),
  reviewEvents: metric(
    `${OWN_PREFIX}review_events_total`,
    'Kubernetes Events about skipped and denied pods: sent (created or count updated), dropped (queue full or rate limit), failed',
    ['result'],
  ),
} as const satisfies Record<string, MetricDefinition>;

type Definitions = typeof METRIC_DEFINITIONS;
type LabelOf<K extends keyof Definitions> = Definitions[K]['labelNames'][number];

/**
 * The counter `key` on `registry`, created on first use: several sources (two config providers,
 * the runtime) may share one Registry, and a metric exists once per Registry.
 */
function counter<K extends keyof Definitions>(registry: Registry, key: K): Counter<LabelOf<K>> {
  const { name, help, labelNames } = METRIC_DEFINITIONS[key];
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing;
  return new Counter<LabelOf<K>>({
    name,
    help,
    labelNames: [...labelNames] as LabelOf<K>[],
    registers: [registry],
  });
}

export interface InjectorMetrics {
  registry: Registry;
  /** Every request to `/inject*`, before any check. */
  requests: Counter;
  /** Pods injected (an AdmissionResponse with a patch, or nothing to change). */
  success: Counter;
  /** Requests answered `allowed: true` without injection, by reason code. */
  skip: Counter<'reason'>;
  /** Requests answered with an error (HTTP error or `allowed: false`), by `INJ_ERR_*` code. */
  failure: Counter<'code'>;
  /** Time from the request arriving to the response being written, every `/inject*` request. */
  duration: Histogram;
  /** The same observation under istiod's name `sidecar_injection_time_seconds`. */
  injectionTime: Histogram;
  /** notAfter of the serving certificate in use, in seconds since the epoch. */
  certificateExpiry: Gauge;
}

export interface MetricsOptions {
  /** Register Node's default process metrics (CPU, memory, event loop). Default true. */
  processMetrics?: boolean;
  registry?: Registry;
}

/** The request metrics of the webhook server. */
export function createMetrics(options: MetricsOptions = {}): InjectorMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: counter(registry, 'requests'),
    success: counter(registry, 'success'),
    skip: counter(registry, 'skip'),
    failure: counter(registry, 'failure'),
    duration: histogram(registry, 'duration'),
    injectionTime: histogram(registry, 'injectionTime'),
    certificateExpiry: gauge(registry, 'certificateExpiry'),
  };
}

function histogram(registry: Registry, key: 'duration' | 'injectionTime'): Histogram {
  const { name, help } = METRIC_DEFINITIONS[key];
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Histogram) return existing;
  return new Histogram({ name, help, buckets: [...DURATION_BUCKETS], registers: [registry] });
}

/** Counters of a live configuration source (ConfigMap informer, mounted directory). */
export function configReloadMetrics(registry: Registry): {
  reloads: Counter;
  errors: Counter;
} {
  return {
    reloads: counter(registry, 'configReloads'),
    errors: counter(registry, 'configReloadErrors'),
  };
}

/** The gauge `key` on `registry`, created on first use (see `counter`). */
function gauge<K extends keyof Definitions>(registry: Registry, key: K): Gauge<LabelOf<K>> {
  const { name, help, labelNames } = METRIC_DEFINITIONS[key];
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Gauge) return existing;
  return new Gauge<LabelOf<K>>({
    name,
    help,
    labelNames: [...labelNames] as LabelOf<K>[],
    registers: [registry],
  });
}

/** Gauges of the pod audit. */
export function podAuditMetrics(registry: Registry): {
  missing: Gauge<'namespace' | 'owner_kind'>;
  stale: Gauge<'namespace' | 'owner_kind' | 'reason'>;
  pods: Gauge;
  duration: Gauge;
} {
  return {
    missing: gauge(registry, 'podsMissingSidecar'),
    stale: gauge(registry, 'podsStaleProxy'),
    pods: gauge(registry, 'podAuditPods'),
    duration: gauge(registry, 'podAuditDuration'),
  };
}

/** Gauge of the webhook self-check. */
export function webhookAuditMetrics(registry: Registry): { findings: Gauge<'code'> } {
  return { findings: gauge(registry, 'webhookFindings') };
}

/** Counters of the cluster runtime (informers and namespace lookups). */
export function clusterMetrics(registry: Registry): {
  informerRestarts: Counter<'informer'>;
  namespaceLookups: Counter<'source'>;
} {
  return {
    informerRestarts: counter(registry, 'informerRestarts'),
    namespaceLookups: counter(registry, 'namespaceLookups'),
  };
}

/** Counter of the Events the server writes about skipped and denied pods. */
export function reviewEventMetrics(registry: Registry): { events: Counter<'result'> } {
  return { events: counter(registry, 'reviewEvents') };
}
