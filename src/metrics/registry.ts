/**
 * Every Prometheus metric of the injector is defined and created here, and nowhere else, on a
 * Registry owned by the composition root and passed around (never prom-client's global registry).
 * README.md "Endpoints and metrics" lists every name; test/unit/metrics/registry.test.ts keeps the
 * two in step.
 *
 * Names: `sidecar_injection_*` for what istiod's own injector exports under the same name (so
 * existing dashboards keep working), `sidecar_injector_*` for what only this process exports.
 * To add a metric: add its definition (`counter`, `gauge` or `histogram`: name, help, label names)
 * to METRIC_DEFINITIONS, create it with `metric(registry, key)` in the group that owns it (or a new
 * group function below), and name it in the README.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** From 0.5 ms (a small pod) to 1 s (the point where an admission is already too slow). */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

type MetricKind = 'counter' | 'gauge' | 'histogram';

interface MetricDefinition<L extends readonly string[] = readonly string[]> {
  readonly kind: MetricKind;
  readonly name: string;
  readonly help: string;
  readonly labelNames: L;
}

/** The definition builder of one kind: name, help and the label names (none by default). */
function definitionOf<T extends MetricKind>(kind: T) {
  return <const L extends readonly string[] = readonly []>(
    name: string,
    help: string,
    labelNames: L = [] as unknown as L,
  ): MetricDefinition<L> & { readonly kind: T } => ({ kind, name, help, labelNames });
}

/** Counts events; its name ends in `_total`. */
const counter = definitionOf('counter');
/** A state (a level, a timestamp, a count of things now), not a count of events. */
const gauge = definitionOf('gauge');
/** Observes durations, in DURATION_BUCKETS. */
const histogram = definitionOf('histogram');

/** Prefix of the metrics istiod's injector also exports. */
const ISTIO_PREFIX = 'sidecar_injection_';
/** Prefix of the metrics only this injector exports. */
const OWN_PREFIX = 'sidecar_injector_';

export const METRIC_DEFINITIONS = {
  requests: counter(`${ISTIO_PREFIX}requests_total`, 'Total number of sidecar injection requests'),
  success: counter(`${ISTIO_PREFIX}success_total`, 'Total number of successful sidecar injections'),
  skip: counter(
    `${ISTIO_PREFIX}skip_total`,
    'Total number of requests answered without injection, by reason',
    ['reason'],
  ),
  failure: counter(
    `${ISTIO_PREFIX}failure_total`,
    'Total number of failed requests, by error code',
    ['code'],
  ),
  duration: histogram(
    `${ISTIO_PREFIX}duration_seconds`,
    'Time taken to answer an injection request, in seconds',
  ),
  // istiod's own name for the same measurement (pkg/kube/inject/monitoring.go, injectionTime),
  // so alerts and dashboards written for istiod keep working.
  injectionTime: histogram(
    `${ISTIO_PREFIX}time_seconds`,
    'Total time taken for injection in seconds',
  ),
  certificateExpiry: gauge(
    `${OWN_PREFIX}certificate_expiration_timestamp_seconds`,
    'Expiry (notAfter, seconds since the epoch) of the serving certificate in use',
  ),
  configReloadErrors: counter(
    `${OWN_PREFIX}config_reload_errors_total`,
    'Configuration changes rejected because they did not parse or validate (the last good configuration stays in use)',
  ),
  configReloads: counter(
    `${OWN_PREFIX}config_reloads_total`,
    'Configuration changes applied without a restart',
  ),
  informerRestarts: counter(
    `${OWN_PREFIX}informer_restarts_total`,
    'Informer restarts after a list or watch error',
    ['informer'],
  ),
  namespaceLookups: counter(
    `${OWN_PREFIX}namespace_lookups_total`,
    'Namespace lookups by where the answer came from (cache, api, unavailable)',
    ['source'],
  ),
  // Gauges of the cluster audit (src/k8s/pod-audit.ts, src/k8s/webhook-audit.ts): states, not
  // counts of events, so no _total suffix.
  podsMissingSidecar: gauge(
    `${OWN_PREFIX}pods_missing_sidecar`,
    'Running pods the current configuration would inject but that have no istio-proxy (namespaces beyond the cap are summed under "_other")',
    ['namespace', 'owner_kind'],
  ),
  podsStaleProxy: gauge(
    `${OWN_PREFIX}pods_stale_proxy`,
    'Injected pods whose proxy differs from what the configuration injects now, by reason (revision, image)',
    ['namespace', 'owner_kind', 'reason'],
  ),
  podAuditPods: gauge(`${OWN_PREFIX}pod_audit_pods`, 'Pods judged by the last audit run'),
  podAuditDuration: gauge(
    `${OWN_PREFIX}pod_audit_duration_seconds`,
    'Duration of the last audit run (it yields to requests between slices)',
  ),
  webhookFindings: gauge(
    `${OWN_PREFIX}webhook_findings`,
    'Findings of the webhook self-check by code (overlap, ca-bundle-mismatch, ...)',
    ['code'],
  ),
  reviewEvents: counter(
    `${OWN_PREFIX}review_events_total`,
    'Kubernetes Events about skipped and denied pods: sent (created or count updated), dropped (queue full or rate limit), failed',
    ['result'],
  ),
} as const satisfies Record<string, MetricDefinition>;

type Definitions = typeof METRIC_DEFINITIONS;
type MetricKey = keyof Definitions;
type LabelOf<K extends MetricKey> = Definitions[K]['labelNames'][number];
interface MetricTypes<L extends string> {
  counter: Counter<L>;
  gauge: Gauge<L>;
  histogram: Histogram<L>;
}
/** The prom-client type of the metric `K`, with its label names. */
type MetricOf<K extends MetricKey> = MetricTypes<LabelOf<K>>[Definitions[K]['kind']];

const METRIC_CLASSES = { counter: Counter, gauge: Gauge, histogram: Histogram } as const;

function createMetric(
  definition: MetricDefinition,
  registry: Registry,
): Counter | Gauge | Histogram {
  const { name, help, labelNames } = definition;
  const configuration = { name, help, labelNames: [...labelNames], registers: [registry] };
  switch (definition.kind) {
    case 'counter':
      return new Counter(configuration);
    case 'gauge':
      return new Gauge(configuration);
    case 'histogram':
      return new Histogram({ ...configuration, buckets: [...DURATION_BUCKETS] });
  }
}

/**
 * The metric `key` on `registry`, created on first use: several sources (two config providers,
 * the runtime) may share one Registry, and a metric exists once per Registry.
 */
function metric<K extends MetricKey>(registry: Registry, key: K): MetricOf<K> {
  const definition: MetricDefinition = METRIC_DEFINITIONS[key];
  const existing = registry.getSingleMetric(definition.name);
  const found = existing instanceof METRIC_CLASSES[definition.kind] ? existing : undefined;
  return (found ?? createMetric(definition, registry)) as MetricOf<K>;
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
    requests: metric(registry, 'requests'),
    success: metric(registry, 'success'),
    skip: metric(registry, 'skip'),
    failure: metric(registry, 'failure'),
    duration: metric(registry, 'duration'),
    injectionTime: metric(registry, 'injectionTime'),
    certificateExpiry: metric(registry, 'certificateExpiry'),
  };
}

/** Counters of a live configuration source (ConfigMap informer, mounted directory). */
export function configReloadMetrics(registry: Registry): {
  reloads: Counter;
  errors: Counter;
} {
  return {
    reloads: metric(registry, 'configReloads'),
    errors: metric(registry, 'configReloadErrors'),
  };
}

/** Gauges of the pod audit. */
export function podAuditMetrics(registry: Registry): {
  missing: Gauge<'namespace' | 'owner_kind'>;
  stale: Gauge<'namespace' | 'owner_kind' | 'reason'>;
  pods: Gauge;
  duration: Gauge;
} {
  return {
    missing: metric(registry, 'podsMissingSidecar'),
    stale: metric(registry, 'podsStaleProxy'),
    pods: metric(registry, 'podAuditPods'),
    duration: metric(registry, 'podAuditDuration'),
  };
}

/** Gauge of the webhook self-check. */
export function webhookAuditMetrics(registry: Registry): { findings: Gauge<'code'> } {
  return { findings: metric(registry, 'webhookFindings') };
}

/** Counters of the cluster runtime (informers and namespace lookups). */
export function clusterMetrics(registry: Registry): {
  informerRestarts: Counter<'informer'>;
  namespaceLookups: Counter<'source'>;
} {
  return {
    informerRestarts: metric(registry, 'informerRestarts'),
    namespaceLookups: metric(registry, 'namespaceLookups'),
  };
}

/** Counter of the Events the server writes about skipped and denied pods. */
export function reviewEventMetrics(registry: Registry): { events: Counter<'result'> } {
  return { events: metric(registry, 'reviewEvents') };
}
