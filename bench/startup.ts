/**
 * Time to ready of the real server process (`node dist/src/cli.js serve`, offline, with
 * certificate files given as in production): from spawn to the first 200 of GET /readyz, polled
 * every 2 ms over TLS on 127.0.0.1. The process is stopped (SIGTERM, drain 0) after each run.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
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

export interface StartupSample {
  /** Wall-clock ms from spawn to the first 200 of /readyz. */
  readyMs: number;
  /** CPU ms the server process used until then (steadier than wall time on a busy machine). */
  cpuMs: number;
}

/** One start. `nodeArgs` go before the script (e.g. --import x). */
export async function timeToReady(
  root: string,
  tls: DevCertificates,
  workDir: string,
  nodeArgs: readonly string[] = [],
): Promise<StartupSample> {
  const cert = join(workDir, 'ready-cert.pem');
  const key = join(workDir, 'ready-key.pem');
  await writeFile(cert, tls.cert);
  await writeFile(key, tls.key, { mode: 0o600 });
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      join(root, 'dist', 'src', 'cli.js'),
      'serve',
      '--port',
      String(port),
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--drain-seconds',
      '0',
      '--log-level',
      'warn',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env } },
  );
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
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) resolve();
      else {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }
    });
  }
}
