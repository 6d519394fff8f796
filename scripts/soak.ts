/**
 * `npm run soak [-- --duration 5m --share 0.5 --connections 8 --snapshots DIR]`: a bounded soak of
 * the real server (`--minutes 5` is the same as `--duration 5m`).
 *
 * 1. Starts the built `sidecar-injector serve` (dist/, as shipped; `npm run soak` builds first) in
 *    its own process on 127.0.0.1 (offline, dev certificate), with its V8 inspector on an
 *    ephemeral loopback port: the only way the soak reaches into it (forced GCs, snapshots).
 * 2. Measures its capacity: 10 s closed loop at `--connections` with the mixed payloads of
 *    ../shared/perf/payloads (every file of index.json, in turn).
 * 3. Drives it open loop at `--share` of that capacity (default half) for `--duration` (default
 *    2m), sampling its RSS (/proc) every second and its heap after a forced full GC every 10 s.
 * 4. Reports errors (non-2xx, socket errors, timeouts), p50/p99/max latency, the medians of RSS
 *    and heap per 30 s, and the fitted change of each over the judged stretch: the last 3 minutes
 *    (the last 60 % of a shorter run), as % of their mean over it. What comes before is warm-up
 *    at the soak rate: the bounded caches fill within seconds (a few distinct payloads), and the
 *    first forced GC returns the memory of the capacity burst. Without forced GCs V8 gives that
 *    memory back over minutes, which a 5-minute run then reads as a falling RSS, and the lowest
 *    heap reading of a window is not what survives a collection (old-generation garbage waits
 *    for the next major GC): both measured nothing about leaks.
 *    `--snapshots DIR` also takes heap snapshots at the start and the end of the stretch and
 *    prints the largest changes by constructor (a snapshot pauses the server for seconds and
 *    costs RSS: latency and RSS figures of such a run are not the soak's).
 *    Exits 1 on any error or on a change beyond ±10 % over 3 minutes or more. Everything stops by
 *    itself.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parseGoDuration } from '../src/http/timeout.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PAYLOADS = join(ROOT, '..', 'shared', 'perf', 'payloads');

const FLAGS = new Set(['minutes', 'duration', 'share', 'connections', 'snapshots']);

/** `--name value` or `--name=value`; unknown flags are refused (a typo must not run 2 minutes). */
function flags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !FLAGS.has(m[1] ?? '')) {
      throw new Error(
        `unknown argument ${arg}: use --duration 5m, --minutes, --share, --connections, --snapshots DIR`,
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
/** `--snapshots DIR`: heap snapshots at the start and the end of the judged stretch, compared. */
const snapshotDir = given.get('snapshots');

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

/**
 * The server's V8 inspector (DevTools protocol over WebSocket, on 127.0.0.1): a forced full GC
 * followed by the heap in use is "heap after GC" exactly, and heap snapshots name what is retained.
 * The server itself is unchanged (no gc hook in the product); only this soak's process has it open.
 */
interface Inspector {
  call<T>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Forced full GC, then the V8 heap in use (bytes). */
  heapAfterGc(): Promise<number>;
  /** A heap snapshot, as its JSON text (a forced GC comes first: only what is retained). */
  snapshot(): Promise<string>;
  close(): void;
}

async function inspect(url: string): Promise<Inspector> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`inspector ${url} refused`)), {
      once: true,
    });
  });
  let next = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let chunks: string[] = [];
  socket.addEventListener('message', (event: MessageEvent) => {
    const message = JSON.parse(String(event.data)) as {
      id?: number;
      method?: string;
      params?: { chunk?: string };
      result?: unknown;
      error?: { message: string };
    };
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk') {
      chunks.push(message.params?.chunk ?? '');
      return;
    }
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (waiter === undefined || message.id === undefined) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  });
  const call = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    call,
    async heapAfterGc() {
      await call('HeapProfiler.collectGarbage');
      const usage = await call<{ usedSize: number }>('Runtime.getHeapUsage');
      return usage.usedSize;
    },
    async snapshot() {
      chunks = [];
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      const text = chunks.join('');
      chunks = [];
      return text;
    },
    close: () => socket.close(),
  };
}

interface Launched {
  port: number;
  ca: string;
  pid: number;
  inspector: Inspector;
  stop: () => void;
}

async function launch(): Promise<Launched> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      // The inspector on an ephemeral loopback port: the soak forces GCs and takes snapshots
      // through it (see `inspect`).
      '--inspect=127.0.0.1:0',
      'dist/bin/cli.js',
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
  const [caPath, inspectorUrl] = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 30_000);
    const onData = () => {
      const ca = /Development CA certificate: (\S+)/.exec(err)?.[1];
      const ws = /Debugger listening on (ws:\/\/\S+)/.exec(err)?.[1];
      if (ca !== undefined && ws !== undefined) {
        clearTimeout(timer);
        child.stderr.off('data', onData);
        resolve([ca, ws]);
      }
    };
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`)));
  });
  const ca = await readFile(caPath, 'utf8');
  const inspector = await inspect(inspectorUrl);
  return {
    port,
    ca,
    pid: child.pid ?? 0,
    inspector,
    stop: () => {
      clearTimeout(killer);
      inspector.close();
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

/** RSS of `pid` from /proc, in bytes. */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) * 1024;
}

/**
 * Retained size by constructor (objects) or by kind (strings, arrays, code...) of a heap snapshot:
 * the comparison of two says which kind of object the heap grew by.
 */
function retainedByKind(text: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(text) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  for (let n = 0; n < snap.nodes.length; n += width) {
    const type = types[snap.nodes[n + typeAt] ?? 0] ?? '?';
    const kind =
      type === 'object' ? (snap.strings[snap.nodes[n + nameAt] ?? 0] ?? '?') : `(${type})`;
    const entry = out.get(kind) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[n + sizeAt] ?? 0;
    out.set(kind, entry);
  }
  return out;
}

function snapshotGrowth(early: string, late: string): string[] {
  const a = retainedByKind(early);
  const b = retainedByKind(late);
  const rows: { kind: string; count: number; bytes: number }[] = [];
  for (const kind of new Set([...a.keys(), ...b.keys()])) {
    const before = a.get(kind) ?? { count: 0, bytes: 0 };
    const after = b.get(kind) ?? { count: 0, bytes: 0 };
    rows.push({ kind, count: after.count - before.count, bytes: after.bytes - before.bytes });
  }
  rows.sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes));
  const total = (m: Map<string, { bytes: number }>) =>
    [...m.values()].reduce((t, e) => t + e.bytes, 0);
  return [
    `heap snapshots: ${(total(a) / 2 ** 20).toFixed(1)} -> ${(total(b) / 2 ** 20).toFixed(1)} MiB retained; largest changes by constructor:`,
    ...rows
      .slice(0, 12)
      .map(
        (r) =>
          `  ${r.kind.slice(0, 60)}: ${r.bytes >= 0 ? '+' : ''}${(r.bytes / 1024).toFixed(1)} KiB, ${r.count >= 0 ? '+' : ''}${r.count} objects`,
      ),
  ];
}

const bodies = await payloads();
const server = await launch();
try {
  const total = minutes * 60;
  // The judged stretch: the last 3 minutes of a run of 5 minutes or more, the last 60 % of a
  // shorter one. Everything before it is warm-up at the soak rate, in which the bounded caches
  // fill and V8 settles its heap sizes after the capacity burst.
  const from = total >= 300 ? total - 180 : total * 0.4;
  const span = total - from;
  console.log(
    `soak: ${bodies.length} payloads, ${connections} connections, ${total.toFixed(0)} s at ${share} of capacity (warm-up ${from.toFixed(0)} s, judged over the last ${span.toFixed(0)} s)`,
  );
  const capacity = await run(server.port, server.ca, bodies, 10);
  const capacityRps = capacity.result.requests.average;
  const rate = Math.max(1, Math.round(capacityRps * share));
  console.log(
    `capacity: ${capacityRps.toFixed(0)} req/s (closed loop, 10 s); soak rate ${rate} req/s`,
  );

  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const rss: [number, number][] = [];
  const heap: [number, number][] = [];
  const snapshots: string[] = [];
  let stopped = false;
  const sampler = setInterval(() => {
    rssOf(server.pid).then(
      (bytes) => rss.push([elapsed(), bytes]),
      () => undefined,
    );
  }, 1_000);
  // Heap after a forced full GC every 10 s (a GC costs the server a few ms: a handful of
  // requests out of thousands see it, within the p99). One at a time.
  const heapLoop = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      if (stopped) break;
      const t = elapsed();
      const wantSnapshot = snapshotDir !== undefined && snapshots.length === 0 && t >= from;
      if (wantSnapshot) snapshots.push(await server.inspector.snapshot());
      heap.push([t, await server.inspector.heapAfterGc()]);
    }
  })();
  const soak = await run(server.port, server.ca, bodies, total, rate);
  stopped = true;
  clearInterval(sampler);
  await heapLoop;
  heap.push([elapsed(), await server.inspector.heapAfterGc()]);
  if (snapshotDir !== undefined) snapshots.push(await server.inspector.snapshot());

  const { result, durations } = soak;
  durations.sort((a, b) => a - b);
  const errors = result.errors + result.timeouts + result.non2xx;
  const tail = (points: [number, number][]) => points.filter(([t]) => t >= from);
  const rssTail = tail(rss);
  const heapTail = tail(heap);
  const mean = (points: [number, number][]) =>
    points.reduce((sum, [, y]) => sum + y, 0) / Math.max(1, points.length);
  const pct = (points: [number, number][]) => ((slope(points) * span) / mean(points)) * 100;
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  // Medians of RSS and of the forced-GC heap in each 30 s window: the shape says leak (steady
  // climb), a cache filling (climb, then flat) or memory returned after start-up (fall, then
  // flat). Medians, because every forced GC puts a few-MiB dip into RSS.
  const median = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    return sorted.length === 0 ? NaN : (sorted[Math.floor(sorted.length / 2)] ?? NaN);
  };
  const timeline: string[] = [];
  for (let t = 0; t < total; t += 30) {
    const inWindow = (points: [number, number][]) =>
      points.filter(([x]) => x >= t && x < t + 30).map(([, y]) => y);
    timeline.push(`${t}-${t + 30}s ${mib(median(inWindow(rss)))}/${mib(median(inWindow(heap)))}`);
  }
  console.log(
    [
      `requests: ${result.requests.total} (${result.requests.average.toFixed(0)} req/s), errors ${errors} (non-2xx ${result.non2xx}, socket ${result.errors}, timeouts ${result.timeouts})`,
      `latency: p50 ${percentile(durations, 50).toFixed(2)} ms, p99 ${percentile(durations, 99).toFixed(2)} ms, max ${(durations.at(-1) ?? NaN).toFixed(2)} ms`,
      `RSS / heap after forced GC, medians per 30 s (MiB): ${timeline.join(', ')}`,
      `RSS over the last ${span.toFixed(0)} s: mean ${mib(mean(rssTail))} MiB, change ${pct(rssTail).toFixed(1)} % (fitted, ${rssTail.length} samples)`,
      `heap after GC over the last ${span.toFixed(0)} s: mean ${mib(mean(heapTail))} MiB, change ${pct(heapTail).toFixed(1)} % (fitted, ${heapTail.length} forced GCs)`,
      ...(snapshots.length === 2 ? snapshotGrowth(snapshots[0] ?? '', snapshots[1] ?? '') : []),
    ].join('\n'),
  );
  if (snapshotDir !== undefined) {
    const { writeFile } = await import('node:fs/promises');
    await Promise.all(
      snapshots.map((text, i) =>
        writeFile(join(snapshotDir, `soak-${i === 0 ? 'early' : 'late'}.heapsnapshot`), text),
      ),
    );
  }
  // Flat means within ±10 % over the stretch; judged on 3 minutes or more (a short run's first
  // seconds still include warm-up growth).
  const drift = Math.max(Math.abs(pct(rssTail)), Math.abs(pct(heapTail)));
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
