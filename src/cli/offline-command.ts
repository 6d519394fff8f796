/**
 * What the offline commands (`inject`, `check`) share: the configuration flags, reading `-f`
 * inputs, and the command frame (flags parsed, `--help`, every usage problem reported at once,
 * errors turned into a message and the documented exit code).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { InjectorError, formatError, isInjectorError } from '../errors.js';
import type { ConfigRequest } from '../config-sources/choose.js';
import { all, first, parseFlags, usageError, type FlagSpec, type ParsedFlags } from './flags.js';
import { EXIT, type CliCommand, type CliIO } from './io.js';

/** `-f`: the input manifests, a file, a directory or `-` for standard input. */
export const FILENAME_FLAG: FlagSpec = {
  name: 'filename',
  short: 'f',
  kind: 'string',
  required: true,
};

/** istioctl kube-inject's single-file flags (its camelCase names are accepted as aliases). */
const FILE_FLAGS = [
  { input: 'config', name: 'inject-config-file', alias: 'injectConfigFile' },
  { input: 'values', name: 'values-file', alias: 'valuesFile' },
  { input: 'mesh', name: 'mesh-config-file', alias: 'meshConfigFile' },
] as const;

/** Where the injector configuration comes from. */
export const CONFIG_FLAGS: readonly FlagSpec[] = [
  { name: 'config-dir', kind: 'string', conflicts: ['kubeconfig'] },
  { name: 'kubeconfig', kind: 'string' },
  { name: 'istio-namespace', kind: 'string' },
  // An empty revision is the default revision, as `default` is.
  { name: 'revision', kind: 'string', allowEmpty: true },
  ...FILE_FLAGS.map(({ name, alias }): FlagSpec => ({ name, aliases: [alias], kind: 'string' })),
  {
    name: 'set',
    kind: 'string',
    repeatable: true,
    check: (value) =>
      /^[^=]+=/.test(value) ? undefined : `expected <path>=<value>, got "${value}"`,
  },
];

/** The configuration flags as a request; paths are resolved against `cwd`. */
export function configRequest(flags: ParsedFlags, cwd: string): ConfigRequest {
  const configDir = first(flags, 'config-dir');
  const kubeconfig = first(flags, 'kubeconfig');
  const revision = first(flags, 'revision') ?? '';
  const files = Object.fromEntries(
    FILE_FLAGS.flatMap(({ input, name }) => {
      const path = first(flags, name);
      return path === undefined ? [] : [[input, resolve(cwd, path)]];
    }),
  );
  return {
    ...(Object.keys(files).length === 0 ? {} : { files }),
    ...(configDir === undefined ? {} : { configDir: resolve(cwd, configDir) }),
    ...(kubeconfig === undefined ? {} : { kubeconfig: resolve(cwd, kubeconfig) }),
    istioNamespace: first(flags, 'istio-namespace') ?? 'istio-system',
    revision: revision === 'default' ? '' : revision,
    set: all(flags, 'set'),
  };
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

/** Runs a command body, turning errors into a message on stderr and the documented exit code. */
export async function runGuarded(io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (isInjectorError(error)) {
      io.stderr(`error: ${formatError(error)}\n`);
      if (error.code === 'INJ_ERR_CLI_USAGE') io.stderr('Run with --help for the flags.\n');
      return error.exitCode;
    }
    const text = error instanceof Error ? error.message : String(error);
    io.stderr(`error: INJ_ERR_INTERNAL: ${text}\n`);
    return EXIT.FAILURE;
  }
}

export interface OfflineCommandSpec {
  flags: readonly FlagSpec[];
  /** Printed for `-h`/`--help`. */
  usage: string;
  /** Runs once the flags are valid; `-f` has been read into `inputs`. */
  run: (context: {
    flags: ParsedFlags;
    inputs: InputFile[];
    io: CliIO;
    /** Where the configuration comes from, from the shared configuration flags. */
    request: ConfigRequest;
  }) => Promise<number>;
}

/**
 * An offline command: parses the flags (plus `-f` and the configuration flags), prints the usage
 * for `--help`, stops with every usage problem at once (exit 2), reads the inputs, then runs.
 */
export function offlineCommand(spec: OfflineCommandSpec): CliCommand {
  const specs = [FILENAME_FLAG, ...spec.flags, ...CONFIG_FLAGS];
  return (argv, io) =>
    runGuarded(io, async () => {
      const flags = parseFlags(argv, io.env, specs);
      if (flags.help) {
        io.stdout(spec.usage);
        return EXIT.OK;
      }
      const filename = first(flags, FILENAME_FLAG.name);
      if (flags.problems.length > 0 || filename === undefined) throw usageError(flags.problems);
      const inputs = await readInputs(filename, io);
      return spec.run({ flags, inputs, io, request: configRequest(flags, io.cwd) });
    });
}
