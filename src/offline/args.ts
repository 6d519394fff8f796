/**
 * A small flag parser for the offline commands: `--name value`, `--name=value`, short aliases,
 * repeatable flags and closed value sets. Bad flags are INJ_ERR_CLI_USAGE errors (exit code 2).
 */
import { InjectorError } from '../errors.js';

export interface FlagSpec {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** Boolean flags take no value. */
  boolean?: boolean;
  repeatable?: boolean;
  /** Accepted values, when the set is closed. */
  values?: readonly string[];
}

export type ParsedFlags = Map<string, string[]>;

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const parsed: ParsedFlags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const { spec, inline } = lookup(arg, specs);
    let value: string;
    if (spec.boolean === true) {
      if (inline !== undefined) throw usage(`flag --${spec.name} takes no value`);
      value = 'true';
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw usage(`flag --${spec.name} needs a value`);
      value = next;
      i++;
    }
    if (spec.values !== undefined && !spec.values.includes(value)) {
      throw usage(`flag --${spec.name}: "${value}" is not one of ${spec.values.join(', ')}`);
    }
    const seen = parsed.get(spec.name);
    if (seen !== undefined && spec.repeatable !== true) {
      throw usage(`flag --${spec.name} given more than once`);
    }
    parsed.set(spec.name, [...(seen ?? []), value]);
  }
  return parsed;
}

function lookup(arg: string, specs: readonly FlagSpec[]): { spec: FlagSpec; inline?: string } {
  let name: string | undefined;
  let inline: string | undefined;
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (eq !== -1) inline = arg.slice(eq + 1);
    const spec = specs.find((s) => s.name === name);
    if (spec !== undefined) return inline === undefined ? { spec } : { spec, inline };
  } else if (arg.startsWith('-') && arg.length >= 2 && arg !== '-') {
    const short = arg.slice(1, 2);
    const rest = arg.slice(2);
    const spec = specs.find((s) => s.short === short);
    if (spec !== undefined) {
      if (rest === '') return { spec };
      return { spec, inline: rest.startsWith('=') ? rest.slice(1) : rest };
    }
  }
  throw usage(`unknown argument "${arg}"`);
}

export function first(flags: ParsedFlags, name: string): string | undefined {
  return flags.get(name)?.[0];
}

export function all(flags: ParsedFlags, name: string): string[] {
  return flags.get(name) ?? [];
}

export function usage(message: string): InjectorError {
  return new InjectorError('INJ_ERR_CLI_USAGE', message, {
    details: [{ field: 'argv', reason: message }],
  });
}
