/**
 * `npm run bench`: our webhook server against a "floor" server that only parses the JSON body and
 * returns a constant AdmissionReview, both over TLS with keep-alive, driven alternately with the
 * realistic AdmissionReviews of ../shared/perf/payloads at several concurrencies (HTTP/1.1 with
 * autocannon, HTTP/2 with h2load when installed). Then a core micro-benchmark: a pod with 2 000
 * env vars injected N times.
 *
 * Servers run in child processes so the load generator does not share their event loop.
 * Flags: --duration <s> (per cell, default 5), --concurrency 1,8,64, --iterations <n> (micro).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { defaultInjectionConfig } from '../src/core/config/defaults.js';
import type { Pod } from '../src/core/k8s.js';
import { inject } from '../src/core/inject.js';
import { buildApp } from '../src/http/app.js';
import { createRealEngine, parsePathParams } from '../src/http/engine.js';
import { createMetrics } from '../src/metrics/registry.js';
import { createStaticConfigProvider } from '../src/config-sources/static.js';
import { generateDevCertificates, type DevCertificates } from '../src/tls/dev-cert.js';

type ServerKind = 'ours' | 'floor-h1' | 'floor-h2';

interface ChildMessage {
  port?: number;
  memory?: NodeJS.MemoryUsage;
}

// ---------------------------------------------------------------------------------------------
// Child side: one server per process.

const FLOOR_RESPONSE = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response: { uid: '00000000-0000-0000-0000-000000000000', allowed: true },
});

function floorHandler(
  request: IncomingMessage | http2.Http2ServerRequest,
  response: ServerResponse | http2.Http2ServerResponse,
): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  // Both response types share this shape; TypeScript cannot call the union's overloads directly.
  const reply = response as unknown as {
    writeHead(status: number, headers?: Record<string, string>): unknown;
    end(body?: string): unknown;
  };
  request.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      reply.writeHead(200, { 'content-type': 'application/json' });
      reply.end(FLOOR_RESPONSE);
    } catch {
      reply.writeHead(400);
      reply.end();
    }
  });
}

async function runChild(kind: ServerKind, tls: DevCertificates): Promise<void> {
  let close: () => Promise<void>;
  let port: number;
  if (kind === 'ours') {
    // Logs go where production logs go (one line per review), but to /dev/null.
    const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
    const app = buildApp({
      engine: createRealEngine(),
      parsePathParams,
      config: createStaticConfigProvider(defaultInjectionConfig()),
      logger,
      metrics: createMetrics(),
      tls: { cert: tls.cert, key: tls.key },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
    close = () => app.close();
  } else {
    const server =
      kind === 'floor-h1'
        ? https.createServer(
            { cert: tls.cert, key: tls.key, keepAliveTimeout: 95_000 },
            floorHandler,
          )
        : http2.createSecureServer(
            { cert: tls.cert, key: tls.key, allowHTTP1: true },
            floorHandler,
          );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  }
  process.send?.({ port } satisfies ChildMessage);
  process.on('message', (message: string) => {
    if (message === 'memory')
      process.send?.({ memory: process.memoryUsage() } satisfies ChildMessage);
    if (message === 'stop') void close().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// Parent side.

interface Cell {
  protocol: 'h1' | 'h2';
  payload: string;
  concurrency: number;
  server: 'ours' | 'floor';
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

interface Child {
  process: ChildProcess;
  port: number;
  request(message: string): Promise<ChildMessage>;
}

function startChild(kind: ServerKind, certFile: string): Promise<Child> {
  const child = fork(fileURLToPath(import.meta.url), ['--child', kind, '--certs', certFile], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
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

function stopChild(child: Child): Promise<void> {
  return new Promise((resolve) => {
    child.process.once('exit', () => resolve());
    child.process.send('stop');
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

async function loadPayloads(dir: string): Promise<Map<string, string[]>> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as PayloadIndexEntry[];
  const sets = new Map<string, string[]>([
    ['bookinfo', []],
    ['large', []],
  ]);
  for (const entry of index) {
    const text = await readFile(join(dir, entry.file), 'utf8');
    if (entry.name.startsWith('bookinfo-')) sets.get('bookinfo')?.push(text);
    else if (entry.name.startsWith('large')) sets.get('large')?.push(text);
  }
  return new Map([...sets].filter(([, bodies]) => bodies.length > 0));
}

async function autocannonCell(
  port: number,
  bodies: readonly string[],
  concurrency: number,
  duration: number,
) {
  const result = await autocannon({
    url: `https://127.0.0.1:${port}/inject?timeout=10s`,
    connections: concurrency,
    pipelining: 1,
    duration,
    requests: bodies.map((body) => ({
      method: 'POST' as const,
      path: '/inject?timeout=10s',
      headers: { 'content-type': 'application/json' },
      body,
    })),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
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
  duration: number,
  workDir: string,
) {
  const logFile = join(workDir, `h2load-${port}-${concurrency}.log`);
  const args = [
    '-c',
    String(concurrency),
    '-m',
    '1',
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
    errors,
    requests: lines.length,
  };
}

function hasH2load(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('h2load', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

function envPod(count: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'env-heavy', namespace: 'default', labels: { app: 'env-heavy' } },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1',
          env: Array.from({ length: count }, (_, i) => ({ name: `ENV_${i}`, value: `value-${i}` })),
        },
      ],
    },
  };
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
    certs: get('certs'),
    duration: Number(get('duration') ?? '5'),
    concurrency: (get('concurrency') ?? '1,8,64').split(',').map(Number),
    iterations: Number(get('iterations') ?? '200'),
    payloads: get('payloads'),
  };
}

function formatTable(cells: readonly Cell[]): string {
  const header = [
    'proto',
    'payload',
    'conc',
    'server',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'ours/floor',
  ];
  const rows: string[][] = [];
  for (const cell of cells) {
    const floor = cells.find(
      (c) =>
        c.server === 'floor' &&
        c.protocol === cell.protocol &&
        c.payload === cell.payload &&
        c.concurrency === cell.concurrency,
    );
    const ratio =
      cell.server === 'ours' && floor && floor.rps > 0 ? (cell.rps / floor.rps).toFixed(2) : '';
    rows.push([
      cell.protocol,
      cell.payload,
      String(cell.concurrency),
      cell.server,
      cell.rps.toFixed(0),
      cell.p50.toFixed(2),
      cell.p99.toFixed(2),
      String(cell.errors),
      ratio,
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
    await runChild(args.child, tls);
    return;
  }

  const root = await projectRoot();
  const payloadDir = args.payloads ?? join(root, '..', 'shared', 'perf', 'payloads');
  const sets = await loadPayloads(payloadDir);
  const workDir = await mkdtemp(join(tmpdir(), 'injector-bench-'));
  const tls = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
  const certFile = join(workDir, 'certs.json');
  await writeFile(certFile, JSON.stringify(tls), { mode: 0o600 });

  const h2 = await hasH2load();
  console.log(
    `payloads: ${[...sets].map(([name, b]) => `${name} (${b.length})`).join(', ')}; ${args.duration} s per cell; ` +
      `concurrency ${args.concurrency.join(', ')}; HTTP/2: ${h2 ? 'h2load' : 'skipped (h2load not installed: apt-get install nghttp2-client)'}`,
  );

  const [ours, floorH1, floorH2] = await Promise.all([
    startChild('ours', certFile),
    startChild('floor-h1', certFile),
    startChild('floor-h2', certFile),
  ]);
  const cells: Cell[] = [];
  try {
    for (const [payload, bodies] of sets) {
      const bodyFile = join(workDir, `${payload}.json`);
      await writeFile(bodyFile, bodies[0] ?? '');
      for (const concurrency of args.concurrency) {
        // Alternate which server goes first so warm-up and thermal effects do not favour one side.
        const order: ('ours' | 'floor')[] =
          cells.length % 4 === 0 ? ['floor', 'ours'] : ['ours', 'floor'];
        for (const server of order) {
          const port = server === 'ours' ? ours.port : floorH1.port;
          const result = await autocannonCell(port, bodies, concurrency, args.duration);
          cells.push({ protocol: 'h1', payload, concurrency, server, ...result });
          process.stderr.write('.');
        }
        if (h2) {
          for (const server of order) {
            const port = server === 'ours' ? ours.port : floorH2.port;
            const result = await h2loadCell(port, bodyFile, concurrency, args.duration, workDir);
            cells.push({ protocol: 'h2', payload, concurrency, server, ...result });
            process.stderr.write('.');
          }
        }
      }
    }
    process.stderr.write('\n');
    const memory = (await ours.request('memory')).memory;
    console.log('\nServer benchmark (TLS, keep-alive; latency as seen by the load generator)\n');
    console.log(formatTable(cells));
    if (memory) {
      const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
      console.log(
        `\nour server after the run: rss ${mib(memory.rss)} MiB, heap used ${mib(memory.heapUsed)} MiB, heap total ${mib(memory.heapTotal)} MiB`,
      );
    }
  } finally {
    await Promise.all([stopChild(ours), stopChild(floorH1), stopChild(floorH2)]);
    await rm(workDir, { recursive: true, force: true });
  }

  console.log('\nCore micro-benchmark (inject() only, no HTTP)\n');
  for (const line of microBenchmark(args.iterations)) console.log(line);
}

await main();
