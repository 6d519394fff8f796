/**
 * istioctl-style `--set` flags (`values.a.b=v`, `meshConfig.a.b=v`, `components.cni.enabled=true`)
 * turned into values and mesh overlays, and the path setter the IstioOperator overlay shares.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import type { ConfigIssue } from './types.js';

/** Splits a `--set` path on dots, honouring `\.` escapes (annotation keys, KEY.proxyConfig among them, contain dots). */
function splitSetPath(path: string): string[] {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i += 1) {
    const ch = path[i];
    if (ch === '\\' && path[i + 1] === '.') {
      current += '.';
      i += 1;
    } else if (ch === '.') {
      segments.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  segments.push(current);
  return segments;
}

/** istioctl-style scalar typing: booleans, integers and `null`; anything else stays a string. */
function coerceSetValue(text: string): JsonValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (/^-?(0|[1-9]\d*)$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  return text;
}

/** Sets a value at `segments`, where a segment `name[3]` addresses a list element. */
export function setPathValue(
  root: JsonObject,
  segments: readonly string[],
  value: JsonValue,
): void {
  let container: JsonObject | JsonValue[] = root;
  segments.forEach((raw, index) => {
    const match = /^(.*)\[(\d+)\]$/.exec(raw);
    const keys: (string | number)[] = match ? [match[1] ?? '', Number(match[2])] : [raw];
    keys.forEach((key, keyIndex) => {
      const last = index === segments.length - 1 && keyIndex === keys.length - 1;
      const nextIsIndex = keyIndex < keys.length - 1;
      const get = (): JsonValue | undefined =>
        Array.isArray(container) ? container[key as number] : container[key as string];
      const put = (v: JsonValue): void => {
        if (Array.isArray(container)) container[key as number] = v;
        else container[key as string] = v;
      };
      if (last) {
        put(value);
        return;
      }
      let next = get();
      if (nextIsIndex ? !Array.isArray(next) : !isJsonObject(next)) {
        next = nextIsIndex ? [] : {};
        put(next);
      }
      container = next as JsonObject | JsonValue[];
    });
  });
}

export interface SetFlagOverlays {
  values: JsonObject;
  mesh: JsonObject;
  issues: ConfigIssue[];
}

/**
 * Turns istioctl-style `--set` flags into a values overlay and a mesh overlay.
 * `values.a.b=v` -> values; `meshConfig.a.b=v` -> mesh; `components.cni.enabled=true` ->
 * values `pilot.cni.enabled`; `values.cni.provider=x` -> values `pilot.cni.provider`;
 * `revision`, `hub`, `tag` -> values `revision`, `global.hub`, `global.tag`. A leading `spec.` is
 * accepted. Values are typed like istioctl: `true`/`false`, integers, `null`; else strings
 * (a comma list such as `172.30.0.0/16,172.20.0.0/16` stays one string).
 */
export function applySetFlags(flags: readonly string[]): SetFlagOverlays {
  const values: JsonObject = {};
  const mesh: JsonObject = {};
  const issues: ConfigIssue[] = [];
  flags.forEach((flag, index) => {
    const at = `set[${index}]`;
    const eq = flag.indexOf('=');
    if (eq <= 0) {
      issues.push({ path: at, message: `expected path=value, got ${JSON.stringify(flag)}` });
      return;
    }
    let segments = splitSetPath(flag.slice(0, eq).trim());
    if (segments[0] === 'spec') segments = segments.slice(1);
    const value = coerceSetValue(flag.slice(eq + 1));
    const [head, ...rest] = segments;
    if (segments.some((s) => s === '')) {
      issues.push({
        path: at,
        message: `empty segment in path ${JSON.stringify(flag.slice(0, eq))}`,
      });
      return;
    }
    if (head === 'values' && rest.length > 0) {
      if (rest[0] === 'cni' && rest[1] === 'provider' && rest.length === 2) {
        setPathValue(values, ['pilot', 'cni', 'provider'], value);
      } else {
        setPathValue(values, rest, value);
      }
    } else if (head === 'meshConfig' && rest.length > 0) {
      setPathValue(mesh, rest, value);
    } else if (head === 'components') {
      if (rest.join('.') === 'cni.enabled')
        setPathValue(values, ['pilot', 'cni', 'enabled'], value);
      // Other components concern the installation, not injection: accepted and ignored.
    } else if (head === 'revision' && rest.length === 0) {
      setPathValue(values, ['revision'], value);
    } else if ((head === 'hub' || head === 'tag') && rest.length === 0) {
      setPathValue(values, ['global', head], value);
    } else if (head === 'profile' && rest.length === 0) {
      // The profile selects installed components; it does not change injection.
    } else {
      issues.push({
        path: at,
        message: `unsupported path ${JSON.stringify(flag.slice(0, eq))}: use values.*, meshConfig.*, components.cni.enabled, revision, hub or tag`,
      });
    }
  });
  return { values, mesh, issues };
}
