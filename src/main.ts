/**
 * The composition root of the binary: the only module that reads `process.env`, `process.argv`
 * and signals. Dispatches the commands; `serve` is started by src/server.ts.
 */
import { readFile } from 'node:fs/promises';
import type { CliCommand, CliIO } from './cli/io.js';
import { EXIT } from './cli/io.js';
import { SERVE_HELP, parseServeOptions } from './cli/serve.js';
import { formatError, isInjectorError } from './errors.js';
import { createLogger } from './logging/logger.js';
import { startServer, type RunningServer } from './server.js';

export const MAIN_HELP = `Usage: sidecar-injector <command> [flags]

Istio-compatible sidecar injection: a Kubernetes mutating admission webhook and offline tools.

Commands:
  serve     run the admission webhook server (TLS, HTTP/2 and HTTP/1.1)
  inject    inject sidecars into manifests offline (like istioctl kube-inject)
  check     explain whether and why a pod would be injected
  tag       set, list or remove revision tags (like istioctl tag)
  version   the version, the Istio behaviour version, the templates and the git commit
  completion bash|zsh|fish
            print a shell completion script (bash: source <(sidecar-injector completion bash))

Flags:
  --help, -h       show help (also: sidecar-injector <command> --help)
  --version, -v    print the version

Exit codes: 0 success, 1 runtime failure, 2 invalid flags, environment or configuration.
`;

async function packageVersion(): Promise<string> {
  return (await packageRoot()).version;
}

/** The directory holding our package.json, and its version. */
async function packageRoot(): Promise<{ root: URL; version: string }> {
  // src/main.ts runs from src/ (tsx) or dist/src/ (compiled): look one and two levels up.
  for (const relative of ['../', '../../']) {
    try {
      const root = new URL(relative, import.meta.url);
      const text = await readFile(new URL('package.json', root), 'utf8');
      const parsed = JSON.parse(text) as { name?: string; version?: string };
      if (parsed.name === 'sidecar-injector' && parsed.version) {
        return { root, version: parsed.version };
      }
    } catch {
      // try the next candidate
    }
  }
  return { root: new URL('../', import.meta.url), version: 'unknown' };
}

/** Loads an offline subcommand on demand, so `serve` works even in a build without them. */
async function loadCommand(name: 'inject' | 'check'): Promise<CliCommand | undefined> {
  try {
    if (name === 'inject') return (await import('./cli/inject.js')).runInject;
    return (await import('./cli/check.js')).runCheck;
  } catch {
    return undefined;
  }
}

/** After a completed shutdown, the longest the process lingers on sockets it no longer uses. */
const EXIT_LINGER_MS = 500;

async function runServe(argv: readonly string[], io: CliIO): Promise<number> {
  const parsed = parseServeOptions(argv, io.env);
  if (!parsed.ok) {
    if (parsed.help) {
      io.stdout(SERVE_HELP);
      return EXIT.OK;
    }
    io.stderr(
      `INJ_ERR_CLI_USAGE: invalid serve flags or environment:\n${parsed.problems
        .map((p) => `  - ${p}`)
        .join('\n')}\nRun 'sidecar-injector serve --help' for the flags.\n`,
    );
    return EXIT.USAGE;
  }
  const options = parsed.options;
  const logger = createLogger({ level: options.logLevel });
  let server: RunningServer;
  try {
    server = await startServer(options, { logger, cwd: io.cwd });
  } catch (error) {
    if (isInjectorError(error)) {
      io.stderr(`${formatError(error)}\n`);
      return error.exitCode;
    }
    io.stderr(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.FAILURE;
  }
  if (server.devCaPath !== undefined) {
    io.stderr(`Development CA certificate: ${server.devCaPath}\n`);
  }

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without waiting for the drain');
        resolve(EXIT.FAILURE);
        return;
      }
      logger.info({ signal }, 'shutdown requested');
      const exit = (code: number) => {
        resolve(code);
        // Everything of ours is closed by now; what can remain are the Kubernetes client's
        // keep-alive sockets to the API server, which would hold the process for their idle
        // timeout (~30 s, close to Kubernetes' default 30 s grace period). Exit once the
        // returned code is set; the timer does not itself keep the process alive.
        setTimeout(() => process.exit(code), EXIT_LINGER_MS).unref();
      };
      server.shutdown().then(
        () => exit(EXIT.OK),
        (error: unknown) => {
          logger.error({ err: error }, 'error during shutdown');
          exit(EXIT.FAILURE);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Entry point of the `sidecar-injector` binary. */
export async function runMain(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const io: CliIO = {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
  };
  const [command, ...rest] = argv;
  switch (command) {
    case '--help':
    case '-h':
    case 'help':
      io.stdout(MAIN_HELP);
      return EXIT.OK;
    case '--version':
    case '-v':
      io.stdout(`sidecar-injector ${await packageVersion()}\n`);
      return EXIT.OK;
    case 'version': {
      const { formatVersion, versionInfo } = await import('./cli/version.js');
      const { root, version } = await packageRoot();
      io.stdout(formatVersion(await versionInfo(root, version)));
      return EXIT.OK;
    }
    case 'completion':
      return (await import('./cli/completion.js')).runCompletion(rest, io);
    case 'tag':
      return (await import('./cli/tag.js')).runTag(rest, io);
    case 'serve':
      return runServe(rest, io);
    case 'inject':
    case 'check': {
      const run = await loadCommand(command);
      if (!run) {
        io.stderr(`the '${command}' command is not available in this build\n`);
        return EXIT.FAILURE;
      }
      return run(rest, io);
    }
    case undefined:
      io.stderr(MAIN_HELP);
      return EXIT.USAGE;
    default:
      io.stderr(`unknown command '${command}'\n\n${MAIN_HELP}`);
      return EXIT.USAGE;
  }
}
