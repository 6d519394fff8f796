/**
 * Connection and request bounds of the TLS server, for HTTP/1.1 and HTTP/2 alike, chosen against
 * how the API server calls webhooks (docs/server.md, "Connection limits"):
 * - it sends a whole request at once, headers and body, and waits at most `timeoutSeconds` (at
 *   most 30 s) for the answer; a request still arriving after that has been abandoned;
 * - it keeps idle connections open for 90 s (Go's `http.Transport.IdleConnTimeout` in
 *   k8s.io/apimachinery/pkg/util/net `SetTransportDefaults`), and reuses them.
 */

/** Istio's limit (spec §3.2); pods stored in etcd stay well below ~1.5 MiB. */
export const BODY_LIMIT_BYTES = 6 * 1024 * 1024;

/** A TLS handshake not finished by then is a client holding a socket for nothing. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Request headers complete within this of the request's first byte (slowloris bound). */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * The whole request, body included, within this of its first byte: the largest `timeoutSeconds`
 * the API server accepts. A body still trickling in after it would be answered to no one.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Above the API server's 90 s idle-connection timeout, so it never reuses a socket we are closing. */
export const IDLE_TIMEOUT_MS = 95_000;

/** How often HTTP/1.1 connections are checked against the header and request timeouts. */
export const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

/** Bound on concurrent HTTP/2 streams per session. */
export const MAX_CONCURRENT_STREAMS = 128;

/**
 * HTTP/2 receive window in bytes, for each stream and for the session. The protocol's default,
 * 65 535 (RFC 9113 §6.9.2), holds ~18 Bookinfo review bodies: with 64 streams on one connection
 * the others waited for WINDOW_UPDATEs, and their answers came up to 30 x later than the median
 * (docs/performance.md). What a session can make us buffer stays bounded by its receive window
 * and MAX_SESSION_MEMORY_MB.
 */
export const HTTP2_WINDOW_BYTES = 1024 * 1024;

/**
 * HTTP/2 session memory (nghttp2's accounting, in MB): room for a few 6 MiB bodies in flight on
 * one shared connection. Node's default (10 MB) refuses the second large review with
 * ENHANCE_YOUR_CALM.
 */
export const MAX_SESSION_MEMORY_MB = 64;

/**
 * Rapid-reset detection (CVE-2023-44487): a session whose client cancels more than this many
 * streams within `RESET_WINDOW_MS` gets GOAWAY(ENHANCE_YOUR_CALM) and is closed. A well-behaved
 * client (the API server never cancels a webhook call except at its timeout) stays far below.
 */
export const MAX_RESETS_PER_WINDOW = 100;
export const RESET_WINDOW_MS = 1_000;
