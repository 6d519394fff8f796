/**
 * The real `sidecar-injector serve` in its own process, for tests that measure the server under
 * attack: the attacker and the measuring client then never share its event loop. 127.0.0.1, an
 * ephemeral port, and a kill timer so the process stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

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
