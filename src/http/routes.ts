/**
 * The webhook's routes: POST /inject[/*] answers one AdmissionReview through src/admission/admit.ts
 * (the deadline from `?timeout=`, one log line and the metrics per review); /healthz, /readyz and
 * /metrics for the kubelet and Prometheus.
 */
import { admit, type AdmissionSources } from '../admission/admit.js';
import type { ClusterReadiness } from '../core/contracts.js';
import type { Pod } from '../core/pod-types.js';
import { isJsonObject, type JsonObject } from '../core/json.js';
import { parseAdmissionReview, type ParsedReview } from '../core/review-envelope.js';
import type { ReviewOutcome, ReviewResult } from '../core/review.js';
import type { InjectorMetrics } from '../metrics/registry.js';
import { DEFAULT_TIMEOUT_MS, budgetMs, parseGoDuration } from './timeout.js';
import type { AppReply, AppRequest, InjectorApp } from './types.js';

export interface RouteOptions extends AdmissionSources {
  metrics: InjectorMetrics;
  /** Cluster mode: informers synced. */
  clusterReadiness?: ClusterReadiness;
  /** True once a serving certificate is loaded; absent means no TLS gate (plain HTTP use). */
  certificateReady?: () => boolean;
  /** True while the server drains before shutdown: readiness fails, requests are still answered. */
  draining?: () => boolean;
  /** Cluster mode: Events about skipped and denied pods (a non-blocking, bounded batcher). */
  events?: ReviewEventSink | undefined;
}

/** Takes a review's outcome for an Event; must return at once and never throw (src/k8s/review-events.ts). */
export interface ReviewEventSink {
  report(input: {
    namespace: string;
    pod: Pod | undefined;
    decision: 'skipped' | 'denied';
    reason: string;
    message: string;
  }): void;
}

/** Hands a skipped or denied pod to the Event sink; an Event never changes or delays the answer. */
function reportEvent(
  events: ReviewEventSink | undefined,
  logger: AppRequest['log'],
  parsed: ParsedReview,
  outcome: ReviewOutcome,
): void {
  // Dry runs create nothing, so there is no pod to tell anyone about.
  if (events === undefined || outcome.dryRun) return;
  if (outcome.decision !== 'skipped' && outcome.decision !== 'denied') return;
  if (parsed.kind !== 'Pod') return;
  try {
    events.report({
      namespace: parsed.namespace,
      pod: parsed.object,
      decision: outcome.decision,
      reason: outcome.errorCode ?? outcome.reason ?? 'unknown',
      message: outcome.message ?? '',
    });
  } catch (error) {
    logger.warn({ err: error }, 'could not queue a review Event');
  }
}

function recordOutcome(metrics: InjectorMetrics, outcome: ReviewOutcome): void {
  switch (outcome.decision) {
    case 'injected':
      metrics.success.inc();
      break;
    case 'skipped':
    case 'ignored':
      metrics.skip.inc({ reason: outcome.reason ?? 'unknown' });
      break;
    case 'denied':
      metrics.failure.inc({ code: outcome.errorCode ?? 'INJ_ERR_INTERNAL' });
      break;
  }
}

/** Adds every route; `now` is the monotonic clock (ms) the deadlines are measured on. */
export function addRoutes(app: InjectorApp, opts: RouteOptions, now: () => number): void {
  const { metrics } = opts;
  const handleInject = async (
    request: AppRequest,
    reply: AppReply,
  ): Promise<ReviewResult['response']> => {
    // The deadline counts from the request's arrival (fastify's clock starts at onRequest), so
    // receiving and parsing a huge body is charged to it too.
    const started = now() - reply.elapsedTime;
    const parsed = parseAdmissionReview(request.body);
    const query = request.query as Record<string, string | undefined>;
    const requested = query.timeout === undefined ? undefined : parseGoDuration(query.timeout);
    const deadline = started + budgetMs(requested ?? DEFAULT_TIMEOUT_MS);
    const path = decodePath(request.url.split('?')[0] ?? '');

    const result = await admit({ review: parsed, path, deadline, now }, opts);
    recordOutcome(metrics, result.outcome);
    const { outcome } = result;
    reportEvent(opts.events, request.log, parsed, outcome);
    // One flat line of scalars per review: nothing in it needs redacting, and no child logger
    // (whose bindings pino serialises on creation) is built per request.
    request.log.info(
      {
        uid: parsed.uid,
        namespace: parsed.namespace,
        ...(parsed.name ? { name: parsed.name } : {}),
        ...(isJsonObject(parsed.object?.metadata) ? podNames(parsed.object.metadata) : {}),
        operation: parsed.operation,
        decision: outcome.decision,
        reason: outcome.reason,
        ops: outcome.ops,
        ...(outcome.errorCode ? { code: outcome.errorCode } : {}),
        ...(outcome.namespaceSource ? { namespaceSource: outcome.namespaceSource } : {}),
        ...(outcome.dryRun ? { dryRun: true } : {}),
        ...(outcome.message ? { detail: outcome.message } : {}),
        durationMs: Math.round((now() - started) * 1000) / 1000,
      },
      'admission review',
    );
    return result.response;
  };

  // The Go server does not check the method; POST is what the API server sends.
  app.post('/inject', handleInject);
  app.post('/inject/*', handleInject);

  app.get('/healthz', (_request, reply) => {
    void reply.send({ status: 'ok' });
  });
  app.get('/readyz', async (_request, reply) => {
    const checks = {
      config: opts.config.ready(),
      certificate: opts.certificateReady?.() ?? true,
      cluster: opts.clusterReadiness?.synced() ?? true,
      draining: opts.draining?.() ?? false,
    };
    const ready = checks.config && checks.certificate && checks.cluster && !checks.draining;
    // An API-server outage after the first sync does not fail readiness: answers come from the
    // informers' caches, and failing every replica at once would turn the outage into a webhook
    // outage. The detail says so; the webhook self-check adds its findings (never a failure).
    const reachable = opts.clusterReadiness?.apiServerReachable?.();
    const outage =
      reachable === false
        ? { apiServer: 'unreachable: answering from the informer caches, reconnecting' }
        : {};
    const details = opts.clusterReadiness?.details?.();
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      checks,
      ...outage,
      ...(details ? { details } : {}),
    });
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}

function podNames(meta: JsonObject): { podName?: string; generateName?: string } {
  return {
    ...(typeof meta.name === 'string' && meta.name ? { podName: meta.name } : {}),
    ...(typeof meta.generateName === 'string' && meta.generateName
      ? { generateName: meta.generateName }
      : {}),
  };
}

/** Percent-decodes the URL path for the path-parameter parser; a bad escape keeps the raw text. */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
