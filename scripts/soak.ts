/**
 * `npm run soak [-- --minutes 5 --share 0.5 --connections 8]`: a bounded soak of the real server.
 *
 * 1. Starts `sidecar-injector serve` in its own process on 127.0.0.1 (offline, dev certificate).
 * 2. Measures its capacity: 10 s closed loop at `--connections` with the mixed payloads of
 *    ../shared/perf/payloads (every file of index.json, in turn).
 * 3. Drives it open loop at `--share` of that capacity (default half) for `--minutes` (default 2),
 *    sampling the server's RSS (/proc) and V8 heap (its own /metrics) every second.
 * 4. Reports errors (non-2xx, socket errors, timeouts), p50/p99/max latency, and the slopes of RSS
 *    and of the heap after GC (the lowest heap reading of each 10 s window: what survives a
 *    collection) over the last 3 minutes (the last 60 % of a shorter run), as % of their mean over
 *    that stretch. Exits 1 on any error. Everything stops by itself.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PAYLOADS = join(ROOT, '..', 'shared', 'perf', 'payloads');

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const minutes = flag('minutes', 2);
const share = flag('share', 0.5);
const connections = flag('connections', 8);

interface Sample {
  t: number;
  rss: number;
  heap: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function get(port: number, ca: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      { host: '127.0.0.1', port, path, ca, servername: 'localhost', timeout: 5_000 },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(body));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function launch(): Promise<{ port: number; ca: string; pid: number; stop: () => void }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli.ts',
      'serve',
      `--port=${port}`,
      '--host=127.0.0.1',
      '--log-level=warn',
      '--drain-seconds=0',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), (minutes * 60 + 120) * 1000);
  killer.unref();
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const caPath = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 30_000);
    const onData = () => {
      const match = /Development CA certificate: (\S+)/.exec(err);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stderr.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`)));
  });
  const ca = await readFile(caPath, 'utf8');
  return {
    port,
    ca,
    pid: child.pid ?? 0,
    stop: () => {
      clearTimeout(killer);
      child.kill('SIGTERM');
    },
  };
}

async function payloads(): Promise<string[]> {
  const index = JSON.parse(await readFile(join(PAYLOADS, 'index.json'), 'utf8')) as {
    file: string;
  }[];
  return Promise.all(index.map((entry) => readFile(join(PAYLOADS, entry.file), 'utf8')));
}

function run(
  port: number,
  ca: string,
  bodies: readonly string[],
  seconds: number,
  rate?: number,
): Promise<{ result: autocannon.Result; durations: number[] }> {
  const durations: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `https://127.0.0.1:${port}/inject?timeout=10s`,
        connections,
        duration: seconds,
        timeout: 10,
        tlsOptions: { ca, servername: 'localhost' },
        ...(rate === undefined ? {} : { overallRate: rate }),
        requests: bodies.map((body) => ({
          method: 'POST' as const,
          path: '/inject?timeout=10s',
          headers: { 'content-type': 'application/json' },
          body,
        })),
      },
      (error, result) => (error ? reject(error as Error) : resolve({ result, durations })),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) durations.push(ms);
    });
  });
}

async function sample(pid: number, port: number, ca: string, started: number): Promise<Sample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) * 1024;
  const metrics = await get(port, ca, '/metrics');
  const heap = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? NaN);
  return { t: (performance.now() - started) / 1000, rss, heap };
}

const bodies = await payloads();
const server = await launch();
try {
  console.log(
    `soak: ${bodies.length} payloads, ${connections} connections, ${minutes} min at ${share} of capacity`,
  );
  const capacity = await run(server.port, server.ca, bodies, 10);
  const capacityRps = capacity.result.requests.average;
  const rate = Math.max(1, Math.round(capacityRps * share));
  console.log(
    `capacity: ${capacityRps.toFixed(0)} req/s (closed loop, 10 s); soak rate ${rate} req/s`,
  );

  const started = performance.now();
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    sample(server.pid, server.port, server.ca, started).then(
      (s) => samples.push(s),
      () => undefined,
    );
  }, 1_000);
  const soak = await run(server.port, server.ca, bodies, minutes * 60, rate);
  clearInterval(sampler);

  const { result, durations } = soak;
  durations.sort((a, b) => a - b);
  const errors = result.errors + result.timeouts + result.non2xx;
  const total = minutes * 60;
  const from = total >= 300 ? total - 180 : total * 0.4;
  const tail = samples.filter((s) => s.t >= from);
  const windows = new Map<number, number>();
  for (const s of tail) {
    const w = Math.floor(s.t / 10);
    windows.set(w, Math.min(windows.get(w) ?? Infinity, s.heap));
  }
  const heapMins = [...windows].map(([w, heap]) => [w * 10, heap] as [number, number]);
  const rssPoints = tail.map((s) => [s.t, s.rss] as [number, number]);
  const mean = (points: [number, number][]) =>
    points.reduce((sum, [, y]) => sum + y, 0) / Math.max(1, points.length);
  const span = total - from;
  const pct = (points: [number, number][]) => ((slope(points) * span) / mean(points)) * 100;
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.log(
    [
      `requests: ${result.requests.total} (${result.requests.average.toFixed(0)} req/s), errors ${errors} (non-2xx ${result.non2xx}, socket ${result.errors}, timeouts ${result.timeouts})`,
      `latency: p50 ${percentile(durations, 50).toFixed(2)} ms, p99 ${percentile(durations, 99).toFixed(2)} ms, max ${(durations.at(-1) ?? NaN).toFixed(2)} ms`,
      `RSS over the last ${span.toFixed(0)} s: mean ${mib(mean(rssPoints))} MiB, change ${pct(rssPoints).toFixed(1)} % (fitted)`,
      `heap after GC over the last ${span.toFixed(0)} s: mean ${mib(mean(heapMins))} MiB, change ${pct(heapMins).toFixed(1)} % (fitted, 10 s window minima)`,
    ].join('\n'),
  );
  process.exitCode = errors > 0 ? 1 : 0;
} finally {
  server.stop();
}
