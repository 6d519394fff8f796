/**
 * The image's build steps without a container engine, and the npm package: the Dockerfile's
 * runtime stage is `npm ci --omit=dev` plus the compiled dist/src; here the same is assembled in a
 * temporary directory, started with real certificates on 127.0.0.1 and asked for /healthz. Then
 * the package `npm pack` makes (package.json `files`) is installed into a temporary prefix and
 * its `sidecar-injector` binary runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateDevCertificates } from '../../src/tls/dev-cert.js';
import { tempDir } from '../helpers/async.js';
import { ROOT, run } from '../helpers/tools.js';

// Node 24 (the `node` devDependency) first, as npm scripts and the node:24 image have it.
const NODE_BIN = join(ROOT, 'node_modules/.bin');
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${NODE_BIN}${delimiter}${process.env['PATH'] ?? ''}`,
};
delete ENV['KUBERNETES_SERVICE_HOST'];
const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: ENV,
    timeout: 300_000,
    maxBuffer: 16 << 20,
  });

let work: Awaited<ReturnType<typeof tempDir>>;
let dist: string;

beforeAll(async () => {
  work = await tempDir();
  // The Dockerfile's build stage: `npm run build` (tsc -p tsconfig.build.json), into a scratch dir.
  dist = join(work.path, 'dist');
  await run(join(NODE_BIN, 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], {
    cwd: ROOT,
    env: ENV,
    timeout: 300_000,
  });
}, 320_000);

afterAll(async () => {
  await work.cleanup();
});

/** GET over TLS, trusting `ca` only. */
function get(port: number, path: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, ca, servername: 'localhost', timeout: 5000 },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('container image build steps and npm package', () => {
  it('npm ci --omit=dev plus dist/src serves /healthz over TLS', { timeout: 400_000 }, async () => {
    const app = join(work.path, 'app');
    await mkdir(app);
    for (const f of ['package.json', 'package-lock.json']) await cp(join(ROOT, f), join(app, f));
    await npm(['ci', '--omit=dev'], app);
    await cp(join(dist, 'src'), join(app, 'dist/src'), { recursive: true });
    // Production dependencies only: no dev tool made it in.
    await expect(readFile(join(app, 'node_modules/vitest/package.json'))).rejects.toThrow();
    // The Dockerfile's compile-cache step: fills NODE_COMPILE_CACHE, which the server then reads.
    const compileCache = join(app, '.cache', 'node-compile-cache');
    await cp(
      join(ROOT, 'scripts/warm-compile-cache.mjs'),
      join(app, 'scripts/warm-compile-cache.mjs'),
    );
    const warmed = await run(process.execPath, ['scripts/warm-compile-cache.mjs'], {
      cwd: app,
      env: { ...ENV, NODE_COMPILE_CACHE: compileCache },
    });
    expect(warmed.stdout).toMatch(/compile cache: \d+ modules of dist\/src loaded/);
    const cached = await readdir(compileCache, { recursive: true });
    expect(cached.length).toBeGreaterThan(100);

    const certs = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
    await writeFile(join(work.path, 'tls.crt'), certs.cert);
    await writeFile(join(work.path, 'tls.key'), certs.key, { mode: 0o600 });
    const child = spawn(
      process.execPath,
      [
        'dist/src/cli.js',
        'serve',
        '--host=127.0.0.1',
        '--port=0',
        `--tls-cert=${join(work.path, 'tls.crt')}`,
        `--tls-key=${join(work.path, 'tls.key')}`,
        '--drain-seconds=0',
      ],
      {
        cwd: app,
        env: { ...ENV, NODE_ENV: 'production', NODE_COMPILE_CACHE: compileCache },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
        createInterface({ input: child.stdout }).on('line', (line) => {
          try {
            const entry = JSON.parse(line) as { msg?: string; port?: number };
            if (entry.msg === 'sidecar injector listening' && entry.port) resolve(entry.port);
          } catch {
            // not a log line
          }
        });
      });
      const health = await get(port, '/healthz', certs.ca);
      expect(health.status).toBe(200);
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  });

  it(
    'npm pack ships dist/src, and the installed sidecar-injector binary runs',
    { timeout: 400_000 },
    async () => {
      const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
        private?: boolean;
        bin: Record<string, string>;
      };
      expect(pkg.private).toBeUndefined();
      // The package directory as `npm pack` sees it after its prepack build.
      const stage = join(work.path, 'stage');
      await mkdir(stage);
      for (const f of ['package.json', 'README.md']) await cp(join(ROOT, f), join(stage, f));
      await cp(join(dist, 'src'), join(stage, 'dist/src'), { recursive: true });
      await cp(join(dist, 'bench'), join(stage, 'dist/bench'), { recursive: true });
      const { stdout } = await npm(
        ['pack', '--json', '--ignore-scripts', '--pack-destination', work.path],
        stage,
      );
      const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
      if (packed === undefined) throw new Error('npm pack reported nothing');
      const files = packed.files.map((f) => f.path);
      expect(files).toEqual(
        expect.arrayContaining(['package.json', 'README.md', pkg.bin['sidecar-injector']]),
      );
      expect(
        files.filter(
          (f) => !f.startsWith('dist/src/') && !['package.json', 'README.md'].includes(f),
        ),
      ).toEqual([]);

      const prefix = join(work.path, 'prefix');
      await npm(
        ['install', '--global', '--prefix', prefix, join(work.path, packed.filename)],
        work.path,
      );
      const bin = join(prefix, 'bin', 'sidecar-injector');
      const version = await run(bin, ['--version'], { env: ENV, timeout: 30_000 });
      expect(version.stdout.trim()).toContain(pkg.version);
    },
  );
});
