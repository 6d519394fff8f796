/**
 * The webhook's routes: POST /inject[/*] answers one AdmissionReview through src/admission/admit.ts
 * (the deadline from `?timeout=`, one log line and the metrics per review); /healthz, /readyz and
 * /metrics for the kubelet and Prometheus.
 */
import { admit, admitNow, type AdmissionSources } from '../admission/admit.js';
import type { Logger } from 'pino';
import type { ClusterReadiness } from '../core/contracts.js';
import { reviewLineWriter } from '../logging/review-line.js';
import type { Pod } from '../core/pod-types.js';
import { isJsonObject } from '../core/json.js';
import {
  admissionReviewText,
  parseAdmissionReview,
  type ParsedReview,
} from '../core/review-envelope.js';
import type { ReviewInput, ReviewOutcome, ReviewResult } from '../core/review.js';
import { reviewReuse } from '../admission/reuse.js';
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

/** The request's own logger (fastify's lazy child with `reqId`), fetched when first needed. */
type RequestLog = () => Pick<AppRequest['log'], 'warn'>;

/** Hands a skipped or denied pod to the Event sink; an Event never changes or delays the answer. */
function reportEvent(
  events: ReviewEventSink | undefined,
  logger: RequestLog,
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
    logger().warn({ err: error }, 'could not queue a review Event');
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

/**
 * Answers one parsed request body of the inject route, for fastify's route and for the direct
 * route (fast-admission.ts) alike: the review, its metrics, Event and log line. `url` is the raw
 * request target, `timeout` its `timeout` query parameter, `started` the request's arrival on
 * `now`'s clock. Returns the answer's JSON text, or a promise of it when the review must wait (a
 * namespace lookup).
 */
export interface ReviewRequest {
  body: unknown;
  /**
   * The body's bytes, when the caller has them: an injected pod's answer is remembered for them
   * (a copy). Read during the call only: the direct route releases their memory once it returns.
   */
  raw?: Buffer;
  /** The body's text as it was parsed (with `raw`). */
  text?: string;
  url: string;
  timeout: string | undefined;
  started: number;
  reqId: string;
  log: RequestLog;
}
export interface ReviewHandler {
  (request: ReviewRequest): Promise<string> | string;
  /**
   * The answer to a body that is one answered before but for its uid (src/admission/reuse.ts),
   * counted and logged as a review; undefined when there is none (then parse and call the handler).
   * `raw` is read during the call only.
   */
  fromBody(
    raw: Buffer,
    request: Omit<ReviewRequest, 'body' | 'raw' | 'text' | 'log'>,
  ): string | undefined;
}

/** The review behind POST /inject[/*]; `now` is the monotonic clock (ms) the deadlines are measured on. */
export function reviewHandler(
  app: InjectorApp,
  opts: RouteOptions,
  now: () => number,
): ReviewHandler {
  const { metrics } = opts;
  const writeReviewLine = reviewLineWriter(app.log as Logger);
  const reuse = reviewReuse(opts);
  /** The review's one log line. */
  const logLine = (
    reqId: string,
    parsed: ParsedReview,
    uid: string,
    outcome: ReviewOutcome,
    started: number,
  ): void => {
    // One flat line of scalars per review: nothing in it needs redacting. It is the root
    // logger's line with the request id as its first field: the same bytes fastify's per-request
    // child (bindings `reqId`) would write, without making that child (request-logger.ts), and
    // without pino's per-line work (src/logging/review-line.ts). Undefined fields are left out.
    const meta = parsed.object?.metadata;
    const names = isJsonObject(meta) ? meta : undefined;
    writeReviewLine({
      reqId,
      uid,
      namespace: parsed.namespace,
      name: parsed.name ? parsed.name : undefined,
      podName: typeof names?.name === 'string' && names.name ? names.name : undefined,
      generateName:
        typeof names?.generateName === 'string' && names.generateName
          ? names.generateName
          : undefined,
      operation: parsed.operation,
      decision: outcome.decision,
      reason: outcome.reason,
      ops: outcome.ops,
      code: outcome.errorCode ? outcome.errorCode : undefined,
      namespaceSource: outcome.namespaceSource ? outcome.namespaceSource : undefined,
      dryRun: outcome.dryRun ? true : undefined,
      detail: outcome.message ? outcome.message : undefined,
      durationMs: Math.round((now() - started) * 1000) / 1000,
    });
  };
  /** Counts, reports and logs a review's outcome; returns the answer's JSON text. */
  const finish = (
    reqId: string,
    log: RequestLog,
    parsed: ParsedReview,
    result: ReviewResult,
    started: number,
  ): string => {
    const { outcome } = result;
    recordOutcome(metrics, outcome);
    reportEvent(opts.events, log, parsed, outcome);
    logLine(reqId, parsed, parsed.uid, outcome, started);
    return admissionReviewText(result.response);
  };
  const deadlineOf = (timeout: string | undefined, started: number): number => {
    const requested = timeout === undefined ? undefined : parseGoDuration(timeout);
    return started + budgetMs(requested ?? DEFAULT_TIMEOUT_MS);
  };

  // Not async: a review that needs no waiting (offline, or a namespace the cache knows) is
  // answered in this call, without a promise per step; the others go through `admit`.
  const handler = ({ body, raw, text, url, timeout, started, reqId, log }: ReviewRequest) => {
    const parsed = parseAdmissionReview(body);
    const deadline = deadlineOf(timeout, started);
    const path = decodePath(url.split('?')[0] ?? '');
    const admission = { review: parsed, path, deadline, now };
    let input: ReviewInput | undefined;
    const result = admitNow(
      admission,
      opts,
      raw === undefined || text === undefined ? undefined : (used) => (input = used),
    );
    if (result !== undefined) {
      if (raw !== undefined && text !== undefined && input !== undefined) {
        reuse.remember(raw, { url, path, parsed, text, value: body }, input, result);
      }
      return finish(reqId, log, parsed, result, started);
    }
    return admit(admission, opts).then((answer) => finish(reqId, log, parsed, answer, started));
  };
  const fromBody: ReviewHandler['fromBody'] = (raw, { url, timeout, started, reqId }) => {
    if (now() >= deadlineOf(timeout, started)) return undefined;
    let reused;
    try {
      reused = reuse.answer(raw, url);
    } catch {
      // A source that fails here fails the whole path too, which answers with the error.
      return undefined;
    }
    if (reused === undefined) return undefined;
    recordOutcome(metrics, reused.outcome);
    logLine(reqId, reused.parsed, reused.uid, reused.outcome, started);
    return reused.text;
  };
  return Object.assign(handler, { fromBody });
}

/** The content type fastify sends with a serialised object, and this route with its JSON text. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/** Adds every route; `now` is the monotonic clock (ms) the deadlines are measured on. */
export function addRoutes(
  app: InjectorApp,
  opts: RouteOptions,
  now: () => number,
  review: ReviewHandler,
): void {
  const { metrics } = opts;
  const handleInject = (request: AppRequest, reply: AppReply): Promise<string> | undefined => {
    // The deadline counts from the request's arrival (fastify's clock starts at onRequest), so
    // receiving and parsing a huge body is charged to it too.
    const started = now() - reply.elapsedTime;
    const query = request.query as Record<string, string | undefined>;
    const answer = review({
      body: request.body,
      url: request.url,
      timeout: query.timeout,
      started,
      reqId: request.id,
      log: () => request.log,
    });
    // The text is JSON: the type fastify gives a serialised object (an error's own answer sets
    // its type again).
    void reply.type(JSON_TYPE);
    if (!(answer instanceof Promise)) {
      void reply.send(answer);
      return undefined;
    }
    return answer;
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

/** Percent-decodes the URL path for the path-parameter parser; a bad escape keeps the raw text. */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
