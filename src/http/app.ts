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
import { admit, type AdmissionSources } from '../admission/admit.js';
import { parseAdmissionReview, type ReviewOutcome, type ReviewResult } from '../core/review.js';
import type { ClusterReadiness } from '../core/contracts.js';
import { isJsonObject, type JsonObject } from '../core/json.js';
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

export interface AppOptions extends AdmissionSources {
  logger: Logger;
  metrics: InjectorMetrics;
  /** Cluster mode: informers synced. */
  clusterReadiness?: ClusterReadiness;
  /** True once a serving certificate is loaded; absent means no TLS gate (plain HTTP use). */
  certificateReady?: () => boolean;
  /** True while the server drains before shutdown: readiness fails, requests are still answered. */
  draining?: () => boolean;
  /** TLS material: when present the app serves HTTP/2 and HTTP/1.1 over TLS on one port (ALPN). */
  tls?: TlsMaterial;
  /** Monotonic clock in ms, for deadlines; tests may replace it. */
  now?: () => number;
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
  const { metrics } = opts;
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
    const path = decodePath(request.url.split('?')[0] ?? '');

    const result = await admit({ review: parsed, path, deadline, now }, opts);
    recordOutcome(metrics, result.outcome);
    const { outcome } = result;
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
