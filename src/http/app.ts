/**
 * The HTTP side of the webhook: routes, content negotiation, limits, deadlines, logging and
 * metrics around the pure review (src/core/review.ts). `buildApp` never listens: src/main.ts does,
 * and tests use `app.inject()`.
 */
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawServerBase,
  type RouteGenericInterface,
} from 'fastify';
import type { Logger } from 'pino';
import {
  ERROR_CODES,
  InjectorError,
  formatError,
  isInjectorError,
  type ErrorCode,
} from '../errors.js';
import {
  deadlineError,
  denyReview,
  parseAdmissionReview,
  reviewParsed,
  type InjectionEngine,
  type ParsedReview,
  type ReviewOutcome,
  type ReviewResult,
} from '../core/review.js';
import type {
  ClusterFacts,
  ClusterFactsProvider,
  ClusterReadiness,
  ConfigProvider,
  NamespaceLookupResult,
  NamespaceResolver,
} from '../core/contracts.js';
import { isJsonObject, type JsonObject } from '../core/json.js';
import type { Pod, StringMap } from '../core/k8s.js';
import type { InjectorMetrics } from '../metrics/registry.js';
import { parseJsonBody } from '../core/json-parse.js';
import {
  BODY_LIMIT_BYTES,
  HEADERS_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
} from './limits.js';
import { DEFAULT_TIMEOUT_MS, budgetMs, parseGoDuration } from './timeout.js';
import { guardServer, secureServerOptions } from './transport-guard.js';

export {
  BODY_LIMIT_BYTES,
  HEADERS_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  MAX_CONCURRENT_STREAMS,
  REQUEST_TIMEOUT_MS,
} from './limits.js';

export type InjectorApp = FastifyInstance<RawServerBase>;
type AppRequest = FastifyRequest<RouteGenericInterface, RawServerBase>;
type AppReply = FastifyReply<RouteGenericInterface, RawServerBase>;

export interface TlsMaterial {
  key: string | Buffer;
  cert: string | Buffer;
}

export interface AppOptions {
  engine: InjectionEngine;
  /** Maps the path below `/inject/` to env overrides (spec §3.5). */
  parsePathParams: (path: string) => StringMap;
  config: ConfigProvider;
  logger: Logger;
  metrics: InjectorMetrics;
  /** Cluster mode: namespace labels for the in-process selector check. Absent offline. */
  namespaces?: NamespaceResolver;
  /** Cluster mode: per-pod cluster facts. Offline: `staticFacts` is used. */
  facts?: ClusterFactsProvider;
  /** Facts used when `facts` is absent (offline mode). */
  staticFacts?: ClusterFacts;
  /** Cluster mode: informers synced. */
  clusterReadiness?: ClusterReadiness;
  /** Cluster mode: Events about skipped and denied pods (a non-blocking, bounded batcher). */
  events?: ReviewEventSink;
  /** True once a serving certificate is loaded; absent means no TLS gate (plain HTTP use). */
  certificateReady?: () => boolean;
  /** True while the server drains before shutdown: readiness fails, requests are still answered. */
  draining?: () => boolean;
  /** TLS material: when present the app serves HTTP/2 and HTTP/1.1 over TLS on one port (ALPN). */
  tls?: TlsMaterial;
  /** Monotonic clock in ms, for deadlines; tests may replace it. */
  now?: () => number;
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

interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Fastify's own errors for content negotiation and body reading, mapped onto our codes. */
function toInjectorError(error: FastifyError | InjectorError | Error): InjectorError {
  if (isInjectorError(error)) return error;
  const status =
    'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 0;
  const fastifyCode = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (status === 415) {
    return new InjectorError(
      'INJ_ERR_UNSUPPORTED_MEDIA_TYPE',
      `Content-Type must be application/json (${error.message})`,
    );
  }
  if (status === 413) {
    return new InjectorError(
      'INJ_ERR_BODY_TOO_LARGE',
      `request body exceeds the limit of ${BODY_LIMIT_BYTES} bytes`,
    );
  }
  if (status >= 400 && status < 500) {
    return new InjectorError(
      'INJ_ERR_REVIEW_MALFORMED',
      `request body is not a readable AdmissionReview: ${error.message}${fastifyCode ? ` (${fastifyCode})` : ''}`,
    );
  }
  return new InjectorError('INJ_ERR_INTERNAL', error.message, { cause: error });
}

function sendError(reply: AppReply, error: InjectorError, status = error.httpStatus): void {
  const body: ErrorBody = { code: error.code, message: formatError(error) };
  void reply.code(status).type('application/json').send(body);
}

function isInjectPath(url: string): boolean {
  return url === '/inject' || url.startsWith('/inject?') || url.startsWith('/inject/');
}

/** Resolves the namespace, never past the deadline and never throwing. */
async function lookupNamespace(
  resolver: NamespaceResolver,
  name: string,
  signal: AbortSignal,
): Promise<NamespaceLookupResult> {
  if (signal.aborted) return { source: 'unavailable' };
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<NamespaceLookupResult>((resolve) => {
    onAbort = () => resolve({ source: 'unavailable' });
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([resolver.resolve(name, signal), aborted]);
  } catch {
    return { source: 'unavailable' };
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
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

/** fastify's own 4xx before routing (a URL it cannot decode): the documented error body too. */
function frameworkError(error: FastifyError, _request: unknown, reply: AppReply): void {
  const code = typeof error.code === 'string' ? error.code : 'FST_ERR';
  sendError(
    reply,
    new InjectorError(
      'INJ_ERR_REVIEW_MALFORMED',
      `the request cannot be read: ${error.message} (${code})`,
    ),
    typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 400,
  );
}

function createInstance(opts: AppOptions): InjectorApp {
  const common = {
    loggerInstance: opts.logger,
    // One line per review is written by the handler; fastify's per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    keepAliveTimeout: IDLE_TIMEOUT_MS,
    http2SessionTimeout: IDLE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // kubernetes/kubernetes#127335: the API server keeps sending to a terminating pod; keep
    // answering during the drain instead of replying 503.
    return503OnClosing: false,
    frameworkErrors: frameworkError,
  };
  if (opts.tls) {
    const app = Fastify({
      ...common,
      http2: true,
      https: {
        allowHTTP1: true,
        key: opts.tls.key,
        cert: opts.tls.cert,
        minVersion: 'TLSv1.2',
        // Timeouts, HTTP/2 session memory and reset limits (src/http/limits.ts): Node applies
        // them only when given at construction.
        ...secureServerOptions(),
      },
    });
    guardServer(app.server, {
      onRapidReset: (source, resets) =>
        opts.logger.warn(
          { source, resets },
          'HTTP/2 session cut: too many streams reset by the client',
        ),
    });
    return app as unknown as InjectorApp;
  }
  const app = Fastify(common);
  app.server.headersTimeout = HEADERS_TIMEOUT_MS;
  return app as unknown as InjectorApp;
}

/**
 * A request body we would read wrongly: any Content-Encoding but identity (the API server sends
 * none), or a Transfer-Encoding other than chunked (`gzip, chunked` would be read as plain).
 */
function encodingError(
  headers: Record<string, string | string[] | undefined>,
): InjectorError | undefined {
  const content = headers['content-encoding'];
  const contentText = Array.isArray(content) ? content.join(',') : (content ?? '');
  for (const coding of contentText.split(',')) {
    const name = coding.trim().toLowerCase();
    if (name !== '' && name !== 'identity') {
      return new InjectorError(
        'INJ_ERR_UNSUPPORTED_MEDIA_TYPE',
        `Content-Encoding "${contentText}" is not supported; send the JSON body unencoded`,
      );
    }
  }
  const transfer = headers['transfer-encoding'];
  const transferText = Array.isArray(transfer) ? transfer.join(',') : (transfer ?? '');
  for (const coding of transferText.split(',')) {
    const name = coding.trim().toLowerCase();
    if (name !== '' && name !== 'chunked' && name !== 'identity') {
      return new InjectorError(
        'INJ_ERR_UNSUPPORTED_MEDIA_TYPE',
        `Transfer-Encoding "${transferText}" is not supported; only chunked is`,
      );
    }
  }
  return undefined;
}

/** Builds the fastify instance with every route. Never listens. */
export function buildApp(opts: AppOptions): InjectorApp {
  const app = createInstance(opts);
  const { metrics, engine } = opts;
  const now = opts.now ?? (() => performance.now());

  // Only JSON is accepted. `application/json` with a `charset=utf-8` parameter is accepted too
  // (RFC 8259 JSON is UTF-8 anyway); any other charset is refused with 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (request, body, done) => {
      const header = request.headers['content-type'] ?? '';
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(header)?.[1];
      if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
        done(
          new InjectorError(
            'INJ_ERR_UNSUPPORTED_MEDIA_TYPE',
            `Content-Type charset "${charset}" is not supported; send application/json (UTF-8)`,
          ),
          undefined,
        );
        return;
      }
      const text = typeof body === 'string' ? body : body.toString('utf8');
      // Depth- and size-bounded, prototype-poisoning-safe (src/core/json-parse.ts).
      let parsed: unknown;
      try {
        parsed = parseJsonBody(text);
      } catch (error) {
        done(error as InjectorError, undefined);
        return;
      }
      done(null, parsed);
    },
  );

  app.addHook('onRequest', (request, reply, done) => {
    if (request.method === 'POST' && isInjectPath(request.url)) metrics.requests.inc();
    const refused = encodingError(request.headers);
    if (refused) {
      sendError(reply, refused);
      return;
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.method === 'POST' && isInjectPath(request.url)) {
      const seconds = reply.elapsedTime / 1000;
      metrics.duration.observe(seconds);
      metrics.injectionTime.observe(seconds);
    }
    done();
  });

  app.setErrorHandler((error: FastifyError | InjectorError, request, reply) => {
    const injectorError = toInjectorError(error);
    const status = isInjectorError(error) ? error.httpStatus : (error.statusCode ?? 500);
    const httpStatus = status >= 400 ? status : ERROR_CODES[injectorError.code].httpStatus;
    if (isInjectPath(request.url)) metrics.failure.inc({ code: injectorError.code });
    const level = httpStatus >= 500 ? 'error' : 'info';
    request.log[level](
      { code: injectorError.code, status: httpStatus, url: request.url.split('?')[0] },
      'request rejected',
    );
    sendError(reply, injectorError, httpStatus >= 400 ? httpStatus : 500);
  });

  app.setNotFoundHandler((request, reply) => {
    sendError(
      reply,
      new InjectorError(
        'INJ_ERR_NOT_FOUND',
        `no route for ${request.method} ${request.url.split('?')[0] ?? ''}; the webhook serves POST /inject`,
      ),
    );
  });

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
    const deadlineExceeded = () => now() >= deadline;

    const result = await answer(parsed, request, deadline, deadlineExceeded);
    recordOutcome(metrics, result.outcome);
    const { outcome } = result;
    reportEvent(parsed, outcome);
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

  const events = opts.events;
  const reportEvent = (parsed: ParsedReview, outcome: ReviewOutcome): void => {
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
      // An Event is a courtesy: it never changes or delays the answer.
      opts.logger.warn({ err: error }, 'could not queue a review Event');
    }
  };

  const answer = async (
    parsed: ParsedReview,
    request: AppRequest,
    deadline: number,
    deadlineExceeded: () => boolean,
  ): Promise<ReviewResult> => {
    const isPodCreate = parsed.kind === 'Pod' && parsed.operation === 'CREATE';
    let namespace: NamespaceLookupResult | undefined;
    if (opts.namespaces && isPodCreate) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - now()));
      try {
        namespace = await lookupNamespace(opts.namespaces, parsed.namespace, controller.signal);
      } finally {
        clearTimeout(timer);
      }
      // The timer may fire a fraction of a millisecond before `now()` reaches the deadline
      // (timers run on the event loop's cached clock), so its firing counts as the deadline.
      if (controller.signal.aborted || deadlineExceeded()) {
        return denyReview(parsed, deadlineError('while resolving the namespace'), {
          namespaceSource: namespace.source,
        });
      }
    }
    const path = decodePath(request.url.split('?')[0] ?? '');
    const pathEnv = path.startsWith('/inject/') ? opts.parsePathParams(path) : undefined;
    const facts = opts.facts;
    const staticFacts = opts.staticFacts ?? { nativeSidecars: false };
    return reviewParsed(parsed, {
      engine,
      config: opts.config.current(),
      clusterFacts: facts ? (pod, ns) => facts.factsFor(pod, ns) : () => staticFacts,
      ...(namespace ? { namespace } : {}),
      ...(pathEnv ? { pathEnv } : {}),
      deadlineExceeded,
    });
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

  return app;
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
