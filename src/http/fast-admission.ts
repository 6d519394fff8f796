/**
 * The direct admission route: the API server's review POSTs are answered from the Node server's
 * 'request' listener, ahead of fastify, when their headers are exactly what that route reads:
 * POST, `/inject` or `/inject/<segments>` with at most `?timeout=<duration>`, `Content-Type:
 * application/json`, a `Content-Length` within the body limit, no Content-Encoding or
 * Transfer-Encoding. Everything else, and everything while the app is closing, goes to fastify
 * unchanged.
 *
 * The answer is the one fastify's route gives, byte for byte (test/unit/http/fast-admission.test.ts
 * sends the same requests both ways): the same review function (routes.ts), the same request ids
 * (one counter, given to fastify as `genReqId`), the same error table and `request rejected` line
 * (errors.ts), the same metrics, the same headers (fastify's `content-type` and `content-length`,
 * then Node's own). What it saves is fastify's per-request work (routing, the request and reply
 * objects, hooks, the content-type parser, the serialiser lookup): measured in docs/performance.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { errorCodes } from 'fastify';
import type { Logger } from 'pino';
import type { InjectorMetrics } from '../metrics/registry.js';
import { parseBodyText } from './content-type.js';
import { errorPayload, rejectionOf } from './errors.js';
import { releaseBufferMemory } from './body-memory.js';
import { BODY_LIMIT_BYTES } from './limits.js';
import { lazyChildLogger } from './request-logger.js';
import { JSON_TYPE, type ReviewHandler } from './routes.js';

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;
type Listener = (request: Request, response: Response) => void;

export interface DirectAdmissionOptions {
  review: ReviewHandler;
  metrics: InjectorMetrics;
  /** The app's root logger (the review line and the request's lazy child come from it). */
  log: Logger;
  /** The request-id generator fastify uses too (`genReqId`). */
  nextId: () => string;
  now: () => number;
  /** True once the app is closing: fastify then adds `Connection: close`, so it answers. */
  closing: () => boolean;
}

/** `/inject`, or `/inject/` and path segments of unreserved characters: nothing for fastify to decode. */
const PATH = /^\/inject(?:\/[A-Za-z0-9._~/-]{0,256})?$/;
/** The query the API server sends (`?timeout=10s`, from `timeoutSeconds`), or none. */
const QUERY = /^timeout=([0-9a-z.]{1,32})$/;
const DIGITS = /^[0-9]{1,8}$/;

/** fastify request-id format (`req-<base 36 counter>`, wrapping below 2^31), one counter for both routes. */
export function requestIds(): () => string {
  let next = 0;
  return () => {
    next = (next + 1) & 0x7fffffff;
    return `req-${next.toString(36)}`;
  };
}

/** What the request's headers say, when they are the direct route's case; undefined otherwise. */
function directCase(
  request: Request,
): { length: number; timeout: string | undefined; url: string } | undefined {
  if (request.method !== 'POST') return undefined;
  const url = request.url;
  if (url === undefined || !url.startsWith('/inject')) return undefined;
  const headers = request.headers;
  if (headers['content-type'] !== 'application/json') return undefined;
  if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) {
    return undefined;
  }
  const lengthText = headers['content-length'];
  if (lengthText === undefined || !DIGITS.test(lengthText)) return undefined;
  const length = Number(lengthText);
  if (length === 0 || length > BODY_LIMIT_BYTES) return undefined;
  const queryAt = url.indexOf('?');
  if (!PATH.test(queryAt < 0 ? url : url.slice(0, queryAt))) return undefined;
  let timeout: string | undefined;
  if (queryAt >= 0) {
    const match = QUERY.exec(url.slice(queryAt + 1));
    if (match === null) return undefined;
    timeout = match[1];
  }
  return { length, timeout, url };
}

/**
 * Wraps fastify's 'request' listener: the direct case is answered here, the rest handed on.
 * Install after the app is built and before it listens.
 */
export function directAdmission(fastify: Listener, opts: DirectAdmissionOptions): Listener {
  const { review, metrics, log, nextId, now, closing } = opts;

  /** `close`: the body could not be read; fastify then closes an HTTP/1.1 connection. */
  const answer = (response: Response, status: number, payload: string, close = false): void => {
    // The header object fastify hands to writeHead, in its order. Node drops (with a warning)
    // a connection header on HTTP/2, so it is sent on HTTP/1.1 only.
    const length = String(Buffer.byteLength(payload));
    (response as ServerResponse).writeHead(
      status,
      close && response.req.httpVersionMajor !== 2
        ? { connection: 'close', 'content-type': JSON_TYPE, 'content-length': length }
        : { 'content-type': JSON_TYPE, 'content-length': length },
    );
    (response as ServerResponse).end(payload);
  };

  return (request, response) => {
    const found = closing() ? undefined : directCase(request);
    if (found === undefined) {
      fastify(request, response);
      return;
    }
    const { length, timeout, url } = found;
    const started = now();
    const reqId = nextId();
    let child: Logger | undefined;
    const requestLog = (): Logger => {
      child ??= lazyChildLogger(log, { reqId }, {}) as Logger;
      return child;
    };
    metrics.requests.inc();
    /** A request that failed before or in its review: fastify's error handler's answer. */
    const reject = (error: Error, unread = false): void => {
      const rejection = rejectionOf(error);
      metrics.failure.inc({ code: rejection.error.code });
      requestLog()[rejection.level](
        { code: rejection.error.code, status: rejection.logStatus, url: url.split('?')[0] },
        'request rejected',
      );
      answer(response, rejection.status, errorPayload(rejection.error), unread);
    };
    // As fastify's response listeners (reply.js setupResponseListeners): from the start, so a
    // stream that fails before it is answered is timed too.
    const observe = () => {
      response.off('finish', observe);
      response.off('error', observe);
      const seconds = (now() - started) / 1000;
      metrics.duration.observe(seconds);
      metrics.injectionTime.observe(seconds);
    };
    response.on('finish', observe);
    response.on('error', observe);

    const chunks: Buffer[] = [];
    let received = 0;
    // As fastify's body reader (content-type-parser.js rawBody): the limit while reading, the
    // declared length at the end, a stream error as a 400.
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > BODY_LIMIT_BYTES) {
        stop();
        reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), true);
        return;
      }
      chunks.push(chunk);
    };
    const onError = (error: Error & { statusCode?: number }) => {
      stop();
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) {
        error.statusCode = 400;
      }
      reject(error, true);
    };
    const onEnd = () => {
      stop();
      if (received !== length) {
        reject(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), true);
        return;
      }
      const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
      try {
        answerBody(raw);
      } finally {
        // Nothing reads the body after this call (the review reads `raw` during it only): its
        // memory goes back now (body-memory.ts). On HTTP/1.1 the pieces are Node's own copies,
        // one per parser callback (node_http_parser.cc `on_body`, Buffer::Copy); on HTTP/2 they
        // may be views into the session's read buffer, so only the joined Buffer is ours there.
        if (request.httpVersionMajor === 1) for (const chunk of chunks) releaseBufferMemory(chunk);
        if (raw !== chunks[0]) releaseBufferMemory(raw);
      }
    };
    const answerBody = (raw: Buffer) => {
      // A body answered before but for its uid (src/admission/reuse.ts); never throws.
      const reused = review.fromBody(raw, { url, timeout, started, reqId });
      if (reused !== undefined) {
        answer(response, 200, reused);
        return;
      }
      const text = raw.toString('utf8');
      const parsed = parseBodyText(text);
      if ('error' in parsed) {
        reject(parsed.error, true);
        return;
      }
      const body = parsed.body;
      let result: ReturnType<ReviewHandler>;
      try {
        result = review({ body, raw, text, url, timeout, started, reqId, log: requestLog });
      } catch (error) {
        reject(error as Error);
        return;
      }
      if (result instanceof Promise) {
        result.then(
          (text) => answer(response, 200, text),
          (error: unknown) => reject(error as Error),
        );
        return;
      }
      answer(response, 200, result);
    };
    const stop = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  };
}
