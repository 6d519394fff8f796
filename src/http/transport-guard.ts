/**
 * Bounds on what one client can hold or cost on the TLS server (HTTP/1.1 and HTTP/2 on one port):
 * the server options that enforce the timeouts of src/http/limits.ts, a per-stream request timeout
 * for HTTP/2 (Node enforces `requestTimeout` on HTTP/1.1 connections only), and rapid-reset
 * detection (CVE-2023-44487): a session whose client cancels too many streams gets
 * GOAWAY(ENHANCE_YOUR_CALM) and is closed, and its source may then open at most one connection a
 * second for a while, so that reconnecting does not buy the attacker more handshakes and streams.
 *
 * No cap on concurrent connections per source: the API server opens as many HTTP/1.1 connections
 * as it has concurrent webhook calls (it does not pool them per host), so a per-source cap would
 * throttle pod creation bursts; and behind SNAT many clients share one address. The timeouts bound
 * how long any connection is held instead; who may connect at all is a NetworkPolicy matter.
 */
import type * as Http2 from 'node:http2';
import type * as net from 'node:net';
import {
  CONNECTIONS_CHECK_INTERVAL_MS,
  HANDSHAKE_TIMEOUT_MS,
  HEADERS_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  MAX_CONCURRENT_STREAMS,
  MAX_RESETS_PER_WINDOW,
  MAX_SESSION_MEMORY_MB,
  REQUEST_TIMEOUT_MS,
  RESET_WINDOW_MS,
} from './limits.js';
import { http2 } from './node-http.js';

/** After a rapid-reset cut, the source is throttled for this long (extended on every cut). */
export const ABUSE_PENALTY_MS = 10_000;
/** While throttled, a source may open one connection per this interval. */
export const THROTTLED_ACCEPT_INTERVAL_MS = 1_000;
/** Bound on remembered sources, so the table itself cannot be grown without limit. */
const MAX_TRACKED_SOURCES = 4_096;

/**
 * Options for `http2.createSecureServer` (through fastify's `https`): the HTTP/1.1 timeouts only
 * take effect when given at construction (setting them on the server afterwards does not start
 * Node's periodic connection check), as does the TLS handshake timeout.
 */
export function secureServerOptions(): Record<string, unknown> {
  return {
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: IDLE_TIMEOUT_MS,
    connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
    // nghttp2's own RST_STREAM rate limit (token bucket), below its defaults of 1000 / 33 per s.
    streamResetBurst: MAX_RESETS_PER_WINDOW,
    streamResetRate: MAX_RESETS_PER_WINDOW,
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
  };
}

export interface GuardEvents {
  /** A session was cut for rapid reset. */
  onRapidReset?: (source: string, resets: number) => void;
  /** A connection from a throttled source was refused. */
  onThrottled?: (source: string) => void;
  now?: () => number;
}

export interface TransportGuard {
  /** Sources currently throttled (for tests and readiness detail). */
  throttledSources(): string[];
  close(): void;
}

interface SourceState {
  until: number;
  lastAccept: number;
}

interface SessionState {
  /** The client's address, read while the socket is open. */
  source: string;
  windowStart: number;
  resets: number;
  cut: boolean;
}

/** Attaches the guard to the TLS server. Call before `listen`. */
export function guardServer(
  server: Http2.Http2SecureServer,
  events: GuardEvents = {},
): TransportGuard {
  const now = events.now ?? (() => performance.now());
  const sources = new Map<string, SourceState>();
  const sessions = new WeakMap<Http2.Http2Session, SessionState>();

  const onConnection = (socket: net.Socket) => {
    // Small answers on a request/response protocol: Nagle's algorithm with delayed ACKs only adds
    // latency (tens of ms on a fresh connection).
    socket.setNoDelay(true);
    const source = socket.remoteAddress ?? '';
    const state = sources.get(source);
    if (state === undefined) return;
    const t = now();
    if (t >= state.until) {
      sources.delete(source);
      return;
    }
    if (t - state.lastAccept < THROTTLED_ACCEPT_INTERVAL_MS) {
      events.onThrottled?.(source);
      socket.destroy();
      return;
    }
    state.lastAccept = t;
  };

  const penalise = (source: string) => {
    const t = now();
    if (!sources.has(source) && sources.size >= MAX_TRACKED_SOURCES) {
      const oldest = sources.keys().next();
      if (!oldest.done) sources.delete(oldest.value);
    }
    sources.set(source, { until: t + ABUSE_PENALTY_MS, lastAccept: t });
  };

  const onStream = (stream: Http2.ServerHttp2Stream) => {
    const session = stream.session;
    // The whole request, body included, within the request timeout (HTTP/1.1 gets this from Node).
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    }, REQUEST_TIMEOUT_MS);
    timer.unref();
    const clear = () => clearTimeout(timer);
    stream.once('end', clear);
    stream.once('close', clear);
    if (session === undefined) return;
    if (!sessions.has(session)) {
      sessions.set(session, {
        source: session.socket?.remoteAddress ?? '',
        windowStart: now(),
        resets: 0,
        cut: false,
      });
    }
    stream.once('close', () => {
      // A stream the client reset (RST_STREAM with any code but NO_ERROR) before we finished it.
      if (timedOut || stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) return;
      countReset(session);
    });
  };

  const countReset = (session: Http2.Http2Session) => {
    let state = sessions.get(session);
    const t = now();
    if (state === undefined) {
      state = {
        source: session.socket?.remoteAddress ?? '',
        windowStart: t,
        resets: 0,
        cut: false,
      };
      sessions.set(session, state);
    } else if (t - state.windowStart > RESET_WINDOW_MS) {
      state.windowStart = t;
      state.resets = 0;
    }
    state.resets++;
    if (state.resets <= MAX_RESETS_PER_WINDOW || state.cut) return;
    state.cut = true;
    events.onRapidReset?.(state.source, state.resets);
    penalise(state.source);
    session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.destroy();
  };

  server.on('connection', onConnection);
  server.on('stream', onStream);
  return {
    throttledSources: () => [...sources.keys()],
    close() {
      server.off('connection', onConnection);
      server.off('stream', onStream);
      sources.clear();
    },
  };
}
