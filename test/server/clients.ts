/** Small HTTPS/HTTP2/TLS clients for the transport tests; every call is bounded in time. */
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';

/**
 * Idle bound of every call: the longest the API server waits for a webhook (30 s). Shorter bounds
 * failed on a loaded 2-core machine: six 5 MiB reviews on one HTTP/2 session are answered one
 * after another, and the last stream sat idle for more than 5 s.
 */
const TIMEOUT_MS = 30_000;

export interface Reply {
  status: number;
  body: string;
  protocol: string;
}

export function h1Request(
  port: number,
  options: {
    ca: string | string[];
    path: string;
    method?: string;
    body?: string;
    agent?: https.Agent;
  },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        path: options.path,
        method: options.method ?? 'GET',
        ca: options.ca,
        agent: options.agent ?? false,
        timeout: TIMEOUT_MS,
        headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body,
            protocol: (response.socket as tls.TLSSocket | null)?.alpnProtocol || 'http/1.1',
          }),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(options.body);
  });
}

export function h2Connect(port: number, ca: string | string[]): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://localhost:${port}`, {
      ca,
      host: '127.0.0.1',
      servername: 'localhost',
    } as http2.SecureClientSessionOptions);
    session.setTimeout(TIMEOUT_MS, () => session.destroy(new Error('session timed out')));
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

export function h2Request(
  session: http2.ClientHttp2Session,
  options: { path: string; method?: string; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': options.method ?? 'GET',
      ':path': options.path,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body, protocol: 'h2' }));
    stream.on('error', reject);
    // A stream closed without an end (reset by either side, or the idle bound below) is a
    // failure, never a promise left pending until the test's own timeout.
    stream.on('close', () =>
      reject(new Error(`HTTP/2 stream closed without an answer (code ${stream.rstCode})`)),
    );
    stream.setTimeout(TIMEOUT_MS, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.end(options.body);
  });
}

export function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed || session.destroyed) {
      resolve();
      return;
    }
    session.close(() => resolve());
  });
}

/** Completes a TLS handshake (or fails) and reports the negotiated version and server certificate. */
export function handshake(
  port: number,
  options: tls.ConnectionOptions,
): Promise<{ version: string | null; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      servername: 'localhost',
      port,
      timeout: TIMEOUT_MS,
      ...options,
    });
    socket.once('secureConnect', () => {
      const raw = socket.getPeerX509Certificate();
      const result = { version: socket.getProtocol(), fingerprint: raw?.fingerprint256 ?? '' };
      socket.end();
      resolve(result);
    });
    socket.once('timeout', () => socket.destroy(new Error('handshake timed out')));
    socket.once('error', reject);
  });
}

export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/**
 * Retries `check` until it returns true, at most `attempts` times, `delayMs` apart. The default
 * waits up to 20 s: a condition that holds at once costs one try, and a loaded 2-core machine
 * (a certificate watcher's debounce, an informer's first list) can take more than 5 s.
 */
export async function eventually(
  check: () => Promise<boolean>,
  attempts = 200,
  delayMs = 100,
): Promise<boolean> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  return false;
}
