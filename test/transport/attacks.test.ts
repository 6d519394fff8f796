/**
 * Hostile clients against the real server in its own process, on 127.0.0.1: tricklers of headers
 * and bodies (HTTP/1.1 and HTTP/2), a silent TLS client, a reconnecting HTTP/2 rapid-reset client
 * measured by another client's latency, large reviews sharing one HTTP/2 connection, and JSON bombs
 * while /healthz is polled. Every client and the server are bounded in time.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HANDSHAKE_TIMEOUT_MS,
  HEADERS_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
} from '../../src/http/limits.js';
import type { DevCertificates } from '../../src/tls/dev-cert.js';
import { PAYLOADS_DIR } from '../helpers/shared.js';
import {
  startServingProcess,
  type ServerProcess,
  type ServingProcess,
} from '../helpers/server-process.js';
import { closeSession, h1Request, h2Request } from '../server/clients.js';

/** An HTTP/2 review stream whose body the caller writes (errors are the test's to observe). */
function openReview(session: http2.ClientHttp2Session, length: number): http2.ClientHttp2Stream {
  const stream = session.request({
    ':method': 'POST',
    ':path': '/inject',
    'content-type': 'application/json',
    'content-length': String(length),
  });
  stream.on('error', () => undefined);
  return stream;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Timers fire on a loaded 2-core machine a little late; a cut must come within this of its bound. */
const SLACK_MS = 3_000;
/** The server's warning when it cuts a session for rapid reset. */
const RAPID_RESET_LOG = 'HTTP/2 session cut: too many streams reset by the client';

let serving: ServingProcess | undefined;
let dir: string;
let pair: DevCertificates;
let server: ServerProcess;
let review: string;

beforeAll(async () => {
  review = await readFile(join(PAYLOADS_DIR, 'bookinfo-ratings-v1.json'), 'utf8');
  serving = await startServingProcess('injector-attacks-', ['--drain-seconds=0'], {
    maxLifetimeMs: 300_000,
  });
  ({ dir, pair, server } = serving);
});

afterAll(async () => {
  await serving?.stop();
});

function connectH1(): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.port,
      servername: 'localhost',
      ca: pair.ca,
      ALPNProtocols: ['http/1.1'],
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes `chunks` one per `everyMs` until the server closes; resolves when it does. */
function trickle(
  socket: net.Socket,
  chunks: Iterable<string>,
  everyMs: number,
  giveUpMs: number,
): Promise<{ closedAfterMs: number | undefined; received: string }> {
  const started = performance.now();
  const iterator = chunks[Symbol.iterator]();
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const next = iterator.next();
      if (!next.done && socket.writable) socket.write(next.value);
    }, everyMs);
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      resolve({ closedAfterMs: undefined, received });
    }, giveUpMs);
    socket.once('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: performance.now() - started, received });
    });
  });
}

function* forever(text: string): Generator<string> {
  for (;;) yield text;
}

/** CPU seconds (user + system) the server process has used so far (Linux /proc, 100 ticks/s). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5), counted from the state field (3).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

describe('slow clients are cut at the documented bounds', () => {
  it(
    'HTTP/1.1: a header trickler within the header timeout, a body trickler within the request timeout, a silent TLS client within the handshake timeout',
    async () => {
      const headerSocket = await connectH1();
      headerSocket.write('POST /inject HTTP/1.1\r\nHost: localhost\r\n');
      const headers = trickle(
        headerSocket,
        forever('X-A: b\r\n'),
        1_000,
        HEADERS_TIMEOUT_MS + 20_000,
      );

      const bodySocket = await connectH1();
      bodySocket.write(
        `POST /inject HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${review.length}\r\n\r\n`,
      );
      const body = trickle(bodySocket, review, 1_000, REQUEST_TIMEOUT_MS + 20_000);

      // TCP only: the TLS ClientHello never comes.
      const silent = net.connect({ host: '127.0.0.1', port: server.port });
      await new Promise((resolve) => silent.once('connect', resolve));
      const handshake = trickle(silent, [], 60_000, HANDSHAKE_TIMEOUT_MS + 20_000);

      const [h, b, s] = await Promise.all([headers, body, handshake]);
      console.log(
        `cut after: headers ${h.closedAfterMs?.toFixed(0)} ms, body ${b.closedAfterMs?.toFixed(0)} ms, handshake ${s.closedAfterMs?.toFixed(0)} ms`,
      );
      expect(h.closedAfterMs).toBeDefined();
      expect(h.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
      expect(h.received).toMatch(/^HTTP\/1\.1 408/);
      expect(b.closedAfterMs).toBeDefined();
      expect(b.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
      expect(b.closedAfterMs).toBeGreaterThan(REQUEST_TIMEOUT_MS - SLACK_MS);
      expect(s.closedAfterMs).toBeDefined();
      expect(s.closedAfterMs).toBeLessThan(HANDSHAKE_TIMEOUT_MS + SLACK_MS);
      // The server still answers.
      expect((await h1Request(server.port, { ca: pair.ca, path: '/healthz' })).status).toBe(200);
    },
    REQUEST_TIMEOUT_MS + 40_000,
  );

  it(
    'HTTP/2: a stream whose body trickles is reset within the request timeout; the session keeps serving',
    async () => {
      const session = http2.connect(`https://localhost:${server.port}`, {
        ca: pair.ca,
        host: '127.0.0.1',
        servername: 'localhost',
      } as http2.SecureClientSessionOptions);
      session.on('error', () => undefined);
      await new Promise((resolve) => session.once('connect', resolve));
      const started = performance.now();
      const stream = openReview(session, review.length);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < review.length && !stream.destroyed) stream.write(review[sent++] ?? '');
      }, 1_000);
      let status = 0;
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      const cutAfter = await new Promise<number | undefined>((resolve) => {
        const giveUp = setTimeout(() => resolve(undefined), REQUEST_TIMEOUT_MS + 20_000);
        stream.once('close', () => {
          clearTimeout(giveUp);
          resolve(performance.now() - started);
        });
      });
      clearInterval(timer);
      console.log(`HTTP/2 body trickler cut after ${cutAfter?.toFixed(0)} ms (status ${status})`);
      expect(cutAfter).toBeDefined();
      expect(cutAfter).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
      expect(cutAfter).toBeGreaterThan(REQUEST_TIMEOUT_MS - SLACK_MS);
      const again = await h2Request(session, { path: '/healthz' });
      expect(again.status).toBe(200);
      await closeSession(session);
    },
    REQUEST_TIMEOUT_MS + 40_000,
  );
});

describe('HTTP/2 under load and attack', () => {
  it('large reviews sharing one HTTP/2 connection are all answered', async () => {
    const large = JSON.parse(
      await readFile(join(PAYLOADS_DIR, 'large-10-containers.json'), 'utf8'),
    ) as {
      request: { object: { metadata: { annotations?: Record<string, string> } } };
    };
    // Padding in an annotation the injector does not read: ~5 MiB per review.
    large.request.object.metadata.annotations = {
      ...large.request.object.metadata.annotations,
      'example.com/padding': 'x'.repeat(5 * 1024 * 1024),
    };
    const body = JSON.stringify(large);
    // The client's own session memory limit (10 MB by default) would refuse its own streams.
    const session = http2.connect(`https://localhost:${server.port}`, {
      ca: pair.ca,
      host: '127.0.0.1',
      servername: 'localhost',
      maxSessionMemory: 256,
    } as http2.SecureClientSessionOptions);
    session.on('error', () => undefined);
    await new Promise((resolve) => session.once('connect', resolve));
    try {
      const replies = await Promise.all(
        Array.from({ length: 6 }, () =>
          h2Request(session, { path: '/inject?timeout=30s', method: 'POST', body }),
        ),
      );
      expect(replies.map((r) => r.status)).toEqual(Array(6).fill(200));
      for (const reply of replies) {
        expect(JSON.parse(reply.body)).toMatchObject({ response: { allowed: true } });
      }
    } finally {
      await closeSession(session);
    }
  }, 60_000);

  it('a client that drops its connection with many streams open does not take the server down', async () => {
    // The server closes those streams itself when the session goes, some with CANCEL, after the
    // session is destroyed: counting them must not act on the destroyed session (GOAWAY on it
    // throws). Each round from its own loopback source, so no throttle is in the way.
    for (let round = 0; round < 3; round++) {
      const session = http2.connect(`https://localhost:${server.port}`, {
        ca: pair.ca,
        host: '127.0.0.1',
        servername: 'localhost',
        localAddress: `127.0.0.${3 + round}`,
      } as http2.SecureClientSessionOptions);
      session.on('error', () => undefined);
      const connected = await new Promise<boolean>((resolve) => {
        session.once('connect', () => resolve(true));
        session.once('close', () => resolve(false));
      });
      expect(connected, `round ${round}: the server refused the connection`).toBe(true);
      const streams = Array.from({ length: 120 }, () => {
        const stream = openReview(session, review.length);
        // Half a body: every stream stays open on the server.
        stream.write(review.slice(0, 100));
        return stream;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(streams.every((s) => !s.closed)).toBe(true);
      session.socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(server.child.exitCode).toBe(null);
    expect((await h1Request(server.port, { ca: pair.ca, path: '/healthz' })).status).toBe(200);
  }, 30_000);

  it('a reconnecting rapid-reset client is cut; another client keeps being answered', async () => {
    const seconds = 10;
    // The other client: sequential reviews over one keep-alive HTTP/1.1 connection, as the API
    // server sends them.
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const measure = async (ms: number) => {
      const latencies: number[] = [];
      let failures = 0;
      const until = performance.now() + ms;
      while (performance.now() < until) {
        const started = performance.now();
        try {
          const reply = await h1Request(server.port, {
            ca: pair.ca,
            path: '/inject?timeout=10s',
            method: 'POST',
            body: review,
            agent,
          });
          if (reply.status !== 200) failures++;
        } catch {
          failures++;
        }
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return { latencies, failures };
    };
    const window = seconds * 1000 - 1_000;
    const describe = (l: number[]) =>
      `p50 ${percentile(l, 50).toFixed(1)} ms, p99 ${percentile(l, 99).toFixed(1)} ms, max ${Math.max(...l).toFixed(1)} ms (${l.length} reviews)`;
    const cpu = () => cpuSeconds(server.child.pid);
    /**
     * One attack of `seconds`, the other client measured over `window` during it. `nice`: the
     * attacker's scheduling priority; on this 2-core machine its own CPU (reconnecting in a tight
     * loop) competes with the server's, which it would not from another pod.
     */
    const attack = async (nice: number) => {
      const cutsBefore = server.logs().filter((l) => l['msg'] === RAPID_RESET_LOG).length;
      const rssBefore = await server.rss();
      const attacker = spawn(
        'nice',
        [
          '-n',
          String(nice),
          process.execPath,
          '--import',
          'tsx',
          'test/transport/rapid-reset-client.ts',
          String(server.port),
          join(dir, 'ca.crt'),
          String(seconds),
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], timeout: (seconds + 20) * 1000 },
      );
      let attackerOut = '';
      attacker.stdout.on('data', (chunk: Buffer) => (attackerOut += chunk.toString('utf8')));
      // 'close', not 'exit': the tally is on stdout, which may still be unread at the exit.
      const attackerDone = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const cpuBefore = await cpu();
      const load = loadavg()[0] ?? NaN;
      const during = await measure(window);
      const serverCpu = (await cpu()) - cpuBefore;
      await attackerDone;
      const rssGrowth = (await server.rss()) - rssBefore;
      const counts = JSON.parse(attackerOut.trim() || '{}') as Record<string, number>;
      const cutLines = server
        .logs()
        .filter((l) => l['msg'] === RAPID_RESET_LOG)
        .slice(cutsBefore);
      console.log(
        [
          `rapid reset for ${seconds} s, attacker at nice ${nice} (load average ${load.toFixed(1)}):`,
          `  other client: ${describe(during.latencies)}, failures ${during.failures}; server CPU ${serverCpu.toFixed(2)} s, attacker CPU ${counts['cpuSeconds']} s`,
          `  server RSS growth ${(rssGrowth / 2 ** 20).toFixed(1)} MiB; sessions cut ${cutLines.length}, streams seen per cut session ${cutLines.map((l) => String(l['streams'])).join(' ')}`,
          `  attacker ${JSON.stringify(counts)}`,
        ].join('\n'),
      );
      return { during, rssGrowth, counts, cuts: cutLines.length, exitCode: attacker.exitCode };
    };

    // The same client, the same length of time, without the attacker first.
    const cpuBefore = await cpu();
    const load = loadavg()[0] ?? NaN;
    const baseline = await measure(window);
    console.log(
      `no attacker (load average ${load.toFixed(1)}): other client ${describe(baseline.latencies)}, server CPU ${((await cpu()) - cpuBefore).toFixed(2)} s`,
    );
    const normal = await attack(0);
    const niced = await attack(19);
    const attacks = [normal, niced];
    agent.destroy();
    expect(baseline.failures).toBe(0);
    for (const { during, rssGrowth } of attacks) {
      expect(during.failures).toBe(0);
      expect(during.latencies.length).toBeGreaterThan(20);
      // The latency and memory targets are bench figures (docs/performance.md); these bounds say
      // the other client was not starved and the attack did not pile up memory.
      expect(percentile(during.latencies, 99)).toBeLessThan(1_000);
      expect(rssGrowth).toBeLessThan(100 * 2 ** 20);
    }
    // The attack at normal priority (at nice 19 a loaded machine may starve the attacker itself):
    // every attacking session the server saw was cut, and reconnecting did not buy more, as a
    // throttled source gets one connection a second (THROTTLED_ACCEPT_INTERVAL_MS).
    const { counts, cuts, exitCode } = normal;
    expect(cuts).toBeGreaterThan(0);
    expect(cuts).toBeLessThanOrEqual(seconds + 2);
    // The attacker's own tally: it ran for its whole time, was cut and reconnected.
    expect(exitCode).toBe(0);
    expect(counts['streams']).toBeGreaterThan(1_000);
    expect(counts['sessions']).toBeGreaterThan(1);
  }, 90_000);
});

describe('JSON bombs', () => {
  it('eight 6 MB nesting bombs at once are refused with 400 while /healthz stays responsive', async () => {
    const depth = 3 * 1024 * 1024 - 16;
    const bomb = '['.repeat(depth) + ']'.repeat(depth);
    // The bound scales with the load seen during the bombs themselves: a second server process,
    // started the same way and sent no bombs, is polled in the same window by the same kind of
    // client. What slows both (other test files on the 2 cores, this process's own GC, the
    // sender's CPU) shows in the control's series; a bombed server whose event loop stalls shows
    // only in its own. A baseline measured before the window missed load that began inside it.
    const control = await startServingProcess('injector-bomb-control-', ['--drain-seconds=0'], {
      maxLifetimeMs: 120_000,
    });
    let polling = true;
    const pollHealth = async (target: ServingProcess, latencies: number[]): Promise<void> => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      while (polling) {
        const started = performance.now();
        await h1Request(target.server.port, { ca: target.pair.ca, path: '/healthz', agent });
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      agent.destroy();
    };
    const healthLatencies: number[] = [];
    const controlLatencies: number[] = [];
    const polls = Promise.all([
      pollHealth(serving!, healthLatencies),
      pollHealth(control, controlLatencies),
    ]);
    await writeFile(join(dir, 'bomb.json'), bomb);
    const sender = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/transport/post-client.ts',
        String(server.port),
        join(dir, 'ca.crt'),
        join(dir, 'bomb.json'),
        '8',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], timeout: 50_000 },
    );
    let out = '';
    sender.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    await new Promise((resolve) => sender.once('exit', resolve));
    polling = false;
    await polls;
    await control.stop();
    const worst = Math.max(...healthLatencies);
    const controlWorst = Math.max(...controlLatencies);
    console.log(
      `JSON bombs: /healthz worst ${worst.toFixed(1)} ms over ${healthLatencies.length} polls (idle control server in the same window: ${controlWorst.toFixed(1)} ms over ${controlLatencies.length}; load average ${(loadavg()[0] ?? NaN).toFixed(1)})`,
    );
    const replies = JSON.parse(out) as { status: number; code?: string }[];
    expect(replies).toHaveLength(8);
    for (const reply of replies) {
      expect(reply).toEqual({ status: 400, code: 'INJ_ERR_REVIEW_MALFORMED' });
    }
    // Both servers were polled throughout.
    expect(healthLatencies.length).toBeGreaterThan(0);
    expect(controlLatencies.length).toBeGreaterThan(0);
    // One second on a quiet machine (a bomb parsed used to stall it 0.4-2.3 s each); on a loaded
    // one, plus twice what the same load cost the idle control server's /healthz.
    expect(worst).toBeLessThan(1_000 + 2 * controlWorst);
  }, 60_000);
});
