/**
 * Bounds on what one client can hold or cost on the TLS server (HTTP/1.1 and HTTP/2 on one port):
 * the server options that enforce the timeouts of src/http/limits.ts, a per-stream request timeout
 * for HTTP/2 (Node enforces `requestTimeout` on HTTP/1.1 connections only), and rapid-reset
 * detection (CVE-2023-44487): a session whose client cancels too many streams gets
 * GOAWAY(ENHANCE_YOUR_CALM) and its socket is destroyed at once (not ended: a client that does not
 * read would hold a half-closed socket), and its source may then open at most one connection a
 * second for a while, so that reconnecting does not buy the attacker more handshakes and streams.
 * Connections refused by that throttle never reach JavaScript: the server's `net.BlockList` holds
 * the source between its allowed connections, and libuv closes the accepted handle before a
 * socket (let alone a TLS handshake) exists. A session from a throttled source is held to a lower
 * reset limit, so each allowed reconnect is cut after a few resets.
 *
 * No cap on concurrent connections per source: the API server opens as many HTTP/1.1 connections
 * as it has concurrent webhook calls (it does not pool them per host), so a per-source cap would
 * throttle pod creation bursts; and behind SNAT many clients share one address. The timeouts bound
 * how long any connection is held instead; who may connect at all is a NetworkPolicy matter.
 */
import type * as Http2 from 'node:http2';
import * as net from 'node:net';
import {
  CONNECTIONS_CHECK_INTERVAL_MS,
  HANDSHAKE_TIMEOUT_MS,
  HEADERS_TIMEOUT_MS,
  HTTP2_WINDOW_BYTES,
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
/** Resets a session from a throttled source may make before it is cut. */
export const THROTTLED_MAX_RESETS = 10;
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
    // The window of each stream; the session's own is raised when it starts (guardServer).
    settings: {
      maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
      initialWindowSize: HTTP2_WINDOW_BYTES,
    },
  };
}

export interface GuardEvents {
  /** A session was cut for rapid reset (`streams`: streams the session had opened). */
  onRapidReset?: (source: string, resets: number, streams: number) => void;
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
  /** While the throttle holds the source in the block list: until then. */
  blockedUntil: number;
}

interface SessionState {
  /** The client's address, read while the socket is open. */
  source: string;
  windowStart: number;
  resets: number;
  streams: number;
  /** Resets allowed per window: lower for a session from a throttled source. */
  limit: number;
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

  // The block list is replaced, not edited (a BlockList has no removal): rebuilt from the sources
  // still held whenever one is added or released.
  let blockTimer: NodeJS.Timeout | undefined;
  const rebuildBlockList = () => {
    if (blockTimer !== undefined) clearTimeout(blockTimer);
    blockTimer = undefined;
    const t = now();
    const list = new net.BlockList();
    let next = Number.POSITIVE_INFINITY;
    for (const [source, state] of sources) {
      if (state.blockedUntil <= t) continue;
      const family = net.isIP(source);
      if (family === 0) continue;
      list.addAddress(source, family === 6 ? 'ipv6' : 'ipv4');
      next = Math.min(next, state.blockedUntil);
    }
    (server as unknown as net.Server & { blockList?: net.BlockList }).blockList = list;
    if (next !== Number.POSITIVE_INFINITY) {
      blockTimer = setTimeout(rebuildBlockList, Math.max(1, next - t));
      blockTimer.unref();
    }
  };
  const hold = (state: SourceState, until: number) => {
    state.blockedUntil = Math.min(until, state.until);
    rebuildBlockList();
  };

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
    // The block list normally refuses these before they get here; this covers the moments
    // around its rebuilds and sources it cannot hold.
    if (t - state.lastAccept < THROTTLED_ACCEPT_INTERVAL_MS) {
      events.onThrottled?.(source);
      socket.destroy();
      return;
    }
    state.lastAccept = t;
    hold(state, t + THROTTLED_ACCEPT_INTERVAL_MS);
  };

  const penalise = (source: string) => {
    const t = now();
    if (!sources.has(source) && sources.size >= MAX_TRACKED_SOURCES) {
      const oldest = sources.keys().next();
      if (!oldest.done) sources.delete(oldest.value);
    }
    const state = { until: t + ABUSE_PENALTY_MS, lastAccept: t, blockedUntil: 0 };
    sources.set(source, state);
    hold(state, t + THROTTLED_ACCEPT_INTERVAL_MS);
  };

  const sessionState = (session: Http2.Http2Session): SessionState => {
    let state = sessions.get(session);
    if (state === undefined) {
      const source = session.socket?.remoteAddress ?? '';
      const throttled = (sources.get(source)?.until ?? 0) > now();
      state = {
        source,
        windowStart: now(),
        resets: 0,
        streams: 0,
        limit: throttled ? THROTTLED_MAX_RESETS : MAX_RESETS_PER_WINDOW,
        cut: false,
      };
      sessions.set(session, state);
    }
    return state;
  };

  // The connection-level window is not a SETTINGS value: it grows by a WINDOW_UPDATE we send.
  const onSession = (session: Http2.ServerHttp2Session) => {
    if (!session.destroyed) session.setLocalWindowSize(HTTP2_WINDOW_BYTES);
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
    sessionState(session).streams++;
    stream.once('close', () => {
      // A stream the client reset (RST_STREAM with any code but NO_ERROR) before we finished it.
      if (timedOut || stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) return;
      countReset(session);
    });
  };

  const countReset = (session: Http2.Http2Session) => {
    const state = sessionState(session);
    const t = now();
    if (t - state.windowStart > RESET_WINDOW_MS) {
      state.windowStart = t;
      state.resets = 0;
    }
    state.resets++;
    if (state.resets <= state.limit || state.cut) return;
    state.cut = true;
    events.onRapidReset?.(state.source, state.resets, state.streams);
    penalise(state.source);
    // Stream closes are counted after the fact: the session may be gone already (the client
    // dropped the connection, nghttp2 ended it), and GOAWAY on a destroyed session throws.
    if (session.destroyed) return;
    const socket = session.socket as net.Socket | undefined;
    if (!session.closed) session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.destroy();
    // destroy() only ends the socket once its writes drain; an attacker that does not read keeps
    // it (and its buffers) open. The GOAWAY is best effort.
    setImmediate(() => socket?.destroy());
  };

  server.on('connection', onConnection);
  server.on('stream', onStream);
  server.on('session', onSession);
  return {
    throttledSources: () => [...sources.keys()],
    close() {
      server.off('connection', onConnection);
      server.off('stream', onStream);
      server.off('session', onSession);
      if (blockTimer !== undefined) clearTimeout(blockTimer);
      sources.clear();
      rebuildBlockList();
    },
  };
}
