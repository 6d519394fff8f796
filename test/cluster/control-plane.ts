/**
 * The real control plane for the cluster suite: builds (or finds cached) the `kcp` binary of
 * test/control-plane (embedded etcd, kube-apiserver, kube-controller-manager, kubectl), starts it
 * on 127.0.0.1 and runs kubectl and the injector as child processes. Every child runs in its own
 * process group, is bounded in time, and is killed when the test process exits, however it exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_SCRIPT = join(ROOT, 'test/control-plane/build.sh');

export interface ClusterInfo {
  server: string;
  kubeconfig: string;
  caFile: string;
  webhookCertFile: string;
  webhookKeyFile: string;
  auditLog: string;
  apiServerLog: string;
  controllerManagerLog: string;
  etcd: string;
  pid: number;
}

const groups = new Set<number>();
// Last resort: whatever happens to the test process, no control plane or injector outlives it.
process.once('exit', () => {
  for (const pgid of groups) killGroup(pgid, 'SIGKILL');
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** Runs a command to completion with a hard time limit; never throws on a non-zero exit. */
export function run(
  file: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        env: opts.env ?? process.env,
        cwd: opts.cwd ?? ROOT,
        timeout: opts.timeoutMs ?? 60_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** The kcp binary, built on first use and cached by source hash (see build.sh). */
export async function buildControlPlane(): Promise<string> {
  const r = await run('bash', [BUILD_SCRIPT], { timeoutMs: 45 * 60_000 });
  if (r.code !== 0) throw new Error(`control-plane build failed:\n${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1) ?? '';
}

export interface ControlPlane {
  info: ClusterInfo;
  kcp: string;
  kubectl(
    args: readonly string[],
    input?: string,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Starts `kcp up` in DIR and resolves once it reports the API server and controllers healthy. */
export async function startControlPlane(
  kcp: string,
  dir: string,
  startTimeoutMs = 240_000,
): Promise<ControlPlane> {
  const child = spawn(
    kcp,
    ['up', `--dir=${dir}`, `--start-timeout=${startTimeoutMs / 1000}s`, '--max-lifetime=40m'],
    { detached: true, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const pgid = child.pid ?? 0;
  groups.add(pgid);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-8192);
  });
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`control plane not ready in ${startTimeoutMs} ms\n${stderr}`)),
      startTimeoutMs + 10_000,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(line.slice('READY '.length));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kcp up exited (${code}) before ready\n${stderr}`));
    });
  });
  let info: ClusterInfo;
  try {
    info = JSON.parse(await readFile(await ready, 'utf8')) as ClusterInfo;
  } catch (error) {
    killGroup(pgid, 'SIGKILL');
    groups.delete(pgid);
    throw error;
  }
  const kubectlPath = join(kcp, '..', 'kubectl');
  return {
    info,
    kcp,
    kubectl: (args, input) =>
      run(kubectlPath, args, {
        env: { ...process.env, KUBECONFIG: info.kubeconfig },
        ...(input !== undefined ? { input } : {}),
      }),
    stop: () => stopGroup(child, pgid, 20_000),
  };
}

async function stopGroup(child: ChildProcess, pgid: number, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.stdin?.end();
    killGroup(pgid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pgid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  // Children that ignored the parent's exit (none should: Pdeathsig) go with the group.
  killGroup(pgid, 'SIGKILL');
  groups.delete(pgid);
}

export interface Injector {
  port: number;
  /** The server process (also its process group). */
  pid: number;
  logs(): string;
  stop(): Promise<void>;
}

/** Runs the built `sidecar-injector serve` (dist/) as a separate process, like a replica would. */
export async function startInjector(opts: {
  port: number;
  certFile: string;
  keyFile: string;
  kubeconfig: string;
  caFile: string;
  /** The revision served (`--revision`); the shipped Deployment's `default` when absent. */
  revision?: string;
  extraArgs?: readonly string[];
  timeoutMs?: number;
}): Promise<Injector> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'dist/bin/cli.js'),
      'serve',
      '--host=127.0.0.1',
      `--port=${opts.port}`,
      `--tls-cert=${opts.certFile}`,
      `--tls-key=${opts.keyFile}`,
      `--kubeconfig=${opts.kubeconfig}`,
      // The shipped Deployment's flags (manifests/base/deployment.yaml), less the listener.
      '--istio-namespace=sidecar-injector',
      `--revision=${opts.revision ?? 'default'}`,
      '--native-sidecars=auto',
      '--drain-seconds=0',
      ...(opts.extraArgs ?? []),
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
  );
  const pgid = child.pid ?? 0;
  groups.add(pgid);
  let out = '';
  const keep = (c: Buffer): void => {
    out = (out + c.toString()).slice(-2_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const injector: Injector = {
    port: opts.port,
    pid: pgid,
    logs: () => out,
    stop: () => stopGroup(child, pgid, 10_000),
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const ca = await readFile(opts.caFile, 'utf8');
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`injector exited (${child.exitCode}):\n${out}`);
    if ((await httpsStatus(opts.port, '/readyz', ca)) === 200) return injector;
    await new Promise((r) => setTimeout(r, 200));
  }
  await injector.stop();
  throw new Error(`injector not ready:\n${out}`);
}

async function httpsStatus(port: number, path: string, ca: string): Promise<number> {
  const { request } = await import('node:https');
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, ca, agent: false, timeout: 2_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
