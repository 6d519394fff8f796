/**
 * Time to ready of the real server process (`node dist/bin/cli.js serve`, the bundle that ships; or
 * tsc's unbundled `dist/src/cli.js` beside it), offline, with
 * certificate files given as in production): from spawn to the first 200 of GET /readyz, polled
 * every 2 ms over TLS on 127.0.0.1. The process is stopped (SIGTERM, drain 0) after each run.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { DevCertificates } from '../src/tls/dev-cert.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function readyOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = https.get(
      { host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, timeout: 200 },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.once('error', () => resolve(false));
    request.once('timeout', () => request.destroy());
  });
}

/** CPU time (user + system) of a process from /proc, in ms (10 ms ticks). */
async function procCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface ServeProcess {
  child: ReturnType<typeof spawn>;
  port: number;
  /** performance.now() just before the spawn. */
  started: number;
}

/** The built binary: the bundle (what the image and the package run) or tsc's modules. */
export const SERVE_ENTRIES = { bundle: 'dist/bin/cli.js', modules: 'dist/src/cli.js' } as const;
export type ServeEntry = keyof typeof SERVE_ENTRIES;

/** The real `serve` with certificate files, as in production; `name` keeps each caller's files. */
async function spawnServe(
  root: string,
  tls: DevCertificates,
  workDir: string,
  name: string,
  options: {
    env: Readonly<Record<string, string>>;
    args: string[];
    entry?: ServeEntry;
    /** The CPU the server runs on (taskset from its exec on), as the bench's other servers. */
    cpu?: number | undefined;
  },
): Promise<ServeProcess> {
  const cert = join(workDir, `${name}-cert.pem`);
  const key = join(workDir, `${name}-key.pem`);
  await writeFile(cert, tls.cert);
  await writeFile(key, tls.key, { mode: 0o600 });
  const port = await freePort();
  const started = performance.now();
  // taskset execs node in place, so the pid (and /proc's CPU figures) are the server's.
  const [file, before]: [string, string[]] =
    options.cpu === undefined
      ? [process.execPath, []]
      : ['taskset', ['-c', String(options.cpu), process.execPath]];
  const child = spawn(
    file,
    [
      ...before,
      join(root, SERVE_ENTRIES[options.entry ?? 'bundle']),
      'serve',
      '--port',
      String(port),
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--drain-seconds',
      '0',
      ...options.args,
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...options.env } },
  );
  return { child, port, started };
}

/** SIGTERM, resolved once the process has exited. */
function stop(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }
  });
}

export interface StartupSample {
  /** Wall-clock ms from spawn to the first 200 of /readyz. */
  readyMs: number;
  /** CPU ms the server process used until then (steadier than wall time on a busy machine). */
  cpuMs: number;
}

/**
 * One start; `env` (the Deployment's NODE_OPTIONS) is added to ours. `cpu` pins the server alone
 * to one CPU: without it the server inherits the caller's affinity, and a bench pinned to one CPU
 * would start the server beside its own poller (seen: 200-356 ms against 137-187 ms apart).
 */
export async function timeToReady(
  root: string,
  tls: DevCertificates,
  workDir: string,
  env: Readonly<Record<string, string>> = {},
  entry: ServeEntry = 'bundle',
  cpu?: number,
): Promise<StartupSample> {
  const { child, port, started } = await spawnServe(root, tls, workDir, 'ready', {
    env,
    args: ['--log-level', 'warn'],
    entry,
    cpu,
  });
  try {
    const deadline = started + 20_000;
    while (performance.now() < deadline) {
      if (await readyOnce(port)) {
        const readyMs = performance.now() - started;
        return { readyMs, cpuMs: await procCpuMs(child.pid ?? 0) };
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return { readyMs: Number.NaN, cpuMs: Number.NaN };
  } finally {
    await stop(child);
  }
}

/** Resident memory of a process from /proc/<pid>/status, in MiB. */
async function procMemory(pid: number): Promise<{ rss: number; anon: number; file: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { rss: kib('VmRSS') / 1024, anon: kib('RssAnon') / 1024, file: kib('RssFile') / 1024 };
}

export interface ServeMemorySample {
  idle: { rss: number; anon: number; file: number };
  afterLoad: { rss: number; anon: number; file: number };
  requests: number;
  errors: number;
}

/**
 * RSS of the real `serve` (not the bench's server child, which also holds the bench's modules):
 * idle one second after ready, then after `seconds` of HTTP/1.1 load at concurrency 8 rotating
 * through `bodies`, as the chart runs it (`env`: its NODE_OPTIONS); `cpu` as for `timeToReady`.
 */
export async function serveMemoryUnderLoad(
  root: string,
  tls: DevCertificates,
  workDir: string,
  bodies: readonly string[],
  seconds: number,
  env: Readonly<Record<string, string>> = {},
  entry: ServeEntry = 'bundle',
  cpu?: number,
): Promise<ServeMemorySample> {
  const { child, port } = await spawnServe(root, tls, workDir, 'rss', {
    env,
    args: [],
    entry,
    cpu,
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
  try {
    const deadline = performance.now() + 20_000;
    while (!(await readyOnce(port))) {
      if (performance.now() > deadline) throw new Error('serve did not become ready in 20 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const pid = child.pid ?? 0;
    const idle = await procMemory(pid);
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      autocannon(
        {
          url: `https://127.0.0.1:${port}/inject?timeout=10s`,
          connections: 8,
          duration: seconds,
          requests: bodies.map((body) => ({
            method: 'POST' as const,
            path: '/inject?timeout=10s',
            headers: { 'content-type': 'application/json' },
            body,
          })),
        },
        (error, done) => (error ? reject(error as Error) : resolve(done)),
      );
    });
    return {
      idle,
      afterLoad: await procMemory(pid),
      requests: result.requests.total,
      errors: result.errors + result.timeouts + result.non2xx,
    };
  } finally {
    clearTimeout(killer);
    await stop(child);
  }
}
