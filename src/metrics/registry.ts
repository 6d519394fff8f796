/**
 * Prometheus metrics of the injector, on a Registry owned by the composition root and passed
 * around (never prom-client's global registry), so tests and the cluster adapters can add their own.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** From 0.5 ms (a small pod) to 1 s (the point where an admission is already too slow). */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

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
}

export interface MetricsOptions {
  /** Register Node's default process metrics (CPU, memory, event loop). Default true. */
  processMetrics?: boolean;
  registry?: Registry;
}

export function createMetrics(options: MetricsOptions = {}): InjectorMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'sidecar_injection_requests_total',
      help: 'Total number of sidecar injection requests',
      registers: [registry],
    }),
    success: new Counter({
      name: 'sidecar_injection_success_total',
      help: 'Total number of successful sidecar injections',
      registers: [registry],
    }),
    skip: new Counter({
      name: 'sidecar_injection_skip_total',
      help: 'Total number of requests answered without injection, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    failure: new Counter({
      name: 'sidecar_injection_failure_total',
      help: 'Total number of failed requests, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'sidecar_injection_duration_seconds',
      help: 'Time taken to answer an injection request, in seconds',
      buckets: [...DURATION_BUCKETS],
      registers: [registry],
    }),
  };
}
