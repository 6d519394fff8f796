/**
 * The direct admission route (src/http/fast-admission.ts) against fastify's: two TLS servers, one
 * with the direct route and one without, get the same generated requests in the same order over
 * HTTP/1.1 and HTTP/2, and must answer with the same status, headers (but `date`) and body bytes,
 * write the same log lines (but `time` and `durationMs`) and count the same metrics (but the
 * durations). The requests cover what the direct route serves (happy, skipped, denied reviews,
 * malformed bodies, path parameters, `?timeout=`) and what it must hand on (other content types,
 * charsets, encodings, oversize and mismatched lengths, other methods, paths and queries).
 */
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import { buildApp, BODY_LIMIT_BYTES, type InjectorApp } from '../../../src/http/app.js';
import { createLogger } from '../../../src/logging/logger.js';
import { createMetrics, type InjectorMetrics } from '../../../src/metrics/registry.js';
import { generateDevCertificates } from '../../../src/tls/dev-cert.js';
import { eventually } from '../../helpers/async.js';
import { generatePod } from '../../helpers/generated-pods.js';
import { BAD_ANNOTATION, makeReview } from '../../helpers/review.js';
import { staticProvider } from './harness.js';

interface Side {
  app: InjectorApp;
  metrics: InjectorMetrics;
  text: () => string;
  port: number;
  /** Requests fastify's own handler chain saw. */
  seenByFastify: () => number;
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

interface Answer {
  status: number;
  headers: [string, string][];
  body: string;
}

let ca = '';
let direct: Side;
let routed: Side;

async function side(directAdmission: boolean, tls: { key: string; cert: string }): Promise<Side> {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  const metrics = createMetrics({ processMetrics: false });
  const app = buildApp({
    config: staticProvider(defaultInjectionConfig()),
    logger: createLogger({ level: 'info', destination: sink }),
    metrics,
    tls,
    directAdmission,
  });
  let seen = 0;
  app.addHook('onRequest', (_request, _reply, done) => {
    seen++;
    done();
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { app, metrics, text: () => text, port, seenByFastify: () => seen };
}

beforeAll(async () => {
  const pair = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
  ca = pair.ca;
  [direct, routed] = await Promise.all([side(true, pair), side(false, pair)]);
});

afterAll(async () => {
  await Promise.all([direct.app.close(), routed.app.close()]);
});

/** Headers but `date`, in the order they arrived; lower-case names. */
function headerList(raw: string[]): [string, string][] {
  const list: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    if (name !== 'date') list.push([name, raw[i + 1] ?? '']);
  }
  return list;
}

function h1Send(port: number, agent: https.Agent | false | undefined, sent: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        ca,
        agent: agent ?? false,
        method: sent.method,
        path: sent.path,
        headers: sent.headers,
        timeout: 30_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: headerList(response.rawHeaders),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(sent.body);
  });
}

function h2Send(session: http2.ClientHttp2Session, sent: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': sent.method, ':path': sent.path, ...sent.headers });
    let status = 0;
    let headers: [string, string][] = [];
    const chunks: Buffer[] = [];
    stream.on('response', (received) => {
      status = Number(received[':status']);
      headers = headerList(
        Object.entries(received).flatMap(([name, value]) => [name, String(value)]),
      ).filter(([name]) => !name.startsWith(':'));
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks).toString() }));
    stream.on('error', reject);
    stream.setTimeout(30_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.end(sent.body);
  });
}

/** What varies between the servers' logs: the time, the measured duration, the port. */
function logLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      line
        .replace(/"time":"[^"]*"/, '"time":""')
        .replace(/"durationMs":[0-9.e-]+/, '"durationMs":0')
        .replace(/127\.0\.0\.1:\d+/, '127.0.0.1:0'),
    );
}

/** Every metric sample but the measured durations (histogram buckets and sums). */
async function metricLines(metrics: InjectorMetrics): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text.split('\n').filter((line) => !/_bucket\{|_sum(\{| )/.test(line));
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/**
 * Bodies of 20-110 KB, which arrive in pieces (the direct route releases their memory once the
 * review is done, src/http/body-memory.ts), in the API server's field order (`kind` first) and
 * from a few pods only, so that repeats take the review reuse path too.
 */
const largeReview = fc
  .record({ seed: fc.integer({ min: 1, max: 4 }), vars: fc.constantFrom(400, 1200, 2500) })
  .map(({ seed, vars }) => {
    const pod = generatePod(seed);
    const [first] = pod.spec?.containers ?? [];
    if (first !== undefined) {
      const padding = Array.from({ length: vars }, (_, i) => ({
        name: `PAD_${i}`,
        value: `v${i}`,
      }));
      first.env = [...(first.env ?? []), ...padding];
    }
    return json({ kind: 'AdmissionReview', ...makeReview({ pod }) });
  });

/** Reviews the direct route answers itself: injected, skipped, denied, and not AdmissionReviews. */
const reviewBody = fc.oneof(
  fc.integer({ min: 1, max: 2 ** 30 }).map((seed) => json(makeReview({ pod: generatePod(seed) }))),
  fc.constant(
    json(
      makeReview({
        pod: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'off', annotations: { 'sidecar.istio.io/inject': 'false' } },
          spec: { containers: [{ name: 'app', image: 'app:1' }] },
        },
      }),
    ),
  ),
  fc.constant(
    json(
      makeReview({
        pod: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { generateName: 'bad-', annotations: { [BAD_ANNOTATION]: 'not a cidr' } },
          spec: { containers: [{ name: 'app', image: 'app:1' }] },
        },
      }),
    ),
  ),
  fc.constantFrom(
    json({ kind: 'AdmissionReview' }),
    json([1, 2]),
    json(makeReview({ request: { object: { metadata: null } } })),
    Buffer.from('{"a":'),
    Buffer.from('{"__proto__":{"x":1}}'),
    Buffer.from('nul\u0000l'),
    Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
  ),
  fc.integer({ min: 1, max: 2 ** 30 }).map((seed) => {
    const whole = json(makeReview({ pod: generatePod(seed) }));
    return whole.subarray(0, seed % whole.length);
  }),
  largeReview,
);

const path = fc.constantFrom(
  '/inject',
  '/inject?timeout=10s',
  '/inject?timeout=0s',
  '/inject?timeout=bogus',
  '/inject?timeout=10s&timeout=2s',
  '/inject?other=1',
  '/inject/',
  '/inject/cluster/c1/net/n1',
  '/inject/cluster/c1/net/n1?timeout=30s',
  '/inject/net/n%2F1',
  '/inject/cluster/%zz',
  '/inject//cluster',
  '/injectx',
  '/healthz',
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'Application/JSON',
  'text/plain',
  undefined,
);

/** How the request's framing headers differ from a plain Content-Length of the body. */
const framing = fc.constantFrom(
  'plain',
  'plain',
  'plain',
  'gzip',
  'identity',
  'chunked',
  'oversize',
  'short',
);

/** Half the requests are the direct route's case (what the API server sends), half anything. */
const request = fc
  .oneof(
    fc.record({
      method: fc.constant('POST'),
      path: fc.constantFrom(
        '/inject',
        '/inject?timeout=10s',
        '/inject?timeout=0s',
        '/inject/cluster/c1/net/n1',
        '/inject/cluster/c1/net/n1?timeout=30s',
      ),
      contentType: fc.constant('application/json'),
      framing: fc.constant('plain'),
      body: reviewBody,
    }),
    fc.record({
      method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'PUT', 'GET'),
      path,
      contentType,
      framing,
      body: reviewBody,
    }),
  )
  .map(({ method, path: target, contentType: type, framing: frame, body }): Sent => {
    const headers: Record<string, string> = {};
    if (type !== undefined) headers['content-type'] = type;
    let sent = method === 'GET' ? Buffer.alloc(0) : body;
    if (frame === 'gzip') headers['content-encoding'] = 'gzip';
    if (frame === 'identity') headers['content-encoding'] = 'identity';
    if (frame === 'oversize') {
      headers['content-length'] = String(BODY_LIMIT_BYTES + 1);
      sent = Buffer.alloc(0);
    } else if (frame !== 'chunked') {
      headers['content-length'] = String(sent.length);
    }
    if (frame === 'short' && sent.length > 1) headers['content-length'] = String(sent.length - 1);
    return { method, path: target, headers, body: sent };
  });

/** Answered on a connection of its own: the server may read past the body, or answer before it. */
const ownConnection = (sent: Sent) => {
  const declared = sent.headers['content-length'];
  return declared !== undefined && Number(declared) !== sent.body.length;
};

function connect(port: number): http2.ClientHttp2Session {
  const session = http2.connect(`https://localhost:${port}`, {
    ca,
    host: '127.0.0.1',
    servername: 'localhost',
  } as http2.SecureClientSessionOptions);
  // A length nghttp2 refuses ends the session (GOAWAY); the stream reports it.
  session.on('error', () => {});
  return session;
}

/** One exchange on a session of its own, closed after it. */
async function h2Once(port: number, sent: Sent): Promise<Answer> {
  const session = connect(port);
  try {
    return await h2Send(session, sent);
  } finally {
    session.destroy();
  }
}

/** An answer, or how the exchange failed (the same way on both servers). */
async function outcome(answer: Promise<Answer>): Promise<Answer | { failed: string }> {
  try {
    return await answer;
  } catch (error) {
    return { failed: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

const RUNS = 600;

describe('the direct admission route answers as fastify does', () => {
  it('over HTTP/1.1 and HTTP/2, for generated requests', async () => {
    const agents = [direct, routed].map(() => new https.Agent({ keepAlive: true, maxSockets: 1 }));
    const sessions = [direct, routed].map((s) => connect(s.port));
    let sent = 0;
    try {
      await fc.assert(
        fc.asyncProperty(request, fc.boolean(), async (exchange, overH2) => {
          const answers = await Promise.all(
            [direct, routed].map((s, i) =>
              outcome(
                overH2
                  ? ownConnection(exchange)
                    ? h2Once(s.port, exchange)
                    : h2Send(sessions[i] as http2.ClientHttp2Session, exchange)
                  : h1Send(s.port, ownConnection(exchange) ? false : agents[i], exchange),
              ),
            ),
          );
          expect(answers[0]).toEqual(answers[1]);
          sent++;
        }),
        { numRuns: RUNS },
      );
    } finally {
      for (const agent of agents) agent?.destroy();
      await Promise.all(
        sessions.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
    }
    // The direct route answered most of them itself: fastify saw fewer requests there.
    expect(sent).toBe(RUNS);
    expect(routed.seenByFastify() - direct.seenByFastify()).toBeGreaterThan(RUNS / 3);
    expect(logLines(direct.text())).toEqual(logLines(routed.text()));
    expect(await metricLines(direct.metrics)).toEqual(await metricLines(routed.metrics));
  }, 180_000);

  it('for a client that drops the connection in the middle of a body', async () => {
    const requests = async (s: Side) =>
      (await metricLines(s.metrics)).find((l) => l.startsWith('sidecar_injection_requests_total'));
    /** Sends headers and part of the body, waits until the server has the request, then drops. */
    const abandon = async (s: Side) => {
      const seen = await requests(s);
      const socket = tls.connect({
        host: '127.0.0.1',
        port: s.port,
        servername: 'localhost',
        ca,
        ALPNProtocols: ['http/1.1'],
      });
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => {});
      socket.write(
        'POST /inject HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
          'Content-Length: 1000\r\n\r\n{"apiVersion":',
      );
      await eventually(async () => (await requests(s)) !== seen, 'the request is seen', 10_000);
      socket.destroy();
      await closed;
    };
    const failures = () =>
      Promise.all(
        [direct, routed].map(async (s) =>
          (await metricLines(s.metrics)).filter((l) => l.startsWith('sidecar_injection_failure')),
        ),
      );
    const before = await failures();
    await Promise.all([abandon(direct), abandon(routed)]);
    // Both servers log and count the dropped request once it has been seen to fail.
    await eventually(
      async () => {
        const after = await failures();
        return after.every((lines, i) => lines.join() !== before[i]?.join());
      },
      'the dropped request is counted',
      10_000,
    );
    expect(logLines(direct.text())).toEqual(logLines(routed.text()));
    expect(await metricLines(direct.metrics)).toEqual(await metricLines(routed.metrics));
  });
});
