/**
 * The flag parser of every subcommand: `--name value`, `--name=value`, one-letter aliases
 * (`-f value`, `-fvalue`, `-f=value`), booleans, repeatable flags, `-h`/`--help`, and `--` ending
 * the flags. A flag may have an `INJECTOR_*` environment equivalent and a default (precedence:
 * command-line flag, then environment variable, then default). Values are checked by kind, and
 * every problem is collected instead of stopping at the first.
 */
import { InjectorError } from '../errors.js';

export type FlagKind = 'string' | 'port' | 'integer' | 'enum' | 'boolean';

export interface FlagSpec {
  /** Long name without dashes, e.g. `tls-cert`. */
  name: string;
  kind: FlagKind;
  /** One-letter alias, e.g. `f` for `-f`. */
  short?: string;
  /** Other long names, e.g. istioctl's `injectConfigFile`, reported under `name`. */
  aliases?: readonly string[];
  /** Values accumulate (`--set a=1 --set b=2`) instead of being reported as given twice. */
  repeatable?: boolean;
  /** An empty value is meaningful (`--namespace-labels ""`: a namespace without labels). */
  allowEmpty?: boolean;
  /** Flags that cannot be combined with this one. */
  conflicts?: readonly string[];
  /** The command cannot run without this flag. */
  required?: boolean;
  /** A further check of the value; returns why it is wrong, or undefined. */
  check?: (value: string) => string | undefined;
  /** Environment variable read when the flag is absent, e.g. `INJECTOR_TLS_CERT`. */
  env?: string;
  default?: string;
  /** Allowed values for `enum`. */
  choices?: readonly string[];
  /** Minimum for `integer`. */
  min?: number;
  /** Help text, for generated help. */
  description?: string;
  /** Placeholder shown in help, e.g. `PATH`. */
  metavar?: string;
}

export type FlagOrigin = 'flag' | 'env' | 'default';

export interface ParsedFlags {
  /** The valid values per flag name (after env and default); a repeatable flag may have several. */
  values: Map<string, string[]>;
  /** Where each value came from, for messages. */
  origin: Map<string, FlagOrigin>;
  help: boolean;
  problems: string[];
  /** Words that are not flags; only commands that take operands (`tag set TAG`) accept them. */
  positional: string[];
}

/** `-h` and `--help`, understood by every command. */
const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', kind: 'boolean' };

function checkValue(spec: FlagSpec, value: string, where: string): string | undefined {
  if (spec.kind === 'boolean') return undefined;
  const problem = kindProblem(spec, value, where);
  if (problem !== undefined) return problem;
  const reason = spec.check?.(value);
  return reason === undefined ? undefined : `${where}: ${reason}`;
}

/** What is wrong with `value` for the flag's kind, if anything. */
function kindProblem(spec: FlagSpec, value: string, where: string): string | undefined {
  switch (spec.kind) {
    case 'boolean':
      return undefined;
    case 'string':
      if (value.length === 0 && spec.allowEmpty !== true) return `${where}: must not be empty`;
      break;
    case 'port': {
      const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!(port >= 0 && port <= 65535)) {
        return `${where}: expected a port number 0-65535, got "${value}"`;
      }
      break;
    }
    case 'integer': {
      const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n)) return `${where}: expected an integer, got "${value}"`;
      if (spec.min !== undefined && n < spec.min) {
        return `${where}: must be at least ${spec.min}, got ${n}`;
      }
      break;
    }
    case 'enum':
      if (!spec.choices?.includes(value)) {
        return `${where}: expected one of ${spec.choices?.join('|') ?? ''}, got "${value}"`;
      }
      break;
  }
  return undefined;
}

type Lookup = { spec: FlagSpec; inline?: string } | { unknown: string } | undefined;

/** Which flag an argument names, with its `=value` or attached short value; undefined: not a flag. */
function lookup(arg: string, specs: readonly FlagSpec[]): Lookup {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find((s) => s.name === name || s.aliases?.includes(name) === true);
    if (spec === undefined) return { unknown: `--${name}` };
    return eq < 0 ? { spec } : { spec, inline: arg.slice(eq + 1) };
  }
  if (arg.startsWith('-') && arg.length > 1) {
    const spec = specs.find((s) => s.short === arg.slice(1, 2));
    if (spec === undefined) return { unknown: arg };
    const rest = arg.slice(2);
    if (rest === '') return { spec };
    return { spec, inline: rest.startsWith('=') ? rest.slice(1) : rest };
  }
  return undefined;
}

/** Reads the command line into the values given per flag, and the arguments that are not flags. */
function readArgv(
  argv: readonly string[],
  specs: readonly FlagSpec[],
  problems: string[],
): { given: Map<string, string[]>; positional: string[] } {
  const given = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const found = lookup(arg, specs);
    if (found === undefined) {
      positional.push(arg);
      continue;
    }
    if ('unknown' in found) {
      problems.push(`unknown flag ${found.unknown}`);
      continue;
    }
    const { spec, inline } = found;
    let value: string | undefined;
    if (spec.kind === 'boolean') {
      if (inline !== undefined) {
        problems.push(`--${spec.name}: takes no value`);
        continue;
      }
      value = 'true';
    } else if (inline !== undefined) {
      value = inline;
    } else if (i + 1 < argv.length && !(argv[i + 1] ?? '').startsWith('--')) {
      value = argv[++i];
    }
    if (value === undefined) {
      problems.push(`--${spec.name}: missing value`);
      given.set(spec.name, given.get(spec.name) ?? []);
      continue;
    }
    const seen = given.get(spec.name);
    if (spec.repeatable === true) {
      given.set(spec.name, [...(seen ?? []), value]);
      continue;
    }
    if (seen !== undefined && spec.kind !== 'boolean') {
      problems.push(`--${spec.name}: given more than once`);
    }
    given.set(spec.name, [value]);
  }
  return { given, positional };
}

/** Parses a command line against `specs` (plus `-h`/`--help`), with environment fallbacks. */
export function parseFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  specs: readonly FlagSpec[],
  options: { operands?: number } = {},
): ParsedFlags {
  const problems: string[] = [];
  const { given, positional } = readArgv(argv, [...specs, HELP_FLAG], problems);
  const values = new Map<string, string[]>();
  const origin = new Map<string, FlagOrigin>();
  for (const spec of specs) {
    const fromFlag = given.get(spec.name);
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    let candidates: string[];
    let where: string;
    if (fromFlag !== undefined) {
      candidates = fromFlag;
      where = `--${spec.name}`;
      origin.set(spec.name, 'flag');
    } else if (spec.env !== undefined && fromEnv !== undefined && fromEnv !== '') {
      candidates = [fromEnv];
      where = spec.env;
      origin.set(spec.name, 'env');
    } else if (spec.default !== undefined) {
      candidates = [spec.default];
      where = `--${spec.name} (default)`;
      origin.set(spec.name, 'default');
    } else {
      // A flag given without its value is reported once, as such.
      if (spec.required === true && !given.has(spec.name)) {
        problems.push(`flag --${spec.name} is required`);
      }
      continue;
    }
    const valid = candidates.filter((value) => {
      const problem = checkValue(spec, value, where);
      if (problem !== undefined) problems.push(problem);
      return problem === undefined;
    });
    if (valid.length > 0) values.set(spec.name, valid);
    for (const other of spec.conflicts ?? []) {
      if (fromFlag !== undefined && given.has(other)) {
        problems.push(`use either --${spec.name} or --${other}, not both`);
      }
    }
  }
  // Inputs are flags (`-f`), so a word beyond the operands a command takes is a mistake.
  const extra = positional.slice(options.operands ?? 0);
  if (extra.length > 0) problems.push(`unexpected argument(s): ${extra.join(' ')}`);
  return { values, origin, help: given.has(HELP_FLAG.name), problems, positional };
}

/** The (first) value of a flag, if it has a valid one. */
export function first(flags: ParsedFlags, name: string): string | undefined {
  return flags.values.get(name)?.[0];
}

/** Every valid value of a repeatable flag, in command-line order. */
export function all(flags: ParsedFlags, name: string): string[] {
  return flags.values.get(name) ?? [];
}

/** One INJ_ERR_CLI_USAGE error listing every problem. */
export function usageError(problems: readonly string[]): InjectorError {
  return new InjectorError('INJ_ERR_CLI_USAGE', problems.join('; '), {
    details: problems.map((reason) => ({ field: 'argv', reason })),
  });
}

/** Help lines: `  --name VALUE   description (env INJECTOR_X, default y)`. */
export function formatFlagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((spec) => {
    const metavar = spec.metavar ?? (spec.kind === 'enum' ? 'VALUE' : spec.kind.toUpperCase());
    const left = `  --${spec.name} ${metavar}`;
    const extras = spec.env === undefined ? [] : [`env ${spec.env}`];
    if (spec.kind === 'enum') extras.unshift(`one of ${(spec.choices ?? []).join('|')}`);
    if (spec.default !== undefined) extras.push(`default ${spec.default}`);
    return { left, right: `${spec.description ?? ''} (${extras.join(', ')})` };
  });
  const width = Math.max(...rows.map((row) => row.left.length)) + 2;
  return rows.map((row) => row.left.padEnd(width) + row.right).join('\n');
}
