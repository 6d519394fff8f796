/**
 * A small declarative flag parser: every flag has an `INJECTOR_*` environment equivalent, a
 * default, and a validator; parsing collects every problem instead of stopping at the first.
 * Precedence: command-line flag, then environment variable, then default.
 */

export type FlagKind = 'string' | 'port' | 'integer' | 'enum';

export interface FlagSpec {
  /** Long name without dashes, e.g. `tls-cert`. */
  name: string;
  /** Environment variable, e.g. `INJECTOR_TLS_CERT`. */
  env: string;
  kind: FlagKind;
  description: string;
  default?: string;
  /** Allowed values for `enum`. */
  choices?: readonly string[];
  /** Minimum for `integer`. */
  min?: number;
  /** Placeholder shown in help, e.g. `PATH`. */
  metavar?: string;
}

export interface ParsedFlags {
  /** Resolved value per flag name (after env and default); absent when unset and no default. */
  values: Map<string, string>;
  /** Where each value came from, for messages. */
  origin: Map<string, 'flag' | 'env' | 'default'>;
  positional: string[];
  help: boolean;
  problems: string[];
}

function checkValue(spec: FlagSpec, value: string, where: string): string | undefined {
  switch (spec.kind) {
    case 'string':
      return value.length === 0 ? `${where}: must not be empty` : undefined;
    case 'port': {
      const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      return port >= 0 && port <= 65535
        ? undefined
        : `${where}: expected a port number 0-65535, got "${value}"`;
    }
    case 'integer': {
      const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n)) return `${where}: expected an integer, got "${value}"`;
      return spec.min !== undefined && n < spec.min
        ? `${where}: must be at least ${spec.min}, got ${n}`
        : undefined;
    }
    case 'enum':
      return spec.choices?.includes(value)
        ? undefined
        : `${where}: expected one of ${spec.choices?.join('|') ?? ''}, got "${value}"`;
  }
}

/** Parses `--name value`, `--name=value`, `-h`/`--help`; unknown flags are problems. */
export function parseFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  specs: readonly FlagSpec[],
): ParsedFlags {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const fromFlags = new Map<string, string>();
  const positional: string[] = [];
  const problems: string[] = [];
  let help = false;

  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1) problems.push(`unknown flag ${arg}`);
      else positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) {
      problems.push(`unknown flag --${name}`);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !(argv[i + 1] ?? '').startsWith('--')) value = argv[++i];
    if (value === undefined) {
      problems.push(`--${name}: missing value`);
      continue;
    }
    if (fromFlags.has(name)) problems.push(`--${name}: given more than once`);
    fromFlags.set(name, value);
  }

  const values = new Map<string, string>();
  const origin = new Map<string, 'flag' | 'env' | 'default'>();
  for (const spec of specs) {
    const flagValue = fromFlags.get(spec.name);
    const envValue = env[spec.env];
    let value: string | undefined;
    let where: string;
    if (flagValue !== undefined) {
      value = flagValue;
      where = `--${spec.name}`;
      origin.set(spec.name, 'flag');
    } else if (envValue !== undefined && envValue !== '') {
      value = envValue;
      where = spec.env;
      origin.set(spec.name, 'env');
    } else {
      value = spec.default;
      where = `--${spec.name} (default)`;
      if (value !== undefined) origin.set(spec.name, 'default');
    }
    if (value === undefined) continue;
    const problem = checkValue(spec, value, where);
    if (problem) problems.push(problem);
    else values.set(spec.name, value);
  }
  return { values, origin, positional, help, problems };
}

/** Help lines: `  --name VALUE   description (env INJECTOR_X, default y)`. */
export function formatFlagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((spec) => {
    const metavar = spec.metavar ?? (spec.kind === 'enum' ? 'VALUE' : spec.kind.toUpperCase());
    const left = `  --${spec.name} ${metavar}`;
    const extras = [`env ${spec.env}`];
    if (spec.kind === 'enum') extras.unshift(`one of ${(spec.choices ?? []).join('|')}`);
    if (spec.default !== undefined) extras.push(`default ${spec.default}`);
    return { left, right: `${spec.description} (${extras.join(', ')})` };
  });
  const width = Math.max(...rows.map((row) => row.left.length)) + 2;
  return rows.map((row) => row.left.padEnd(width) + row.right).join('\n');
}
