/**
 * `npm run bench`: our webhook server against a "floor" server that only parses the JSON body and
 * returns a constant AdmissionReview, both over TLS with keep-alive, driven alternately with the
 * realistic AdmissionReviews of ../shared/perf/payloads at several concurrencies (HTTP/1.1 with
 * autocannon, HTTP/2 with h2load when installed). Then core micro-benchmarks (no HTTP): each
 * payload's pod injected, each payload reviewed end to end in-process, and a pod with 2 000 env
 * vars injected N times.
 *
 * Latency percentiles come from every response's own duration (autocannon's per-response event,
 * h2load's request log), at microsecond precision; autocannon's summary histogram has a 1 ms
 * resolution, which would print sub-millisecond latencies as 0 or 1.
 *
 * Servers run in child processes so the load generator does not share their event loop. Our
 * server runs with --expose-gc: its memory is reported after a forced collection (what is
 * retained) next to the peak RSS of the whole run.
 * The third server is Istio's own: its real webhook handler (NewWebhook) built from the pinned Go
 * module by test/oracle/ (`oracle serve`), with the pinned chart's ConfigMaps, over TLS on
 * 127.0.0.1 like istiod; it is driven exactly like ours and the floor, in rotating order. Istio's
 * `BenchmarkInjection` (one pod with 2 000 env vars, in process) runs beside ours at the end. Both
 * are skipped, with a note, when Go is not installed (or with --no-istio).
 * Flags: --duration <s> (per cell, default 5), --concurrency 1,8,64, --iterations <n> (micro),
 * --payloads <dir>, --profile <dir> (CPU profile of our server, see bench/profile.ts --summary),
 * --no-istio, --no-h2, --rounds <n> (each HTTP/1.1 row alternates the servers n times and shows
 * the medians), --only bookinfo,large,env2000, --quick, --rss-seconds <s> (the real `serve`'s
 * RSS after that long of load at c=8; default 60, 5 with --quick), --node-options "<flags>" (our
 * server's NODE_OPTIONS instead of the Deployment's, to measure another setting), --warmup <s>
 * (load per server before the first cell, not counted; default 5, 1 with --quick, 0 for none).
 * BENCH_ROUTED=1 in the environment sends every request of our server through fastify (no direct
 * admission route, src/http/fast-admission.ts), to compare the two.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { defaultInjectionConfig } from '../src/core/config/defaults.js';
import type { Pod } from '../src/core/pod-types.js';
import { inject } from '../src/core/inject.js';
import { parseAdmissionReview } from '../src/core/review-envelope.js';
import { reviewParsed } from '../src/core/review.js';
import { buildApp } from '../src/http/app.js';
import { envPod, templateInjectBenchmarks } from './inject-templates.js';
import { createLogger, logDestination } from '../src/logging/logger.js';
import { createMetrics } from '../src/metrics/registry.js';
import { createStaticConfigProvider } from '../src/config-sources/static.js';
import { generateDevCertificates, type DevCertificates } from '../src/tls/dev-cert.js';
import {
  SERVE_ENTRIES,
  serveMemoryUnderLoad,
  timeToReady,
  type ServeEntry,
  type StartupSample,
} from './startup.js';
import { shippedServerEnv } from './shipped-env.js';

type ServerKind = 'ours' | 'floor-h1' | 'floor-h2' | 'floor-answer';

/**
 * `answer`: the HTTP/1.1 floor, but it sends our server's real answer to each payload (computed
 * once at start-up): what parsing the request and shipping a 7-16 KB patch cost with no decision
 * at all, the part of our CPU that any injector pays (the floor's constant answer is ~120 bytes).
 */
type BenchServer = 'ours' | 'floor' | 'istio' | 'answer';

interface MemoryReport {
  /** After a forced full GC (when the child runs with --expose-gc). */
  afterGc: NodeJS.MemoryUsage;
  /** Whether a GC was actually forced. */
  gcForced: boolean;
  /** Peak resident set size of the process so far, in bytes. */
  peakRss: number;
}

interface ChildMessage {
  port?: number;
  memory?: MemoryReport;
  /** `process.cpuUsage()` (user + system), in microseconds. */
  cpuMicros?: number;
  /** RSS now, without a forced GC, and the peak so far (bytes). */
  rss?: number;
  peakRssNow?: number;
}

// ---------------------------------------------------------------------------------------------
// Child side: one server per process.

const FLOOR_RESPONSE = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response: { uid: '00000000-0000-0000-0000-000000000000', allowed: true },
});

/**
 * The floor's handler: parses the body, answers FLOOR_RESPONSE, or with `answers` (the `answer`
 * server) our server's answer to that body.
 */
function floorHandler(answers?: ReadonlyMap<number, string>) {
  return (
    request: IncomingMessage | http2.Http2ServerRequest,
    response: ServerResponse | http2.Http2ServerResponse,
  ): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Both response types share this shape; TypeScript cannot call the union's overloads directly.
    const reply = response as unknown as {
      writeHead(status: number, headers?: Record<string, string>): unknown;
      end(body?: string): unknown;
    };
    request.on('end', () => {
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        JSON.parse(text);
        reply.writeHead(200, { 'content-type': 'application/json' });
        reply.end(answers?.get(text.length) ?? FLOOR_RESPONSE);
      } catch {
        reply.writeHead(400);
        reply.end();
      }
    });
  };
}

/**
 * Our server's answer to each request body (the embedded default configuration, as `ours`), by
 * the body's length: the cells send each body under a new uid of the same length.
 */
function ourAnswers(bodies: readonly string[]): Map<number, string> {
  const config = defaultInjectionConfig();
  const answers = new Map<number, string>();
  for (const text of bodies) {
    const review = reviewParsed(parseAdmissionReview(JSON.parse(text)), {
      config,
      cluster: { nativeSidecars: false },
    });
    answers.set(text.length, JSON.stringify(review.response));
  }
  return answers;
}

async function runChild(
  kind: ServerKind,
  tls: DevCertificates,
  answersFile?: string,
): Promise<void> {
  let close: () => Promise<void>;
  let port: number;
  if (kind === 'ours') {
    // The production logger (one line per review, asynchronous writes), but to /dev/null.
    const logger = createLogger({
      destination: logDestination('/dev/null'),
    });
    const app = buildApp({
      config: createStaticConfigProvider(defaultInjectionConfig()),
      logger,
      metrics: createMetrics(),
      tls: { cert: tls.cert, key: tls.key },
      // BENCH_ROUTED=1: every request through fastify, to measure the direct admission route.
      directAdmission: process.env.BENCH_ROUTED !== '1',
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
    close = () => app.close();
  } else {
    const answers =
      kind === 'floor-answer'
        ? ourAnswers(JSON.parse(await readFile(answersFile ?? '', 'utf8')) as string[])
        : undefined;
    const server = answers
      ? https.createServer(
          { cert: tls.cert, key: tls.key, keepAliveTimeout: 95_000 },
          floorHandler(answers),
        )
      : kind === 'floor-h1'
        ? https.createServer(
            { cert: tls.cert, key: tls.key, keepAliveTimeout: 95_000 },
            floorHandler(),
          )
        : http2.createSecureServer(
            { cert: tls.cert, key: tls.key, allowHTTP1: true },
            floorHandler(),
          );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  }
  process.send?.({ port } satisfies ChildMessage);
  process.on('message', (message: string) => {
    if (message === 'memory') process.send?.({ memory: memoryReport() } satisfies ChildMessage);
    if (message === 'rss') {
      process.send?.({
        rss: process.memoryUsage().rss,
        peakRssNow: process.resourceUsage().maxRSS * 1024,
      } satisfies ChildMessage);
    }
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuMicros: user + system } satisfies ChildMessage);
    }
    if (message === 'stop') void close().then(() => process.exit(0));
  });
}

function memoryReport(): MemoryReport {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the first pass can leave objects that only die once their finalizers ran.
  gc?.();
  gc?.();
  return {
    afterGc: process.memoryUsage(),
    gcForced: gc !== undefined,
    // resourceUsage reports kilobytes.
    peakRss: process.resourceUsage().maxRSS * 1024,
  };
}

// ---------------------------------------------------------------------------------------------
// Parent side.

interface Cell {
  protocol: 'h1' | 'h2';
  driver: 'autocannon' | 'h2load';
  /** CPU time of the server process per answered request, in ms (its own counter). */
  cpuMs: number;
  payload: string;
  concurrency: number;
  server: BenchServer;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  requests: number;
  /** HTTP/2: connections the streams are spread over. */
  connections: number;
}

interface Child {
  process: ChildProcess;
  port: number;
  request(message: string): Promise<ChildMessage>;
}

function startChild(
  kind: ServerKind,
  certFile: string,
  /** Added to the child's environment: ours gets the Deployment's NODE_OPTIONS, floors none. */
  env: Readonly<Record<string, string>>,
  profileDir?: string,
  answersFile?: string,
): Promise<Child> {
  // Ours runs under the Deployment's NODE_OPTIONS (the young generation, docs/performance.md "GC").
  const execArgv = kind === 'ours' ? ['--expose-gc'] : [];
  if (kind === 'ours' && profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  const childArgs = ['--child', kind, '--certs', certFile];
  if (answersFile) childArgs.push('--answers', answersFile);
  const child = fork(fileURLToPath(import.meta.url), childArgs, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (message: ChildMessage) => {
      resolve({
        process: child,
        port: message.port ?? 0,
        request: (text) =>
          new Promise((answer) => {
            child.once('message', (reply: ChildMessage) => answer(reply));
            child.send(text);
          }),
      });
    });
  });
}

/** Runs one cell and adds the server process's own CPU time per request to its result. */
async function withServerCpu<T extends { requests: number }>(
  child: Child,
  run: () => Promise<T>,
): Promise<T & { cpuMs: number }> {
  const before = (await child.request('cpu')).cpuMicros ?? 0;
  const result = await run();
  const after = (await child.request('cpu')).cpuMicros ?? 0;
  return { ...result, cpuMs: result.requests > 0 ? (after - before) / 1000 / result.requests : 0 };
}

/** A cold oracle build (Go module downloads and compilation on 2 cores) takes minutes. */
const ORACLE_BUILD_TIMEOUT_MS = 20 * 60_000;
/** How long Istio's server may take to parse the chart's templates and listen. */
const ISTIO_START_TIMEOUT_MS = 60_000;

/** The oracle binary (built by `scripts/oracle.ts --build-only`, which caches it), or why not. */
function istioOracleBinary(root: string): { binary?: string; note?: string } {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) return { note: 'Go is not installed' };
  // Bounded: a build that cannot finish (a stalled module download) skips the peer, with a note.
  const r = spawnSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'scripts', 'oracle.ts'), '--build-only'],
    { cwd: root, encoding: 'utf8', timeout: ORACLE_BUILD_TIMEOUT_MS, killSignal: 'SIGKILL' },
  );
  const binary = /binary ready: (\S+)/.exec(r.stdout)?.[1];
  if (r.error) return { note: `the oracle build did not finish: ${r.error.message}` };
  if (r.status !== 0 || !binary)
    return { note: `the oracle build failed: ${r.stderr.slice(-300)}` };
  return { binary };
}

/** CPU time (user + system) of a process from /proc, in microseconds. */
async function procCpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime is the 14th, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  // USER_HZ is 100 on Linux (sysconf(_SC_CLK_TCK)).
  return ticks * 10_000;
}

/**
 * Istio's webhook server (`oracle serve`) on 127.0.0.1: it stops by itself after maxSeconds or
 * maxRequests, is killed if it does not listen within ISTIO_START_TIMEOUT_MS, and is killed when
 * the bench process exits, whatever way it ends.
 */
function startIstio(
  binary: string,
  root: string,
  tls: DevCertificates,
  workDir: string,
  maxSeconds: number,
  maxRequests: number,
): Promise<Child> {
  return (async () => {
    const certPath = join(workDir, 'istio-cert.pem');
    const keyPath = join(workDir, 'istio-key.pem');
    await writeFile(certPath, tls.cert);
    await writeFile(keyPath, tls.key, { mode: 0o600 });
    const configDir = join(root, '..', 'shared', 'conformance', 'istio-configmaps', 'master');
    const child = spawn(
      binary,
      [
        'serve',
        '--config-dir',
        configDir,
        '--cert',
        certPath,
        '--key',
        keyPath,
        '--max-seconds',
        String(maxSeconds),
        '--max-requests',
        String(maxRequests),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`oracle serve did not listen within ${ISTIO_START_TIMEOUT_MS} ms`));
      }, ISTIO_START_TIMEOUT_MS);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      child.once('error', fail);
      child.once('exit', (code) => fail(new Error(`oracle serve exited (${code})`)));
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
    child.stdout.resume();
    const pid = child.pid ?? 0;
    return {
      process: child,
      port,
      request: async (message: string): Promise<ChildMessage> => {
        // A server that stopped by itself (its time budget) has no /proc entry left: no CPU.
        if (message === 'cpu') return { cpuMicros: await procCpuMicros(pid).catch(() => 0) };
        if (message === 'stop') child.kill('SIGTERM');
        return {};
      },
    };
  })();
}

/** Istio's own BenchmarkInjection (pkg/kube/inject, a pod with 2 000 env vars), via go test. */
function istioBenchmarkInjection(root: string, iterations: number): string[] {
  const r = spawnSync(
    'go',
    [
      'test',
      '-run',
      '^$',
      '-bench',
      '^BenchmarkInjection$',
      '-benchmem',
      '-benchtime',
      `${iterations}x`,
      'istio.io/istio/pkg/kube/inject',
    ],
    { cwd: join(root, 'test', 'oracle'), encoding: 'utf8', timeout: 15 * 60_000 },
  );
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Benchmark'));
  if (r.status !== 0 || lines.length === 0)
    return [
      `Istio BenchmarkInjection: not run (${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')})`,
    ];
  return lines.map((l) => {
    const nsPerOp = /([\d.]+) ns\/op/.exec(l)?.[1];
    const ms = nsPerOp ? ` = ${(Number(nsPerOp) / 1e6).toFixed(3)} ms/pod` : '';
    return `Istio ${l.trim()}${ms}`;
  });
}

function stopChild(child: Child): Promise<void> {
  return new Promise((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      resolve();
      return;
    }
    // A child that does not stop within 10 s is killed: the bench never waits on it forever.
    const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
    child.process.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.process.send) child.process.send('stop');
    else void child.request('stop');
  });
}

async function projectRoot(): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i += 1) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
      };
      if (pkg.name === 'sidecar-injector') return dir;
    } catch {
      // keep walking up
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the project root (package.json of sidecar-injector)');
}

interface PayloadIndexEntry {
  name: string;
  file: string;
  expect: string;
}

interface PayloadBody {
  name: string;
  text: string;
  /**
   * What differs from one request to the next: the uid always (the API server gives every review
   * its own); with `seconds` the managedFields time too, as pods created in different seconds
   * differ. Same-second replicas of a burst differ only by uid.
   */
  vary?: 'seconds';
}

async function loadPayloads(dir: string): Promise<Map<string, PayloadBody[]>> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as PayloadIndexEntry[];
  const sets = new Map<string, PayloadBody[]>([
    ['bookinfo', []],
    ['large', []],
  ]);
  for (const entry of index) {
    const body = { name: entry.name, text: await readFile(join(dir, entry.file), 'utf8') };
    if (entry.name.startsWith('bookinfo-')) sets.get('bookinfo')?.push(body);
    else if (entry.name.startsWith('large')) sets.get('large')?.push(body);
  }
  // The same pods created in different seconds: no two bodies alike but for the uid.
  const bookinfo = sets.get('bookinfo') ?? [];
  sets.set(
    'bookinfo-seconds',
    bookinfo.map((body) => ({ ...body, vary: 'seconds' as const })),
  );
  // Istio's BenchmarkInjection pod: one container with 2 000 env vars, as a review.
  sets.set('env2000', [{ name: 'env-2000', text: reviewText(envPod(2000)) }]);
  return new Map([...sets].filter(([, bodies]) => bodies.length > 0));
}

/** A review as the API server writes it (Go's field order: kind, apiVersion, request.uid first). */
function reviewText(pod: Pod): string {
  return JSON.stringify({
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: '2f0e1c8e-2000-4e0a-9d3e-000000002000',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: pod,
      dryRun: false,
    },
  });
}

/**
 * One POST on `agent`, or on `socket` (an already connected TLS socket); ms until the whole
 * answer is read.
 */
function postOnce(
  port: number,
  body: string,
  agent: https.Agent | undefined,
  socket?: tls.TLSSocket,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/inject?timeout=10s',
        method: 'POST',
        ...(socket ? { agent: false, createConnection: () => socket } : { agent }),
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(performance.now() - started));
      },
    );
    request.once('error', reject);
    request.end(body);
  });
}

/** A TLS connection to 127.0.0.1:`port`, resolved once its handshake is done. */
function connectTls(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * The first request on a fresh HTTP/1.1 connection (TLS handshake included) with Node's client,
 * against a steady-state request on a kept-alive one: median ms of `n` each. Node's client adds
 * its own per-connection work to both sides' (apiServerFirstRequest measures as the API server
 * does, with Go's). Also the
 * first request on a connection whose handshake is already done: what the server does per
 * connection beyond TLS (Nagle on an accepted socket, lazy per-connection set-up) shows there,
 * while the handshake's key exchange and signature are the same for every server.
 */
async function freshConnection(port: number, body: string, n: number) {
  const first: number[] = [];
  const afterHandshake: number[] = [];
  const steady: number[] = [];
  const kept = new https.Agent({ keepAlive: true, maxSockets: 1 });
  await postOnce(port, body, kept);
  for (let i = 0; i < n; i++) {
    const agent = new https.Agent({ keepAlive: false });
    first.push(await postOnce(port, body, agent));
    agent.destroy();
    steady.push(await postOnce(port, body, kept));
    const socket = await connectTls(port);
    afterHandshake.push(await postOnce(port, body, undefined, socket));
    socket.destroy();
    steady.push(await postOnce(port, body, kept));
  }
  kept.destroy();
  first.sort((a, b) => a - b);
  afterHandshake.sort((a, b) => a - b);
  steady.sort((a, b) => a - b);
  return {
    first: percentile(first, 50),
    afterHandshake: percentile(afterHandshake, 50),
    steady: percentile(steady, 50),
  };
}

/** test/webhook-client (Go's standard library only: seconds to build), or why not. */
function webhookClientBinary(root: string): { binary?: string; note?: string } {
  const dir = join(root, 'test', 'webhook-client');
  const binary = join(dir, 'bin', 'webhook-client');
  const r = spawnSync('go', ['build', '-trimpath', '-o', binary, '.'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300_000,
    killSignal: 'SIGKILL',
  });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      note: missing ? 'Go is not installed' : `its build did not finish: ${r.error.message}`,
    };
  }
  if (r.status !== 0) return { note: `its build failed: ${r.stderr.slice(-300)}` };
  return { binary };
}

/** Medians in ms from `webhook-client first-request`. */
interface ApiServerFirstRequest {
  group: string;
  connect: number;
  handshake: number;
  afterHandshake: number;
  first: number;
  steady: number;
}

/**
 * The first request on a fresh connection as the API server makes it: Go's net/http, HTTP/1.1,
 * a full TLS handshake (client-go's webhook transport keeps no session cache), the server
 * verified against `caFile`; `n` fresh requests alternating with kept-alive ones.
 */
function apiServerFirstRequest(
  binary: string,
  port: number,
  bodyFile: string,
  caFile: string,
  n: number,
): Promise<ApiServerFirstRequest> {
  return new Promise((resolve, reject) => {
    const args = ['first-request', '--url', `https://127.0.0.1:${port}/inject?timeout=10s`];
    args.push('--body', bodyFile, '--ca', caFile, '--n', String(n), '--deadline', '60s');
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(killer);
      if (code === 0) resolve(JSON.parse(out) as ApiServerFirstRequest);
      else reject(new Error(err.trim() || `exit ${code}`));
    });
  });
}

/** The CPU of every server the bench starts, and of the bench (its load generators). */
const SERVER_CPU = 1;
const LOAD_CPU = 0;

/** Pins a process to one CPU (taskset), so server and load generator do not share one. */
function pin(pid: number | undefined, cpu: number): boolean {
  if (pid === undefined) return false;
  // -a: every thread (V8's and libuv's start before this); threads started later inherit it.
  const r = spawnSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { encoding: 'utf8' });
  return r.status === 0;
}

let requestSerial = 0;

/**
 * Each call, the body under a new uid of the same length (a UUID's last 12 hex digits count
 * requests); with `vary: 'seconds'` also a new managedFields time (same length).
 */
function varying(body: PayloadBody): () => string {
  const text = body.text;
  const uidAt = text.indexOf('"uid":"') + '"uid":"'.length;
  const uidEnd = text.indexOf('"', uidAt);
  const timeAt = body.vary === 'seconds' ? text.indexOf('"time":"', uidEnd) : -1;
  if (uidEnd - uidAt < 12 || (body.vary === 'seconds' && timeAt < 0)) {
    throw new Error(`payload ${body.name}: no request uid (or managedFields time) to vary`);
  }
  const head = text.slice(0, uidEnd - 12);
  return () => {
    const serial = ++requestSerial;
    const uid = (serial % 0xffffffffffff).toString(16).padStart(12, '0');
    if (timeAt < 0) return head + uid + text.slice(uidEnd);
    // 2026-11-20T09:14:07Z: a new second per request, within the day.
    const second = serial % 86_400;
    const clock = [Math.floor(second / 3600), Math.floor(second / 60) % 60, second % 60]
      .map((n) => String(n).padStart(2, '0'))
      .join(':');
    const at = timeAt + '"time":"'.length + 'YYYY-MM-DDT'.length;
    return head + uid + text.slice(uidEnd, at) + clock + text.slice(at + clock.length);
  };
}

async function autocannonCell(
  port: number,
  bodies: readonly PayloadBody[],
  concurrency: number,
  duration: number,
) {
  // Each response's duration in ms (float, from process.hrtime), 2xx only like autocannon's own.
  const durations: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `https://127.0.0.1:${port}/inject?timeout=10s`,
        connections: concurrency,
        pipelining: 1,
        duration,
        requests: bodies.map((body) => {
          const next = varying(body);
          return {
            method: 'POST' as const,
            path: '/inject?timeout=10s',
            headers: { 'content-type': 'application/json' },
            body: body.text,
            setupRequest: (request: autocannon.Request) => ({ ...request, body: next() }),
          };
        }),
      },
      (error, done) => (error ? reject(error as Error) : resolve(done)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) durations.push(ms);
    });
  });
  durations.sort((a, b) => a - b);
  return {
    rps: result.requests.average,
    p50: percentile(durations, 50),
    p99: percentile(durations, 99),
    max: durations[durations.length - 1] ?? Number.NaN,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
    connections: concurrency,
  };
}

type HttpCellResult = Pick<
  Cell,
  'rps' | 'p50' | 'p99' | 'max' | 'errors' | 'requests' | 'connections' | 'cpuMs'
>;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return percentile(sorted, 50);
}

/** Each figure's median over the rounds of one cell (errors and requests: the sums). */
function medianResult(results: readonly HttpCellResult[]): HttpCellResult {
  const of = (pick: (r: HttpCellResult) => number) => median(results.map(pick));
  return {
    rps: of((r) => r.rps),
    p50: of((r) => r.p50),
    p99: of((r) => r.p99),
    max: of((r) => r.max),
    cpuMs: of((r) => r.cpuMs),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    connections: results[0]?.connections ?? 0,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function h2loadCell(
  port: number,
  bodyFile: string,
  concurrency: number,
  connections: number,
  duration: number,
  workDir: string,
) {
  // h2load appends to an existing log file: each cell gets a fresh one, or a later cell would
  // count (and take the latencies of) the requests of an earlier one.
  const logFile = join(
    workDir,
    `h2load-${port}-${concurrency}-${connections}-${basename(bodyFile)}.log`,
  );
  await rm(logFile, { force: true });
  const args = [
    // `concurrency` streams in all, over `connections` connections.
    '-c',
    String(connections),
    '-m',
    String(Math.max(1, Math.ceil(concurrency / connections))),
    '-t',
    '1',
    '-D',
    String(duration),
    '-d',
    bodyFile,
    '-H',
    'content-type: application/json',
    '--log-file',
    logFile,
    `https://127.0.0.1:${port}/inject?timeout=10s`,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // h2load ends after -D seconds; one that does not (a server gone mid-handshake) is killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), (duration + 30) * 1000);
    child.once('exit', () => clearTimeout(timer));
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
  const lines = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const durations: number[] = [];
  let errors = 0;
  for (const line of lines) {
    const [, status, micros] = line.split('\t');
    if (status !== '200') errors += 1;
    durations.push(Number(micros) / 1000);
  }
  durations.sort((a, b) => a - b);
  const failed = /requests: .*?(\d+) failed, (\d+) errored/.exec(output);
  errors += failed ? Number(failed[2]) : 0;
  return {
    rps: lines.length / duration,
    p50: percentile(durations, 50),
    p99: percentile(durations, 99),
    max: durations[durations.length - 1] ?? Number.NaN,
    errors,
    requests: lines.length,
    connections,
  };
}

function hasH2load(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('h2load', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** Average ms per call of `run` over at least `minMs` (after a short warm-up). */
function timePerCall(run: () => unknown, minMs = 1000): number {
  for (let i = 0; i < 50; i += 1) run();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 20; i += 1) run();
    calls += 20;
    elapsed = performance.now() - start;
  }
  return elapsed / calls;
}

/** Per payload: inject() alone, and the whole in-process review (JSON.parse to response JSON). */
function payloadMicroBenchmarks(payloads: ReadonlyMap<string, readonly PayloadBody[]>): string[] {
  const config = defaultInjectionConfig();
  const lines = [
    'payload                    inject ms   review ms (parse + review + response JSON)',
  ];
  for (const bodies of payloads.values()) {
    for (const { name, text } of bodies) {
      const review = JSON.parse(text) as { request?: { object?: Pod; namespace?: string } };
      const pod = review.request?.object ?? {};
      const injectMs = timePerCall(() =>
        inject({
          pod,
          namespace: review.request?.namespace ?? 'default',
          config,
          cluster: { nativeSidecars: false },
          mode: 'webhook',
        }),
      );
      const reviewMs = timePerCall(() =>
        JSON.stringify(
          reviewParsed(parseAdmissionReview(JSON.parse(text)), {
            config,
            cluster: { nativeSidecars: false },
          }).response,
        ),
      );
      lines.push(
        `${name.padEnd(26)} ${injectMs.toFixed(3).padStart(9)}   ${reviewMs.toFixed(3).padStart(9)}`,
      );
    }
  }
  return lines;
}

function microBenchmark(iterations: number): string[] {
  const pod = envPod(2000);
  const config = defaultInjectionConfig();
  const run = () =>
    inject({
      pod,
      namespace: 'default',
      config,
      cluster: { nativeSidecars: false },
      mode: 'webhook',
    });
  for (let i = 0; i < Math.min(20, iterations); i += 1) run();
  const before = process.memoryUsage();
  const start = process.hrtime.bigint();
  let ops = 0;
  for (let i = 0; i < iterations; i += 1) ops = run().patch.length;
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  const after = process.memoryUsage();
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  return [
    `pod with 2000 env vars, ${iterations} injections: ${(elapsedMs / iterations).toFixed(3)} ms/pod (${ops} patch ops)`,
    `bench process: rss ${mib(after.rss)} MiB, heap used ${mib(after.heapUsed)} MiB (before the loop: rss ${mib(before.rss)} MiB, heap ${mib(before.heapUsed)} MiB)`,
  ];
}

function parseArgs(argv: readonly string[]) {
  const get = (name: string) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  return {
    child: get('child') as ServerKind | undefined,
    answers: get('answers'),
    certs: get('certs'),
    duration: Number(get('duration') ?? (argv.includes('--quick') ? '1' : '5')),
    concurrency: (get('concurrency') ?? (argv.includes('--quick') ? '8' : '1,8,64'))
      .split(',')
      .map(Number),
    iterations: Number(get('iterations') ?? '200'),
    payloads: get('payloads'),
    profile: get('profile'),
    noIstio: argv.includes('--no-istio'),
    noH2: argv.includes('--no-h2'),
    rounds: Math.max(1, Number(get('rounds') ?? '1')),
    quick: argv.includes('--quick'),
    pin: !argv.includes('--no-pin'),
    readyRuns: Number(get('ready-runs') ?? '3'),
    warmup: Number(get('warmup') ?? (argv.includes('--quick') ? '1' : '5')),
    rssSeconds: get('rss-seconds') === undefined ? undefined : Number(get('rss-seconds')),
    only: get('only')?.split(','),
    nodeOptions: get('node-options'),
  };
}

function formatTable(cells: readonly Cell[]): string {
  const header = [
    'proto',
    'driver',
    'payload',
    'conc',
    'conns',
    'server',
    'req/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'server CPU ms/req',
    'errors',
    'ours/floor',
    'cpu ours/floor',
    'ours/istio',
    'cpu ours/istio',
  ];
  const rows: string[][] = [];
  for (const cell of cells) {
    const peer = (server: BenchServer) =>
      cells.find(
        (c) =>
          c.server === server &&
          c.protocol === cell.protocol &&
          c.payload === cell.payload &&
          c.concurrency === cell.concurrency &&
          c.connections === cell.connections,
      );
    const floor = peer('floor');
    const istio = peer('istio');
    const ratio =
      cell.server === 'ours' && floor && floor.rps > 0 ? (cell.rps / floor.rps).toFixed(2) : '';
    const istioRatio =
      cell.server === 'ours' && istio && istio.rps > 0 ? (cell.rps / istio.rps).toFixed(2) : '';
    const cpuFloor =
      cell.server === 'ours' && floor && floor.cpuMs > 0
        ? (cell.cpuMs / floor.cpuMs).toFixed(2)
        : '';
    const cpuRatio =
      cell.server === 'ours' && istio && istio.cpuMs > 0
        ? (cell.cpuMs / istio.cpuMs).toFixed(2)
        : '';
    rows.push([
      cell.protocol,
      cell.driver,
      cell.payload,
      String(cell.concurrency),
      String(cell.connections),
      cell.server,
      cell.rps.toFixed(0),
      cell.p50.toFixed(3),
      cell.p99.toFixed(3),
      cell.max.toFixed(3),
      cell.cpuMs.toFixed(3),
      String(cell.errors),
      ratio,
      cpuFloor,
      istioRatio,
      cpuRatio,
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cols: readonly string[]) =>
    cols.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) {
    const tls = JSON.parse(await readFile(args.certs ?? '', 'utf8')) as DevCertificates;
    await runChild(args.child, tls, args.answers);
    return;
  }

  const root = await projectRoot();
  const payloadDir = args.payloads ?? join(root, '..', 'shared', 'perf', 'payloads');
  const allSets = await loadPayloads(payloadDir);
  const wanted = args.only ?? (args.quick ? ['bookinfo', 'env2000'] : undefined);
  const sets = new Map([...allSets].filter(([name]) => !wanted || wanted.includes(name)));
  const workDir = await mkdtemp(join(tmpdir(), 'injector-bench-'));
  const tls = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
  const certFile = join(workDir, 'certs.json');
  await writeFile(certFile, JSON.stringify(tls), { mode: 0o600 });

  // The Deployment's NODE_OPTIONS, or --node-options to measure another setting.
  const oursEnv =
    args.nodeOptions === undefined
      ? await shippedServerEnv(root)
      : { NODE_OPTIONS: args.nodeOptions };
  console.log(`our server's NODE_OPTIONS: ${oursEnv.NODE_OPTIONS ?? '(none)'}`);
  const h2 = await hasH2load();
  console.log(
    `payloads: ${[...sets].map(([name, b]) => `${name} (${b.length})`).join(', ')}; ${args.duration} s per cell; ` +
      `concurrency ${args.concurrency.join(', ')}; HTTP/2: ${h2 ? 'h2load' : 'skipped (h2load not installed: apt-get install nghttp2-client)'}`,
  );

  const answersFile = join(workDir, 'answers.json');
  await writeFile(
    answersFile,
    JSON.stringify([...sets.values()].flatMap((bodies) => bodies.map((b) => b.text))),
  );
  const [ours, floorH1, floorH2, answerH1] = await Promise.all([
    startChild('ours', certFile, oursEnv, args.profile),
    startChild('floor-h1', certFile, {}),
    startChild('floor-h2', certFile, {}),
    startChild('floor-answer', certFile, {}, undefined, answersFile),
  ]);
  // Servers on CPU 1, this process (autocannon) and h2load (its child) on CPU 0.
  const pinned =
    args.pin &&
    pin(process.pid, LOAD_CPU) &&
    [ours, floorH1, floorH2, answerH1].every((child) => pin(child.process.pid, SERVER_CPU));
  console.log(
    pinned
      ? `pinned: servers on CPU ${SERVER_CPU}, load generators on CPU ${LOAD_CPU} (other work on the machine still shares both)`
      : 'not pinned (--no-pin, or taskset failed)',
  );
  let istio: Child | undefined;
  let istioNote = args.noIstio ? '--no-istio' : undefined;
  if (!args.noIstio) {
    const found = istioOracleBinary(root);
    istioNote = found.note;
    if (found.binary) {
      // Bounded: the server stops by itself well after the last cell could have ended.
      // Every server's cells run one after another: each HTTP/1.1 row once per round, each
      // HTTP/2 row over up to two connection spreads, for each of the three servers.
      const rowsPerServer =
        sets.size * args.concurrency.length * (args.rounds + (h2 && !args.noH2 ? 2 : 0));
      const cellsCount = rowsPerServer * 3;
      const budget = Math.ceil(cellsCount * (args.duration + 5) * 1.5 + 300);
      // Far above what the cells can send (the fastest server answers well under 50 000 req/s).
      const maxRequests = Math.ceil(cellsCount * args.duration * 50_000);
      try {
        istio = await startIstio(found.binary, root, tls, workDir, budget, maxRequests);
        if (pinned) pin(istio.process.pid, SERVER_CPU);
      } catch (error) {
        istioNote = `Istio's server did not start: ${(error as Error).message}`;
      }
    }
  }
  console.log(
    istio
      ? "Istio peer: its webhook handler (NewWebhook) from test/oracle, the pinned chart's ConfigMaps"
      : `Istio peer: skipped (${istioNote ?? 'unavailable'})`,
  );
  // HTTP/1.1 rows also run `answer`; HTTP/2 rows compare floor, Istio and ours.
  const servers: BenchServer[] = istio
    ? ['floor', 'answer', 'istio', 'ours']
    : ['floor', 'answer', 'ours'];
  const cells: Cell[] = [];
  let loadSeconds = 0;
  let rssUnderLoad = 0;
  const fresh: string[] = [];
  const roundLines: string[] = [];
  // The servers started later (time to ready, memory) take the same CPU when the bench pins.
  const serveCpu = pinned ? SERVER_CPU : undefined;
  const serverFor = (server: BenchServer, floor: Child): Child =>
    server === 'ours'
      ? ours
      : server === 'istio' && istio
        ? istio
        : server === 'answer'
          ? answerH1
          : floor;
  try {
    const idle = (await ours.request('memory')).memory;
    // Warm-up, not counted: each server first answers every set's bodies at c=8 for --warmup
    // seconds, so that the first cell (Bookinfo c=1, whose p99 is a target) meets compiled code
    // and a young generation grown to its size, as every later cell does. A fresh server's first
    // seconds are slower: ours, c=1, 4 s segments after start read p99 1.43, 0.76, then 0.55-0.69 ms
    // (twice the scavenges while the young generation grows).
    if (args.warmup > 0) {
      const everyBody = [...sets.values()].flat();
      for (const server of servers) {
        await autocannonCell(serverFor(server, floorH1).port, everyBody, 8, args.warmup);
      }
      if (h2 && !args.noH2) {
        const warmFile = join(workDir, 'warmup.json');
        await writeFile(warmFile, everyBody[0]?.text ?? '');
        for (const child of [floorH2, ...(istio ? [istio] : []), ours]) {
          await h2loadCell(child.port, warmFile, 8, 1, args.warmup, workDir);
        }
      }
      console.log(
        `warm-up: ${args.warmup} s per server at c=8 over every set's bodies${h2 && !args.noH2 ? ', and as much over HTTP/2' : ''}, not counted`,
      );
    }
    let round = 0;
    for (const [payload, bodies] of sets) {
      const bodyFile = join(workDir, `${payload}.json`);
      await writeFile(bodyFile, bodies[0]?.text ?? '');
      for (const concurrency of args.concurrency) {
        // Rotate which server goes first so warm-up and thermal effects do not favour one side.
        const order = servers.map((_, i) => servers[(i + round) % servers.length] as BenchServer);
        round += 1;
        // --rounds: the servers alternate once per round (the order rotating too); the row holds
        // each figure's median over the rounds, and the rounds' CPU ratios are printed after it.
        const perServer = new Map<BenchServer, HttpCellResult[]>();
        for (let r = 0; r < args.rounds; r++) {
          const roundOrder = order.map((_, i) => order[(i + r) % order.length] as BenchServer);
          for (const server of roundOrder) {
            const child = serverFor(server, floorH1);
            const result = await withServerCpu(child, () =>
              autocannonCell(child.port, bodies, concurrency, args.duration),
            );
            if (child === ours) {
              loadSeconds += args.duration;
              rssUnderLoad = Math.max(rssUnderLoad, (await ours.request('rss')).rss ?? 0);
            }
            perServer.set(server, [...(perServer.get(server) ?? []), result]);
            process.stderr.write('.');
          }
        }
        for (const server of order) {
          const results = perServer.get(server) ?? [];
          cells.push({
            protocol: 'h1',
            driver: 'autocannon',
            payload,
            concurrency,
            server,
            ...medianResult(results),
          });
        }
        {
          const oursRounds = perServer.get('ours') ?? [];
          const floorRounds = perServer.get('floor') ?? [];
          const answerRounds = perServer.get('answer') ?? [];
          const by = (
            top: readonly HttpCellResult[],
            bottom: readonly HttpCellResult[],
            key: 'cpuMs' | 'rps',
          ) => top.map((o, i) => (o[key] / (bottom[i]?.[key] ?? Number.NaN)).toFixed(2)).join(', ');
          roundLines.push(
            `h1 ${payload} c=${concurrency}: ours/floor CPU per request by round ` +
              by(oursRounds, floorRounds, 'cpuMs') +
              '; req/s ' +
              by(oursRounds, floorRounds, 'rps') +
              '; answer/floor CPU ' +
              by(answerRounds, floorRounds, 'cpuMs') +
              '; ours/answer CPU ' +
              by(oursRounds, answerRounds, 'cpuMs') +
              ', req/s ' +
              by(oursRounds, answerRounds, 'rps') +
              '; p99 ms ours / floor ' +
              oursRounds
                .map((o, i) => `${o.p99.toFixed(3)} / ${floorRounds[i]?.p99.toFixed(3) ?? '?'}`)
                .join(', '),
          );
        }
        // HTTP/2: the streams over one connection, and over 8 (when there are 8 or more).
        const spreads = h2 && !args.noH2 ? [...new Set([1, Math.min(8, concurrency)])] : [];
        for (const connections of spreads) {
          for (const server of order.filter((s) => s !== 'answer')) {
            const child = serverFor(server, floorH2);
            const result = await withServerCpu(child, () =>
              h2loadCell(child.port, bodyFile, concurrency, connections, args.duration, workDir),
            );
            if (child === ours) {
              loadSeconds += args.duration;
              rssUnderLoad = Math.max(rssUnderLoad, (await ours.request('rss')).rss ?? 0);
            }
            cells.push({
              protocol: 'h2',
              driver: 'h2load',
              payload,
              concurrency,
              server,
              ...result,
            });
            process.stderr.write('.');
          }
        }
      }
    }
    // The first request on a fresh HTTP/1.1 connection, alternating servers, Bookinfo body: as
    // the API server makes it (Go's client, when Go is installed), then with Node's client.
    const firstBody = (sets.get('bookinfo') ?? [...sets.values()][0])?.[0]?.text ?? '{}';
    const freshRounds = args.quick ? 10 : 30;
    const firstBodyFile = join(workDir, 'first-request.json');
    const caFile = join(workDir, 'ca.pem');
    await writeFile(firstBodyFile, firstBody);
    await writeFile(caFile, tls.ca);
    const goClient = webhookClientBinary(root);
    if (!goClient.binary)
      fresh.push(`first request with Go's client (as the API server): skipped (${goClient.note})`);
    for (const [name, child] of (istio
      ? [
          ['floor', floorH1],
          ['istio', istio],
          ['ours', ours],
        ]
      : [
          ['floor', floorH1],
          ['ours', ours],
        ]) as [string, Child][]) {
      if (goClient.binary) {
        const g = await apiServerFirstRequest(
          goClient.binary,
          child.port,
          firstBodyFile,
          caFile,
          freshRounds,
        ).catch((error: unknown) => error as Error);
        fresh.push(
          g instanceof Error
            ? `${name.padEnd(6)} Go client (as the API server): failed (${g.message})`
            : `${name.padEnd(6)} Go client (as the API server, ${g.group}): connect ${g.connect.toFixed(3)} ms, ` +
                `TLS handshake ${g.handshake.toFixed(3)} ms, first request after it ${g.afterHandshake.toFixed(3)} ms ` +
                `(${(g.afterHandshake / g.steady).toFixed(2)} × steady), whole first request ${g.first.toFixed(3)} ms ` +
                `(${(g.first / g.steady).toFixed(2)} ×), steady-state ${g.steady.toFixed(3)} ms (median of ${freshRounds})`,
        );
      }
      const r = await freshConnection(child.port, firstBody, freshRounds).catch(
        (error: unknown) => error as Error,
      );
      if (r instanceof Error) {
        fresh.push(`${name.padEnd(6)} first request on a fresh connection: failed (${r.message})`);
        continue;
      }
      fresh.push(
        `${name.padEnd(6)} Node's client: first request on a fresh connection ${r.first.toFixed(3)} ms, steady-state ${r.steady.toFixed(3)} ms, ratio ${(r.first / r.steady).toFixed(2)} (median of ${freshRounds})`,
        `${name.padEnd(6)} Node's client: first request after the TLS handshake ${r.afterHandshake.toFixed(3)} ms, ratio ${(r.afterHandshake / r.steady).toFixed(2)} to steady-state`,
      );
    }
    process.stderr.write('\n');
    const lastRss = await ours.request('rss');
    const memory = (await ours.request('memory')).memory;
    console.log('\nServer benchmark (TLS, keep-alive; latency as seen by the load generator)\n');
    console.log(formatTable(cells));
    console.log(
      [
        '',
        'h1 rows: autocannon (in the bench process), requests rotate through every payload of the set.',
        "  answer: the floor's server sending our server's real answer to each payload (precomputed at start-up):",
        '  parsing the request and shipping the patch with no decision; ours minus answer is the cost of deciding.',
        `h2 rows: h2load (one client thread), every request sends the set's first payload (${[...sets].map(([name, b]) => `${name}: ${b[0]?.name ?? '-'}`).join(', ')}).`,
        'p50/p99: percentiles of the individual response times of 2xx answers, in ms with microsecond precision.',
        'server CPU ms/req: CPU time (user + system) the server process used during the cell, per request;',
        '  unlike req/s it does not depend on how much CPU the load generator on the same machine takes.',
        'ours/floor, ours/istio: request rate of our server over the floor (or Istio) server for the same row;',
        "  cpu ours/istio: our server CPU per request over Istio's. Istio's server CPU comes from /proc (10 ms ticks).",
      ].join('\n'),
    );
    if (idle && memory) {
      const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
      const gc = memory.gcForced
        ? 'after a forced full GC'
        : 'without a forced GC (no --expose-gc)';
      console.log(
        `\nour server, ${gc}: before the load rss ${mib(idle.afterGc.rss)}, heap used ${mib(idle.afterGc.heapUsed)}; ` +
          `after it rss ${mib(memory.afterGc.rss)}, heap used ${mib(memory.afterGc.heapUsed)}, heap total ${mib(memory.afterGc.heapTotal)}; ` +
          `peak rss during the run ${mib(memory.peakRss)}`,
      );
      console.log(
        `our server under load (no forced GC): highest rss after a cell ${mib(rssUnderLoad)}, ` +
          `rss after ${loadSeconds} s of load ${mib(lastRss.rss ?? 0)}`,
      );
    }
    if (roundLines.length > 0) {
      console.log(
        `\n${args.rounds} alternating round(s) per h1 row (answer: the floor sending our real answer, precomputed):`,
      );
    }
    for (const line of roundLines) console.log(line);
    console.log('');
    for (const line of fresh) console.log(line);
  } finally {
    await Promise.all([
      stopChild(ours),
      stopChild(floorH1),
      stopChild(floorH2),
      stopChild(answerH1),
      ...(istio ? [stopChild(istio)] : []),
    ]);
    await rm(workDir, { recursive: true, force: true });
  }

  // The bundle (what ships) and tsc's unbundled modules, alternating, the server alone on its CPU.
  // The first start of each fills Node's compile cache, as the image's build step does
  // (scripts/warm-compile-cache.mjs): it is shown apart, the starts after it are a pod's.
  const starts: Record<ServeEntry, StartupSample[]> = { bundle: [], modules: [] };
  const readyDir = await mkdtemp(join(tmpdir(), 'injector-ready-'));
  try {
    for (let i = 0; i < 1 + (args.quick ? 1 : args.readyRuns); i++) {
      for (const entry of ['bundle', 'modules'] as const) {
        starts[entry].push(await timeToReady(root, tls, readyDir, oursEnv, entry, serveCpu));
      }
    }
  } finally {
    await rm(readyDir, { recursive: true, force: true });
  }
  const showStart = (s: StartupSample) => `${s.readyMs.toFixed(0)} ms (CPU ${s.cpuMs} ms)`;
  for (const entry of ['bundle', 'modules'] as const) {
    const [filling, ...warm] = starts[entry];
    console.log(
      `${entry === 'bundle' ? '\n' : ''}time to ready, ${SERVE_ENTRIES[entry]} (serve with --tls-cert/--tls-key, spawn to first 200 of /readyz, ` +
        `${serveCpu === undefined ? 'not pinned' : `server alone on CPU ${serveCpu}`}): ${warm.map(showStart).join(', ')}; ` +
        `the start that filled the compile cache: ${filling ? showStart(filling) : 'none'}`,
    );
  }

  // The real binary's memory, as the chart runs it (the bench child above also holds the bench).
  const memoryDir = await mkdtemp(join(tmpdir(), 'injector-rss-'));
  try {
    const seconds = args.rssSeconds ?? (args.quick ? 5 : 60);
    const bodies = (sets.get('bookinfo') ?? [...sets.values()][0] ?? []).map((body) => body.text);
    // The bundle (what ships), then tsc's modules for comparison.
    for (const entry of ['bundle', 'modules'] as const) {
      const memory = await serveMemoryUnderLoad(
        root,
        tls,
        memoryDir,
        bodies,
        seconds,
        oursEnv,
        entry,
        serveCpu,
      );
      const show = (m: { rss: number; anon: number }) =>
        `rss ${m.rss.toFixed(1)} MiB (anonymous ${m.anon.toFixed(1)})`;
      console.log(
        `serve ${SERVE_ENTRIES[entry]} (NODE_OPTIONS ${oursEnv.NODE_OPTIONS ?? 'none'}): idle ${show(memory.idle)}; after ` +
          `${seconds} s of h1 load at c=8 (${memory.requests} requests, ${memory.errors} errors) ` +
          show(memory.afterLoad),
      );
    }
  } finally {
    await rm(memoryDir, { recursive: true, force: true });
  }
  if (args.quick) return;

  console.log('\nCore micro-benchmarks (in the bench process, no HTTP)\n');
  for (const line of payloadMicroBenchmarks(sets)) console.log(line);
  console.log('');
  for (const line of microBenchmark(args.iterations)) console.log(line);
  console.log('');
  for (const line of templateInjectBenchmarks(join(root, '..', 'shared'))) console.log(line);
  if (istio) for (const line of istioBenchmarkInjection(root, args.iterations)) console.log(line);
  else console.log(`Istio BenchmarkInjection: skipped (${istioNote ?? 'unavailable'})`);
}

await main();
