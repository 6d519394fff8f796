/** The `sidecar-injector` binary as a process: dispatch, help, version and usage exit codes. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TAG } from '../../src/core/config/defaults.js';
import { BUILTIN_RENDERERS } from '../../src/core/render/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sidecar-injector binary', () => {
  it('--version prints the package version', async () => {
    const result = await run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^sidecar-injector \d+\.\d+\.\d+/);
  });

  it('version prints the package, Istio behaviour and template versions and the git commit', async () => {
    const result = await run(['version']);
    expect(result.code).toBe(0);
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    expect(result.stdout).toBe(
      [
        `sidecar-injector ${pkg.version}`,
        `istio behaviour: ${DEFAULT_TAG} (defaults and templates of this Istio release)`,
        `templates: ${Object.keys(BUILTIN_RENDERERS).join(', ')}`,
        `git commit: ${commit}`,
        '',
      ].join('\n'),
    );
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    // --version stays one short line.
    expect((await run(['--version'])).stdout).toBe(`sidecar-injector ${pkg.version}\n`);
  });

  it('--help lists the commands', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['serve', 'inject', 'check']) expect(result.stdout).toContain(command);
  });

  it('no command and unknown commands exit 2', async () => {
    expect((await run([])).code).toBe(2);
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('serve with bad flags and environment: one message with every problem, exit 2', async () => {
    const result = await run(['serve', '--port', '-3', '--drain-seconds=soon'], {
      INJECTOR_NATIVE_SIDECARS: 'sometimes',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^INJ_ERR_CLI_USAGE/);
    expect(result.stderr).toContain('--drain-seconds');
    expect(result.stderr).toContain('INJECTOR_NATIVE_SIDECARS');
  });

  it('serve with an unreadable --config-dir exits 2 before listening', async () => {
    const result = await run([
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--config-dir',
      '/nonexistent/injector-config',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('INJ_ERR_CONFIG_INVALID');
    expect(result.stderr).toContain('/nonexistent/injector-config');
  });

  it('serve with a --config-dir holding none of config, values, mesh exits 2 naming the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'injector-empty-config-'));
    try {
      await writeFile(join(dir, 'mesh.yaml'), 'defaultConfig: {}\n'); // not a file the server reads
      const result = await run(['serve', '--port', '0', '--config-dir', dir]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^INJ_ERR_CONFIG_DIR_EMPTY: --config-dir /);
      expect(result.stderr).toContain(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['--port', (port: number) => ['--port', String(port)]],
    ['--metrics-port', (port: number) => ['--port', '0', '--metrics-port', String(port)]],
  ])(
    'serve on a taken %s exits 2 with INJ_ERR_PORT_IN_USE and the flag to change',
    async (flag, args) => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const { port } = taken.address() as AddressInfo;
      try {
        const result = await run([
          'serve',
          '--host',
          '127.0.0.1',
          ...args(port),
          '--drain-seconds',
          '0',
        ]);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/^INJ_ERR_PORT_IN_USE: /);
        expect(result.stderr).toContain(`127.0.0.1:${port}`);
        expect(result.stderr).toContain(`choose another port with ${flag}`);
        expect(result.stderr).not.toMatch(/^Error: listen EADDRINUSE/m);
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    },
  );
});
