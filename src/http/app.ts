/**
 * The HTTP side of the webhook: the fastify instance (TLS, HTTP/2 and HTTP/1.1, limits) put
 * together from its parts: content-type parsing (content-type.ts), error handling (errors.ts) and
 * the routes (routes.ts). `buildApp` never listens: src/server.ts does, and tests use
 * `app.inject()`.
 */
import type { EventEmitter } from 'node:events';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import {
  BODY_LIMIT_BYTES,
  HEADERS_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
} from './limits.js';
import { acceptJsonOnly, encodingError } from './content-type.js';
import { answerErrors, frameworkError, isInjectPath, sendError } from './errors.js';
import { lazyChildLogger } from './request-logger.js';
import { directAdmission, requestIds } from './fast-admission.js';
import { addRoutes, reviewHandler, type RouteOptions } from './routes.js';
import { guardServer, secureServerOptions } from './transport-guard.js';
import type { InjectorApp } from './types.js';

export {
  BODY_LIMIT_BYTES,
  HEADERS_TIMEOUT_MS,
  HTTP2_WINDOW_BYTES,
  IDLE_TIMEOUT_MS,
  MAX_CONCURRENT_STREAMS,
  REQUEST_TIMEOUT_MS,
} from './limits.js';
export type { InjectorApp } from './types.js';

export interface TlsMaterial {
  key: string | Buffer;
  cert: string | Buffer;
}

export interface AppOptions extends RouteOptions {
  logger: Logger;
  /** TLS material: when present the app serves HTTP/2 and HTTP/1.1 over TLS on one port (ALPN). */
  tls?: TlsMaterial;
  /** Monotonic clock in ms, for deadlines; tests may replace it. */
  now?: () => number;
  /**
   * Answer well-formed review POSTs from the server's request listener, ahead of fastify
   * (src/http/fast-admission.ts). Default true; false sends every request through fastify (the
   * test comparing both routes).
   */
  directAdmission?: boolean;
}

/** Routes without schemas: a schema added later fails at start-up, not on a request. */
const NO_SCHEMA_COMPILERS = {
  buildValidator: (): never => {
    throw new Error('route schemas are not supported: the webhook validates reviews itself');
  },
  buildSerializer: (): never => {
    throw new Error('route schemas are not supported: responses are serialised as JSON');
  },
};

function createInstance(opts: AppOptions, genReqId: () => string): InjectorApp {
  const common = {
    // One request-id counter for fastify and the direct admission route.
    genReqId,
    loggerInstance: opts.logger,
    // One line per review is written by the handler; fastify's per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    keepAliveTimeout: IDLE_TIMEOUT_MS,
    http2SessionTimeout: IDLE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // kubernetes/kubernetes#127335: the API server keeps sending to a terminating pod; keep
    // answering during the drain instead of replying 503.
    return503OnClosing: false,
    frameworkErrors: frameworkError,
    // No route declares a schema, so fastify's default compilers (ajv and fast-json-stringify,
    // ~90 ms of start-up to load) would never run: the factories below are never called.
    schemaController: { compilersFactory: NO_SCHEMA_COMPILERS },
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
      onRapidReset: (source, resets, streams) =>
        opts.logger.warn(
          { source, resets, streams },
          'HTTP/2 session cut: too many streams reset by the client',
        ),
    });
    return app as unknown as InjectorApp;
  }
  const app = Fastify(common);
  app.server.headersTimeout = HEADERS_TIMEOUT_MS;
  return app as unknown as InjectorApp;
}

/** Builds the fastify instance with every route. Never listens. */
export function buildApp(opts: AppOptions): InjectorApp {
  const nextId = requestIds();
  const app = createInstance(opts, nextId);
  const { metrics } = opts;
  const now = opts.now ?? (() => performance.now());
  acceptJsonOnly(app);
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

  answerErrors(app, metrics);
  const review = reviewHandler(app, opts, now);
  addRoutes(app, opts, now, review);
  if (opts.directAdmission !== false) {
    let closing = false;
    app.addHook('preClose', (done) => {
      closing = true;
      done();
    });
    // fastify's listener, given to the server at construction (fastify/lib/server.js).
    const server = app.server as unknown as EventEmitter;
    const [routed] = server.listeners('request') as Parameters<typeof directAdmission>[0][];
    if (routed !== undefined) {
      server.off('request', routed);
      server.on(
        'request',
        directAdmission(routed, {
          review,
          metrics,
          log: app.log as Logger,
          nextId,
          now,
          closing: () => closing,
        }),
      );
    }
  }
  return app;
}
