/**
 * `npm run soak [-- --duration 5m --share 0.5 --connections 8]`: a bounded soak of the real server
 * (`--minutes 5` is the same as `--duration 5m`).
 *
 * 1. Starts `sidecar-injector serve` in its own process on 127.0.0.1 (offline, dev certificate).
 * 2. Measures its capacity: 10 s closed loop at `--connections` with the mixed payloads of
 *    ../shared/perf/payloads (every file of index.json, in turn).
 * 3. Drives it open loop at `--share` of that capacity (default half) for `--duration` (default 2m),
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
import { parseGoDuration } from '../src/http/timeout.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PAYLOADS = join(ROOT, '..', 'shared', 'perf', 'payloads');

const FLAGS = new Set(['minutes', 'duration', 'share', 'connections']);

/** `--name value` or `--name=value`; unknown flags are refused (a typo must not run 2 minutes). */
function flags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !FLAGS.has(m[1] ?? '')) {
      throw new Error(
        `unknown argument ${arg}: use --duration 5m, --minutes, --share, --connections`,
      );
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    out.set(m[1] ?? '', value);
  }
  return out;
}

const given = flags(process.argv.slice(2));

function flag(name: string, fallback: number): number {
  const text = given.get(name);
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

/** `--duration` is a Go-style duration (`5m`, `90s`, `1m30s`); `--minutes` a number of minutes. */
function soakMinutes(): number {
  const text = given.get('duration');
  if (text === undefined) return flag('minutes', 2);
  const ms = parseGoDuration(text);
  if (ms === undefined || ms <= 0) throw new Error(`--duration ${text}: expected e.g. 5m, 90s`);
  return ms / 60_000;
}

const minutes = soakMinutes();
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
    `soak: ${bodies.length} payloads, ${connections} connections, ${(minutes * 60).toFixed(0)} s at ${share} of capacity`,
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
  const span = total - from;
  // 10 s windows, shorter on a short run so that the fit still has several points.
  const windowS = Math.max(1, Math.min(10, Math.floor(span / 6)));
  const windows = new Map<number, number>();
  for (const s of tail) {
    const w = Math.floor(s.t / windowS);
    windows.set(w, Math.min(windows.get(w) ?? Infinity, s.heap));
  }
  const heapMins = [...windows].map(([w, heap]) => [w * windowS, heap] as [number, number]);
  const rssPoints = tail.map((s) => [s.t, s.rss] as [number, number]);
  const mean = (points: [number, number][]) =>
    points.reduce((sum, [, y]) => sum + y, 0) / Math.max(1, points.length);
  const pct = (points: [number, number][]) => ((slope(points) * span) / mean(points)) * 100;
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.log(
    [
      `requests: ${result.requests.total} (${result.requests.average.toFixed(0)} req/s), errors ${errors} (non-2xx ${result.non2xx}, socket ${result.errors}, timeouts ${result.timeouts})`,
      `latency: p50 ${percentile(durations, 50).toFixed(2)} ms, p99 ${percentile(durations, 99).toFixed(2)} ms, max ${(durations.at(-1) ?? NaN).toFixed(2)} ms`,
      `RSS over the last ${span.toFixed(0)} s: mean ${mib(mean(rssPoints))} MiB, change ${pct(rssPoints).toFixed(1)} % (fitted)`,
      `heap after GC over the last ${span.toFixed(0)} s: mean ${mib(mean(heapMins))} MiB, change ${pct(heapMins).toFixed(1)} % (fitted, ${windowS} s window minima)`,
    ].join('\n'),
  );
  // Flat means within ±10 % over the stretch; judged on 3 minutes or more (a short run's first
  // seconds still include warm-up growth).
  const drift = Math.max(Math.abs(pct(rssPoints)), Math.abs(pct(heapMins)));
  const judged = span >= 180;
  console.log(
    judged
      ? `flat within ±10 %: ${drift <= 10 ? 'yes' : 'no'} (largest change ${drift.toFixed(1)} %)`
      : `flatness not judged: ${span.toFixed(0)} s is shorter than 3 minutes`,
  );
  process.exitCode = errors > 0 || (judged && !(drift <= 10)) ? 1 : 0;
} finally {
  server.stop();
}
