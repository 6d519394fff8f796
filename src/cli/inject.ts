/**
 * `sidecar-injector inject`: offline injection of manifests (`istioctl kube-inject` semantics,
 * spec §2.5 and §10) with the webhook's own engine. See docs/offline.md.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { InjectorError, isInjectorError } from '../errors.js';
import { all, first, parseFlags, type FlagSpec, type ParsedFlags } from '../offline/args.js';
import type { ConfigRequest, OfflineEngine } from '../offline/engine.js';
import { injectManifest, type ManifestResult } from '../offline/manifest.js';
import { renderJson, renderPatches, renderYaml } from '../offline/output.js';
import { realEngine } from '../offline/real-engine.js';
import { EXIT, type CliCommand, type CliIO } from './io.js';

export const INJECT_USAGE = `Usage: sidecar-injector inject -f <file|dir|-> [flags]

Injects the sidecar into every workload of the manifests (Deployment, StatefulSet, DaemonSet,
ReplicaSet, ReplicationController, Job, CronJob, Pod, DeploymentConfig, List) and prints them.

  -f, --filename <file|dir|->   input manifests (a directory: its *.yaml, *.yml, *.json in name order)
  -o, --output-file <file>      write the result there instead of standard output
      --output yaml|json|patch  rewritten manifests (default yaml), JSON, or kustomize patches
      --config-dir <dir>        injector configuration files: config, values, mesh
      --kubeconfig <file>       read the configuration ConfigMaps from the cluster
      --istio-namespace <ns>    namespace of the configuration ConfigMaps (default istio-system)
      --revision <rev>          control-plane revision (default: the default revision)
      --set <path>=<value>      override a value (values.global.proxy.includeIPRanges=10.0.0.0/8)
                                or a mesh setting (meshConfig.defaultConfig.holdApplicationUntilProxyStarts=true)
      --native-sidecars enabled|disabled
                                proxy as a native sidecar (Kubernetes >= 1.33; default enabled)

Exit codes: 0 done, 1 failure (bad manifest, injection error, unreachable cluster), 2 usage.
`;

export const CONFIG_FLAGS: readonly FlagSpec[] = [
  { name: 'config-dir' },
  { name: 'kubeconfig' },
  { name: 'istio-namespace' },
  { name: 'revision' },
  { name: 'set', repeatable: true },
];

const FLAGS: readonly FlagSpec[] = [
  { name: 'filename', short: 'f' },
  { name: 'output-file', short: 'o' },
  { name: 'output', values: ['yaml', 'json', 'patch'] },
  { name: 'native-sidecars', values: ['enabled', 'disabled'] },
  { name: 'help', short: 'h', boolean: true },
  ...CONFIG_FLAGS,
];

/** The `inject` command over a given engine (tests pass a fake one). */
export function createInjectCommand(engine: OfflineEngine): CliCommand {
  return (argv, io) =>
    runGuarded(io, async () => {
      const flags = parseFlags(argv, FLAGS);
      if (flags.has('help')) {
        io.stdout(INJECT_USAGE);
        return EXIT.OK;
      }
      const filename = requireFlag(flags, 'filename');
      const inputs = await readInputs(filename, io);
      const config = await engine.loadConfig(configRequest(flags, io.cwd));
      const nativeSidecars = first(flags, 'native-sidecars') !== 'disabled';
      const injector = engine.injector(config, { nativeSidecars });

      const results: { result: ManifestResult; text: string }[] = [];
      for (const input of inputs) {
        const result = injectManifest(input.text, input.source, injector);
        for (const warning of result.warnings) io.stderr(`warning: ${warning}\n`);
        results.push({ result, text: input.text });
      }
      const output = render(results, first(flags, 'output') ?? 'yaml');
      const outFile = first(flags, 'output-file');
      if (outFile === undefined) io.stdout(output);
      else await writeOutput(resolve(io.cwd, outFile), output);
      return EXIT.OK;
    });
}

export const runInject: CliCommand = createInjectCommand(realEngine);

function render(results: { result: ManifestResult; text: string }[], format: string): string {
  const manifests = results.map(({ result }) => result);
  if (format === 'json') return renderJson(manifests);
  if (format === 'patch') return renderPatches(manifests);
  return joinStreams(results.map(({ result, text }) => renderYaml(result, text)));
}

/** Concatenates the outputs of several files into one YAML stream. */
function joinStreams(parts: readonly string[]): string {
  let out = '';
  for (const part of parts) {
    if (part.trim() === '') continue;
    if (out !== '') {
      if (!out.endsWith('\n')) out += '\n';
      if (!part.startsWith('---')) out += '---\n';
    }
    out += part;
  }
  return out;
}

/** The configuration flags; paths are resolved against `cwd`. */
export function configRequest(flags: ParsedFlags, cwd: string): ConfigRequest {
  const configDir = first(flags, 'config-dir');
  const kubeconfig = first(flags, 'kubeconfig');
  if (configDir !== undefined && kubeconfig !== undefined) {
    throw new InjectorError(
      'INJ_ERR_CLI_USAGE',
      'use either --config-dir or --kubeconfig, not both',
      {
        details: [{ field: '--config-dir', reason: 'conflicts with --kubeconfig' }],
      },
    );
  }
  for (const set of all(flags, 'set')) {
    if (!/^[^=]+=/.test(set)) {
      throw new InjectorError('INJ_ERR_CLI_USAGE', `--set "${set}": expected <path>=<value>`, {
        details: [{ field: '--set', value: set, reason: 'expected <path>=<value>' }],
      });
    }
  }
  const revision = first(flags, 'revision') ?? '';
  return {
    ...(configDir === undefined ? {} : { configDir: resolve(cwd, configDir) }),
    ...(kubeconfig === undefined ? {} : { kubeconfig: resolve(cwd, kubeconfig) }),
    istioNamespace: first(flags, 'istio-namespace') ?? 'istio-system',
    revision: revision === 'default' ? '' : revision,
    set: all(flags, 'set'),
  };
}

export function requireFlag(flags: ParsedFlags, name: string): string {
  const value = first(flags, name);
  if (value === undefined || value === '') {
    throw new InjectorError('INJ_ERR_CLI_USAGE', `flag --${name} is required`, {
      details: [{ field: `--${name}`, reason: 'required' }],
    });
  }
  return value;
}

export interface InputFile {
  /** The path as given (or `<stdin>`), used in messages. */
  source: string;
  text: string;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Reads `-f`: standard input, one file, or a directory's manifests in name order. */
export async function readInputs(filename: string, io: CliIO): Promise<InputFile[]> {
  if (filename === '-') return [{ source: '<stdin>', text: await io.readStdin() }];
  const path = resolve(io.cwd, filename);
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return [{ source: filename, text: await readFile(path, 'utf8') }];
    const names = (await readdir(path, { withFileTypes: true }))
      .filter((e) => e.isFile() && MANIFEST_EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
    return Promise.all(
      names.map(async (name) => ({
        source: join(filename, name),
        text: await readFile(join(path, name), 'utf8'),
      })),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InjectorError('INJ_ERR_MANIFEST_INVALID', `${filename}: cannot read: ${reason}`, {
      details: [{ field: '--filename', value: filename, reason }],
      cause: error,
    });
  }
}

async function writeOutput(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InjectorError('INJ_ERR_MANIFEST_INVALID', `${path}: cannot write: ${reason}`, {
      details: [{ field: '--output-file', value: path, reason }],
      cause: error,
    });
  }
}

/** Runs a command body, turning errors into a message on stderr and the documented exit code. */
export async function runGuarded(io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (isInjectorError(error)) {
      io.stderr(`error: ${error.message}\n`);
      const usage = error.code === 'INJ_ERR_CLI_USAGE' || error.code === 'INJ_ERR_CONFIG_INVALID';
      if (error.code === 'INJ_ERR_CLI_USAGE') io.stderr('Run with --help for the flags.\n');
      return usage ? EXIT.USAGE : EXIT.FAILURE;
    }
    const text = error instanceof Error ? error.message : String(error);
    io.stderr(`error: INJ_ERR_INTERNAL: ${text}\n`);
    return EXIT.FAILURE;
  }
}
