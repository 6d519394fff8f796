/**
 * The image's build steps without a container engine, and the npm package: the Dockerfile's
 * runtime stage is the bundle (dist/bin, scripts/bundle.mjs) and package.json, no node_modules;
 * here the same is assembled in a temporary directory, started with real certificates on
 * 127.0.0.1 and asked for /healthz. Then the package `npm pack` makes (package.json `files`) is
 * installed into a temporary prefix, and its `sidecar-injector` binary runs and injects.
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
import { shippedServerEnv } from '../../bench/shipped-env.js';

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
  // The Dockerfile's build stage: `npm run build` (tsc -p tsconfig.build.json, then the bundle),
  // into a scratch dir.
  dist = join(work.path, 'dist');
  await run(join(NODE_BIN, 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], {
    cwd: ROOT,
    env: ENV,
    timeout: 300_000,
  });
  await run(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--dist', dist], {
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

/**
 * Starts `node dist/bin/cli.js serve` in `app` on an ephemeral port, asks for /healthz trusting
 * `ca()` (read once the server listens), expects 200, then SIGTERM and exit 0.
 */
async function serveHealthz(
  app: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ca: () => string | Promise<string>,
): Promise<void> {
  const child = spawn(
    process.execPath,
    ['dist/bin/cli.js', 'serve', '--host=127.0.0.1', '--port=0', '--drain-seconds=0', ...args],
    { cwd: app, env: { ...ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'sidecar injector listening' && entry.port) resolve(entry.port);
        } catch {
          // not a log line
        }
      });
    });
    const health = await get(port, '/healthz', await ca());
    expect(health.status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
  }
}

/** The Dockerfile's runtime stage in `work/<name>`: package.json and the bundle, nothing else. */
async function runtimeStage(name: string): Promise<string> {
  const app = join(work.path, name);
  await mkdir(app);
  await cp(join(ROOT, 'package.json'), join(app, 'package.json'));
  await cp(join(dist, 'bin'), join(app, 'dist/bin'), { recursive: true });
  return app;
}

describe('container image build steps and npm package', () => {
  it(
    'the bundle alone (no node_modules) serves /healthz over TLS',
    { timeout: 400_000 },
    async () => {
      const app = await runtimeStage('app');
      // Nothing to install: the package has no runtime dependencies, the bundle carries them.
      const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      expect(pkg.dependencies ?? {}).toEqual({});
      await expect(readdir(join(app, 'node_modules'))).rejects.toThrow();
      const notices = await readFile(join(app, 'dist/bin/THIRD-PARTY-NOTICES.txt'), 'utf8');
      for (const bundled of ['fastify@', 'pino@', 'yaml@', '@kubernetes/client-node@']) {
        expect(notices).toContain(bundled);
      }
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
      const chunks = (await readdir(join(app, 'dist/bin'))).filter((f) => f.endsWith('.js'));
      expect(warmed.stdout).toContain(
        `compile cache: ${chunks.length - 1} modules of dist/bin loaded`,
      );
      const cached = await readdir(compileCache, { recursive: true, withFileTypes: true });
      expect(cached.filter((entry) => entry.isFile()).length).toBeGreaterThanOrEqual(
        chunks.length - 1,
      );

      const certs = await generateDevCertificates({ hosts: ['localhost', '127.0.0.1'] });
      await writeFile(join(work.path, 'tls.crt'), certs.cert);
      await writeFile(join(work.path, 'tls.key'), certs.key, { mode: 0o600 });
      await serveHealthz(
        app,
        [`--tls-cert=${join(work.path, 'tls.crt')}`, `--tls-key=${join(work.path, 'tls.key')}`],
        // As the Deployment runs it: its NODE_OPTIONS (a flag Node refuses there stops the start).
        {
          NODE_ENV: 'production',
          NODE_COMPILE_CACHE: compileCache,
          ...(await shippedServerEnv(ROOT)),
        },
        () => certs.ca,
      );
    },
  );

  it(
    'the bundle alone, given no certificate files, makes a development CA and serves with it',
    { timeout: 120_000 },
    async () => {
      // The README's `npm start`: the certificate generator is a lazily loaded chunk of the bundle.
      const app = await runtimeStage('app-dev');
      await serveHealthz(app, [], {}, () => readFile(join(app, 'certs/dev/ca.crt'), 'utf8'));
    },
  );

  it(
    'npm pack ships the bundle, and the installed sidecar-injector binary runs and injects',
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
      await cp(join(dist, 'bin'), join(stage, 'dist/bin'), { recursive: true });
      await cp(join(dist, 'bench'), join(stage, 'dist/bench'), { recursive: true });
      await writeFile(join(stage, 'dist/build-info.json'), '{"commit":"0123abc"}\n');
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
      expect(files).toContain('dist/bin/THIRD-PARTY-NOTICES.txt');
      expect(
        files.filter(
          (f) =>
            !f.startsWith('dist/bin/') &&
            !['package.json', 'README.md', 'dist/build-info.json'].includes(f),
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
      // The commit comes from the packed dist/build-info.json, read by the bundle's chunk.
      const long = await run(bin, ['version'], { env: ENV, timeout: 30_000 });
      expect(long.stdout).toContain('0123abc');
      // Self-contained: the install brought no packages, and an offline command still runs.
      const installed = join(prefix, 'lib', 'node_modules', 'sidecar-injector');
      await expect(readdir(join(installed, 'node_modules'))).rejects.toThrow();
      const injected = await run(
        bin,
        ['inject', '-f', join(ROOT, 'test/image/fixtures/pod.yaml')],
        {
          env: ENV,
          timeout: 30_000,
        },
      );
      expect(injected.stdout).toMatch(/name: istio-proxy/);
      expect(injected.stdout).toMatch(/name: istio-init/);
      // The other lazily loaded commands run from the bundle too.
      const checked = await run(
        bin,
        [
          'check',
          '-f',
          join(ROOT, 'test/image/fixtures/pod.yaml'),
          '--namespace-labels',
          'istio-injection=enabled',
        ],
        { env: ENV, timeout: 30_000 },
      );
      expect(checked.stdout).toMatch(/hello/);
      const completion = await run(bin, ['completion', 'bash'], { env: ENV, timeout: 30_000 });
      expect(completion.stdout).toContain('sidecar-injector');
    },
  );
});
