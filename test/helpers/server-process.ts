/**
 * The real `sidecar-injector serve` in its own process, for tests that measure the server under
 * attack: the attacker and the measuring client then never share its event loop. 127.0.0.1, an
 * ephemeral port, and a kill timer so the process stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDevCertificates, type DevCertificates } from '../../src/tls/dev-cert.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** Parsed JSON log lines so far. */
  logs: () => Record<string, unknown>[];
  /** Resident set size of the server process, in bytes (Linux /proc). */
  rss: () => Promise<number>;
  /** SIGTERM, then waits for the exit; resolves with the exit code and the time it took. */
  stop: () => Promise<{ code: number | null; ms: number }>;
}

export function startServerProcess(
  args: readonly string[],
  options: { env?: Record<string, string>; maxLifetimeMs?: number; nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/cli.ts', 'serve', ...args],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), options.maxLifetimeMs ?? 120_000);
  killer.unref();
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const logs = () =>
    out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return new Promise((resolve, reject) => {
    const startedBy = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 60 s: ${err}${out}`));
    }, 60_000);
    const onData = () => {
      const listening = logs().find((line) => line['msg'] === 'sidecar injector listening');
      if (!listening) return;
      clearTimeout(startedBy);
      child.stdout?.off('data', onData);
      resolve({
        child,
        port: listening['port'] as number,
        logs,
        rss: async () => {
          const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
          const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
          return Number(kb) * 1024;
        },
        stop: async () => {
          const started = performance.now();
          if (child.exitCode === null) child.kill('SIGTERM');
          const code = await exited;
          clearTimeout(killer);
          return { code, ms: performance.now() - started };
        },
      });
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(startedBy);
      reject(new Error(`server exited with ${code} before listening: ${err}`));
    });
  });
}

/** A server process serving a fresh dev certificate for localhost and 127.0.0.1. */
export interface ServingProcess {
  server: ServerProcess;
  /** The serving pair and the CA that signed it. */
  pair: DevCertificates;
  /** A temporary directory holding tls.crt, tls.key and ca.crt; the test may add files. */
  dir: string;
  /** Stops the server, then removes `dir`. */
  stop: () => Promise<void>;
}

/**
 * Starts `serve` on 127.0.0.1, an ephemeral port, info logs and a new certificate written to a
 * temporary directory named after `prefix`; `args` add to (or override) those flags.
 */
export async function startServingProcess(
  prefix: string,
  args: readonly string[],
  options: { maxLifetimeMs?: number } = {},
): Promise<ServingProcess> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const pair = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
  await writeFile(join(dir, 'tls.crt'), pair.cert);
  await writeFile(join(dir, 'tls.key'), pair.key);
  await writeFile(join(dir, 'ca.crt'), pair.ca);
  const server = await startServerProcess(
    [
      '--port=0',
      '--host=127.0.0.1',
      '--log-level=info',
      `--tls-cert=${join(dir, 'tls.crt')}`,
      `--tls-key=${join(dir, 'tls.key')}`,
      ...args,
    ],
    options,
  ).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    server,
    pair,
    dir,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
