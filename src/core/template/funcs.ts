/**
 * The functions an injection template can call: Go text/template's builtins, the sprig functions
 * Istio's chart templates use (sprig.TxtFuncMap, https://masterminds.github.io/sprig/), and istiod's
 * own InjectionFuncmap, which is registered after sprig and so wins on a shared name (`indent`,
 * `toYaml`, `contains`). Semantics follow istio/pkg/kube/inject/template.go.
 */
import { Document, Scalar, visit } from 'yaml';
import { boundedCache } from '../bounded-cache.js';
import { goPlainValue } from '../yaml-fast.js';
import { appendMultusNetwork } from '../render/multus.js';
import { excludeInboundPort } from '../render/iptables.js';
import type { FuncMap, GoFunc, ParamKind } from './exec.js';
import { goQuote, sprint, sprintf, sprintln } from './fmt.js';
import {
  formatValue,
  fromJsonValue,
  goTypeName,
  GoEnum,
  GoFloat,
  GoStruct,
  isGoMap,
  isTrue,
  StrMap,
  toJsonValue,
  type GoValue,
} from './value.js';

function fn(
  params: readonly ParamKind[],
  call: (a: GoValue[]) => GoValue,
  variadic?: ParamKind,
): GoFunc {
  return variadic === undefined ? { params, call } : { params, call, variadic };
}

const str = (v: GoValue): string => v as string;
const int = (v: GoValue): number => v as number;

// --- comparison (text/template's eq/ne/lt/le/gt/ge) -------------------------------------------

type BasicKind = 'invalid' | 'bool' | 'int' | 'float' | 'string' | 'other';

function basicKind(v: GoValue): BasicKind {
  if (v === undefined) return 'invalid';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || v instanceof GoEnum) return 'int';
  if (v instanceof GoFloat) return 'float';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function num(v: GoValue): number {
  return v instanceof GoFloat ? v.value : v instanceof GoEnum ? v.number : (v as number);
}

function isNilish(v: GoValue): boolean {
  return (
    v === null ||
    v === undefined ||
    (v instanceof GoStruct && v.isNil) ||
    (v instanceof StrMap && v.isNil)
  );
}

function eq(a: GoValue, ...rest: GoValue[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of rest) {
    const k2 = basicKind(b);
    let truth: boolean;
    if (k1 !== k2) {
      if (k1 !== 'invalid' && k2 !== 'invalid') {
        throw new Error(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
      }
      truth = false;
    } else if (k1 === 'other' || k1 === 'invalid') {
      if (isNilish(a) || isNilish(b)) truth = isNilish(a) === isNilish(b);
      else if (Array.isArray(a) || isGoMap(a) || a instanceof StrMap) {
        throw new Error(`non-comparable type ${formatValue(a)}: ${goTypeName(a)}`);
      } else truth = a === b;
    } else if (k1 === 'int' || k1 === 'float') truth = num(a) === num(b);
    else truth = a === b;
    if (truth) return true;
  }
  return false;
}

function lt(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (
    k1 === 'bool' ||
    k1 === 'other' ||
    k1 === 'invalid' ||
    k2 === 'bool' ||
    k2 === 'other' ||
    k2 === 'invalid'
  ) {
    throw new Error('invalid type for comparison');
  }
  if (k1 !== k2)
    throw new Error(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  if (k1 === 'string') return (a as string) < (b as string);
  return num(a) < num(b);
}

// --- builtins ----------------------------------------------------------------------------------

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

function length(v: GoValue): number {
  if (v === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  if (v === null) throw new Error('len of nil pointer');
  if (typeof v === 'string') return byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof StrMap) return v.size;
  if (isGoMap(v)) return Object.keys(v).length;
  throw new Error(`len of type ${goTypeName(v)}`);
}

function index(item: GoValue, ...keys: GoValue[]): GoValue {
  let cur = item;
  if (cur === undefined) throw new Error('index of untyped nil');
  for (const k of keys) cur = indexOnce(cur, k);
  return cur;
}

/** One step of Go's index: a list or string by number, a map by string key. */
function indexOnce(cur: GoValue, k: GoValue): GoValue {
  if (cur === null || cur === undefined) throw new Error('index of nil pointer');
  if (Array.isArray(cur) || typeof cur === 'string') return indexSequence(cur, k);
  if (cur instanceof StrMap) {
    if (typeof k !== 'string') throw new Error(`value has type ${goTypeName(k)}; should be string`);
    return cur.get(k) ?? '';
  }
  if (isGoMap(cur)) {
    if (typeof k !== 'string') {
      if (k === undefined || k === null) throw new Error('value is nil; should be of type string');
      throw new Error(`value has type ${goTypeName(k)}; should be string`);
    }
    return Object.hasOwn(cur, k) ? (cur[k] ?? null) : null;
  }
  throw new Error(`can't index item of type ${goTypeName(cur)}`);
}

/** A list's element or a string's byte. */
function indexSequence(cur: readonly GoValue[] | string, k: GoValue): GoValue {
  if (typeof k !== 'number') throw new Error(`cannot index slice/array with type ${goTypeName(k)}`);
  const len = typeof cur === 'string' ? byteLength(cur) : cur.length;
  if (k < 0 || k >= len) throw new Error(`index out of range: ${k}`);
  return typeof cur === 'string' ? (new TextEncoder().encode(cur)[k] ?? 0) : (cur[k] ?? null);
}

function slice(item: GoValue, ...idx: GoValue[]): GoValue {
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (idx.length > 3) throw new Error(`too many slice indexes: ${idx.length}`);
  const len = typeof item === 'string' ? item.length : Array.isArray(item) ? item.length : -1;
  if (len < 0) throw new Error(`can't slice item of type ${goTypeName(item)}`);
  if (typeof item === 'string' && idx.length === 3)
    throw new Error('cannot 3-index slice a string');
  const n = idx.map((i) => {
    if (typeof i !== 'number')
      throw new Error(`cannot index slice/array with type ${goTypeName(i)}`);
    return i;
  });
  const from = n[0] ?? 0;
  const to = n[1] ?? len;
  if (from < 0 || to > len || from > to)
    throw new Error(`index out of range: ${from > to ? from : to}`);
  return typeof item === 'string'
    ? item.slice(from, to)
    : (item as readonly GoValue[]).slice(from, to);
}

function evalArgsString(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === undefined ? null : a)));
}

function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) =>
    c === '<'
      ? '&lt;'
      : c === '>'
        ? '&gt;'
        : c === '&'
          ? '&amp;'
          : c === "'"
            ? '&#39;'
            : c === '"'
              ? '&#34;'
              : '\uFFFD',
  );
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === '<' || ch === '>' || ch === '&' || ch === '=')
      out += `\\u00${c.toString(16).toUpperCase()}`;
    else if (c < 0x20) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

function urlQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// --- sprig -------------------------------------------------------------------------------------

/** sprig's `empty`: the zero value of its kind (a struct is never empty). */
function empty(v: GoValue): boolean {
  if (v instanceof GoStruct) return v.isNil;
  return !isTrue(v);
}

/** sprig's strval: strings as they are, Stringers via String(), the rest as %v. */
function strval(v: GoValue): string {
  if (typeof v === 'string') return v;
  return formatValue(v === undefined ? null : v);
}

function strslice(v: GoValue): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) {
    return (v as readonly GoValue[]).filter((e) => e !== null && e !== undefined).map(strval);
  }
  return [strval(v)];
}

function sprigIndent(spaces: number, s: string): string {
  const p = ' '.repeat(Math.max(0, spaces));
  return p + s.replaceAll('\n', `\n${p}`);
}

function trimCutset(s: string, cutset: string): string {
  const set = new Set([...cutset]);
  const chars = [...s];
  let a = 0;
  let b = chars.length;
  while (a < b && set.has(chars[a] ?? '')) a++;
  while (b > a && set.has(chars[b - 1] ?? '')) b--;
  return chars.slice(a, b).join('');
}

// --- JSON and YAML as Go writes them -----------------------------------------------------------

const JSON_HTML = /[<>&\u2028\u2029]/g;

/** encoding/json.Marshal: map keys sorted, struct fields in order, `<>&` and U+2028/9 escaped. */
export function goJsonMarshal(v: GoValue): string {
  return JSON.stringify(toJsonValue(v)).replace(
    JSON_HTML,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((e) => sortKeys(e));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * sigs.k8s.io/yaml.Marshal: JSON first, then block YAML with sorted keys. The YAML depends on
 * the JSON text alone, and the templates mostly print configuration values (resources, security
 * contexts) that are the same for every pod: remembered by JSON text, bounded.
 */
/**
 * Helm's toYaml (sigs.k8s.io/yaml.Marshal over go-yaml v2). go-yaml v2 quotes a string that its
 * YAML 1.1 resolver would read as something else (`yes`, `on`, `0755`, `1_000`): the rendered
 * text is read back that way (src/core/pipeline/template-set.ts), so such strings are quoted
 * here too; the `yaml` package alone quotes only what YAML 1.2 would resolve.
 */
function toYaml(v: GoValue): string {
  // A frozen map or list (the configuration's values, omitNil's output of them) never changes:
  // its text is remembered by identity, without writing its JSON first.
  if (!isFrozenCollection(v)) return toYamlText(v);
  let text = toYamlByIdentity.get(v);
  if (text === undefined) {
    text = toYamlText(v);
    toYamlByIdentity.set(v, text);
  }
  return text;
}

const toYamlByIdentity = new WeakMap<object, string>();

/** A frozen plain map or list (values from JSON, omitNil's results): immutable, shareable. */
function isFrozenCollection(
  v: GoValue,
): v is readonly GoValue[] | { readonly [key: string]: GoValue } {
  return (Array.isArray(v) || isGoMap(v)) && Object.isFrozen(v);
}

function toYamlText(v: GoValue): string {
  const json = JSON.stringify(toJsonValue(v) ?? null);
  return toYamlByJson.get(json, () => {
    const options = { indentSeq: false, lineWidth: 0, sortMapEntries: true } as const;
    const doc = new Document(sortKeys(JSON.parse(json) as unknown), options);
    visit(doc, {
      Scalar(_, node) {
        if (typeof node.value === 'string' && typeof goPlainValue(node.value) !== 'string')
          node.type = Scalar.QUOTE_DOUBLE;
      },
    });
    return doc.toString(options);
  });
}

const toYamlByJson = boundedCache<string>(256, { maxKeyChars: 1024 * 1024 });

// --- Istio's own -------------------------------------------------------------------------------

function strmapEntries(m: GoValue): Readonly<Record<string, string>> {
  return m instanceof StrMap ? m.entries : {};
}

function newStrMap(entries: Record<string, string>): StrMap {
  return new StrMap(Object.freeze(entries));
}

function nullRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function containerPorts(containers: GoValue, include: (c: GoStruct) => boolean): string {
  const parts: string[] = [];
  for (const c of (containers ?? []) as readonly GoValue[]) {
    if (!(c instanceof GoStruct) || !include(c)) continue;
    for (const p of (c.fields['Ports'] ?? []) as readonly GoValue[]) {
      if (!(p instanceof GoStruct)) continue;
      const proto = p.fields['Protocol'];
      if (proto === 'UDP' || proto === 'SCTP') continue;
      parts.push(formatValue(p.fields['ContainerPort'] ?? 0));
    }
  }
  return parts.join(',');
}

/** time.Duration.String() of a protobuf Duration (seconds + nanos). */
export function goDurationString(totalNanos: bigint): string {
  if (totalNanos === 0n) return '0s';
  const neg = totalNanos < 0n;
  let u = neg ? -totalNanos : totalNanos;
  let out: string;
  if (u < 1000000000n) {
    // Sub-second: ns, µs or ms with a fraction.
    const [unit, div] = u < 1000n ? ['ns', 1n] : u < 1000000n ? ['µs', 1000n] : ['ms', 1000000n];
    out = fraction(u, div) + unit;
  } else {
    const h = u / 3600000000000n;
    u -= h * 3600000000000n;
    const m = u / 60000000000n;
    u -= m * 60000000000n;
    out = `${h > 0n ? `${h}h` : ''}${h > 0n || m > 0n ? `${m}m` : ''}${fraction(u, 1000000000n)}s`;
  }
  return neg ? `-${out}` : out;
}

function fraction(v: bigint, div: bigint): string {
  const whole = v / div;
  const rest = v % div;
  if (rest === 0n) return String(whole);
  const digits = String(div).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

/**
 * `omitNil`: nils dropped from maps and lists, recursively. The result is frozen; for a frozen argument (configuration values) it is remembered by
 * identity, so the same values give the same object (and toYaml's remembered text) every pod.
 */
function omitNil(v: GoValue): GoValue {
  if (!isFrozenCollection(v)) return omitNilOnce(v);
  const known = omitNilByIdentity.get(v);
  if (known !== undefined) return known;
  const out = omitNilOnce(v);
  omitNilByIdentity.set(v, out);
  return out;
}

const omitNilByIdentity = new WeakMap<object, GoValue>();

function omitNilOnce(v: GoValue): GoValue {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) {
    const out = (v as readonly GoValue[]).map(omitNil).filter((e) => e !== null);
    return out.length === 0 ? null : Object.freeze(out);
  }
  if (isGoMap(v)) {
    const out = nullRecord<GoValue>();
    for (const [k, e] of Object.entries(v)) {
      const f = omitNil(e);
      if (f !== null) out[k] = f;
    }
    return Object.keys(out).length === 0 ? null : Object.freeze(out);
  }
  return v;
}

function mergeMaps(maps: GoValue[]): GoValue {
  if (maps.length === 0) return new StrMap({}, true);
  const out: Record<string, string> = {};
  for (const m of maps) Object.assign(out, strmapEntries(m));
  return newStrMap(out);
}

function parseImageTagDigest(image: string): [string, string] {
  let img = image;
  let digest = '';
  const at = img.indexOf('@');
  if (at >= 0) {
    digest = img.slice(at + 1);
    img = img.slice(0, at);
  }
  const slash = img.lastIndexOf('/');
  const colon = img.lastIndexOf(':');
  return [colon > slash ? img.slice(colon + 1) : '', digest];
}

/** Whether an OpenTelemetry provider of the mesh asks for the semantic-conventions attributes. */
function semanticConventionsEnabled(mc: GoValue): boolean {
  const mesh = (mc instanceof GoStruct ? mc.json : undefined) as
    { extensionProviders?: unknown } | undefined;
  const providers = Array.isArray(mesh?.extensionProviders)
    ? (mesh.extensionProviders as unknown[])
    : [];
  return providers.some((p) => {
    const otel = (p as { opentelemetry?: { serviceAttributeEnrichment?: unknown } } | null)
      ?.opentelemetry;
    return otel?.serviceAttributeEnrichment === 'OTEL_SEMANTIC_CONVENTIONS';
  });
}

const entryOf = (m: Readonly<Record<string, string>>, k: string): string =>
  Object.hasOwn(m, k) ? (m[k] ?? '') : '';

/** service.version: the annotation, else the version label, else the only container's image tag. */
function serviceVersion(
  a: Readonly<Record<string, string>>,
  l: Readonly<Record<string, string>>,
  cs: readonly GoStruct[],
): string {
  if (entryOf(a, 'resource.opentelemetry.io/service.version') !== '') {
    return entryOf(a, 'resource.opentelemetry.io/service.version');
  }
  if (entryOf(l, 'app.kubernetes.io/version') !== '')
    return entryOf(l, 'app.kubernetes.io/version');
  if (cs.length !== 1) return '';
  const [tag, digest] = parseImageTagDigest(formatValue(cs[0]?.fields['Image'] ?? ''));
  if (tag !== '' && digest !== '') return `${tag}@${digest}`;
  return digest !== '' ? digest : tag;
}

function otelResourceAttributes(
  mc: GoValue,
  ann: GoValue,
  labels: GoValue,
  ns: string,
  containers: GoValue,
): string {
  if (!semanticConventionsEnabled(mc)) return '';
  const a = strmapEntries(ann);
  const l = strmapEntries(labels);
  const cs = ((containers ?? []) as readonly GoValue[]).filter(
    (c): c is GoStruct => c instanceof GoStruct,
  );
  const attrs: string[] = [];
  if (entryOf(a, 'resource.opentelemetry.io/service.namespace') !== '') {
    attrs.push(`service.namespace=${entryOf(a, 'resource.opentelemetry.io/service.namespace')}`);
  } else if (ns !== '') attrs.push(`service.namespace=${ns}`);
  const version = serviceVersion(a, l, cs);
  if (version !== '') attrs.push(`service.version=${version}`);
  if (entryOf(a, 'resource.opentelemetry.io/service.instance.id') !== '') {
    attrs.push(
      `service.instance.id=${entryOf(a, 'resource.opentelemetry.io/service.instance.id')}`,
    );
  } else if (cs.length > 0) {
    attrs.push(`service.instance.id=${ns}.$(POD_NAME).${formatValue(cs[0]?.fields['Name'] ?? '')}`);
  }
  return attrs.join(',');
}

export interface FuncOptions {
  /** What `env KEY DEFAULT` reads: istiod's process environment, given by the caller. */
  env?: ReadonlyMap<string, string>;
}

/** The complete function map of an injection template. */
export function injectionFuncs(options: FuncOptions = {}): FuncMap {
  const env = options.env ?? new Map<string, string>();
  const V: ParamKind = 'value';
  const A: ParamKind = 'any';
  const S: ParamKind = 'string';
  const I: ParamKind = 'int';
  const SM: ParamKind = 'strmap';

  const table: Record<string, GoFunc> = {
    // text/template builtins. `and`/`or` are evaluated lazily by the evaluator.
    and: fn([V], () => null, V),
    or: fn([V], () => null, V),
    not: fn([V], ([a]) => !isTrue(a)),
    len: fn([V], ([a]) => length(a)),
    index: fn([V], ([a, ...k]) => index(a, ...k), V),
    slice: fn([V], ([a, ...k]) => slice(a, ...k), V),
    print: fn([], (a) => sprint(a), A),
    println: fn([], (a) => sprintln(a), A),
    printf: fn([S], ([f, ...a]) => sprintf(str(f), a), A),
    eq: fn([V], ([a, ...b]) => eq(a, ...b), V),
    ne: fn([V, V], ([a, b]) => !eq(a, b)),
    lt: fn([V, V], ([a, b]) => lt(a, b)),
    le: fn([V, V], ([a, b]) => lt(a, b) || eq(a, b)),
    gt: fn([V, V], ([a, b]) => !lt(a, b) && !eq(a, b)),
    ge: fn([V, V], ([a, b]) => !lt(a, b)),
    html: fn([], (a) => htmlEscape(evalArgsString(a)), A),
    js: fn([], (a) => jsEscape(evalArgsString(a)), A),
    urlquery: fn([], (a) => urlQueryEscape(evalArgsString(a)), A),
    call: fn(
      [V],
      ([f]) => {
        throw new Error(
          `non-function ${formatValue(f === undefined ? null : f)} of type ${goTypeName(f)}`,
        );
      },
      V,
    ),

    // sprig, as far as the chart templates use it (plus its closest companions).
    default: fn(
      [A],
      ([d, ...given]) => (given.length === 0 || empty(given[0]) ? d : (given[0] ?? null)),
      A,
    ),
    empty: fn([A], ([a]) => empty(a)),
    coalesce: fn([], (a) => a.find((e) => !empty(e)) ?? null, A),
    quote: fn(
      [],
      (a) =>
        a
          .filter((e) => e !== null && e !== undefined)
          .map((e) => goQuote(strval(e)))
          .join(' '),
      A,
    ),
    squote: fn(
      [],
      (a) =>
        a
          .filter((e) => e !== null && e !== undefined)
          .map((e) => `'${strval(e)}'`)
          .join(' '),
      A,
    ),
    list: fn([], (a) => Object.freeze([...a]), A),
    append: fn([A, A], ([l, v]) => {
      // sprig reads the kind of a nil list's type and panics; the template reports the panic.
      if (l === null) {
        throw new Error('runtime error: invalid memory address or nil pointer dereference');
      }
      if (!Array.isArray(l)) throw new Error(`Cannot push on type ${goTypeName(l)}`);
      return Object.freeze([...(l as readonly GoValue[]), v]);
    }),
    join: fn([S, A], ([sep, v]) => strslice(v).join(str(sep))),
    nindent: fn([I, S], ([n, s]) => `\n${sprigIndent(int(n), str(s))}`),
    trunc: fn([I, S], ([c, s]) => {
      const n = int(c);
      const t = str(s);
      if (n < 0 && t.length + n > 0) return t.slice(t.length + n);
      if (n >= 0 && t.length > n) return t.slice(0, n);
      return t;
    }),
    trimAll: fn([S, S], ([a, b]) => trimCutset(str(b), str(a))),
    trimSuffix: fn([S, S], ([a, b]) =>
      str(b).endsWith(str(a)) ? str(b).slice(0, str(b).length - str(a).length) : str(b),
    ),
    trimPrefix: fn([S, S], ([a, b]) =>
      str(b).startsWith(str(a)) ? str(b).slice(str(a).length) : str(b),
    ),
    trim: fn([S], ([a]) => str(a).replace(/^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/g, '')),
    hasPrefix: fn([S, S], ([a, b]) => str(b).startsWith(str(a))),
    hasSuffix: fn([S, S], ([a, b]) => str(b).endsWith(str(a))),
    upper: fn([S], ([a]) => str(a).toUpperCase()),
    lower: fn([S], ([a]) => str(a).toLowerCase()),
    toString: fn([A], ([a]) => strval(a)),
    toJson: fn([A], ([a]) => goJsonMarshal(a)),
    dict: fn(
      [],
      (a) => {
        const out = nullRecord<GoValue>();
        for (let i = 0; i < a.length; i += 2)
          out[strval(a[i])] = i + 1 < a.length ? (a[i + 1] ?? null) : '';
        return Object.freeze(out);
      },
      A,
    ),

    // istiod's InjectionFuncmap (istiod registers it after sprig: its `indent`, `toYaml` and
    // `contains` are the ones a template calls).
    formatDuration: fn(['struct:*durationpb.Duration'], ([d]) => {
      if (!(d instanceof GoStruct) || d.isNil) return '0s';
      const s = BigInt(Math.trunc(num(d.fields['Seconds'] ?? 0)));
      const n = BigInt(Math.trunc(num(d.fields['Nanos'] ?? 0)));
      return goDurationString(s * 1000000000n + n);
    }),
    isset: fn([SM, S], ([mp, k]) => Object.hasOwn(strmapEntries(mp), str(k))),
    excludeInboundPort: fn([A, S], ([p, ex]) => excludeInboundPort(sprint([p ?? null]), str(ex))),
    includeInboundPorts: fn(['structs:v1.Container'], ([c]) => containerPorts(c, () => true)),
    applicationPorts: fn(['structs:v1.Container'], ([c]) =>
      containerPorts(c, (x) => x.fields['Name'] !== 'istio-proxy'),
    ),
    kubevirtInterfaces: fn([S], ([s]) => s ?? ''),
    excludeInterfaces: fn([S], ([s]) => s ?? ''),
    annotation: fn(['struct:v1.ObjectMeta', S, A], ([meta, name, def]) => {
      const ann = meta instanceof GoStruct ? strmapEntries(meta.fields['Annotations']) : {};
      return Object.hasOwn(ann, str(name)) ? (ann[str(name)] ?? '') : sprint([def ?? null]);
    }),
    valueOrDefault: fn([A, A], ([v, d]) => (v === '' || v === null || v === undefined ? d : v)),
    toJSON: fn([SM], ([mp]) => (mp instanceof StrMap && !mp.isNil ? goJsonMarshal(mp) : '{}')),
    fromJSON: fn([S], ([j]) => {
      try {
        return fromJsonValue(JSON.parse(str(j)));
      } catch {
        return '{}';
      }
    }),
    structToJSON: fn([A], ([v]) => (v === null || v === undefined ? '{}' : goJsonMarshal(v))),
    protoToJSON: fn(['struct:*v1alpha1.ProxyConfig'], ([v]) => {
      if (!(v instanceof GoStruct) || v.isNil) return '{}';
      const clean = v.type.methods?.['__protoJSON'];
      const json = clean?.(v);
      return typeof json === 'string' ? json : '{}';
    }),
    toYaml: fn([A], ([v]) => toYaml(v)),
    indent: fn([I, S], ([n, s]) =>
      str(s)
        .split('\n')
        .map((l, i) => (i > 0 ? ' '.repeat(Math.max(0, int(n))) + l : l))
        .join('\n'),
    ),
    directory: fn([S], ([p]) => str(p).slice(0, str(p).lastIndexOf('/') + 1)),
    contains: fn([S, S], ([needle, hay]) => str(hay).includes(str(needle))),
    toLower: fn([S], ([s]) => str(s).toLowerCase()),
    appendMultusNetwork: fn([S, S], ([a, b]) => appendMultusNetwork(str(a), str(b))),
    env: fn([S, S], ([k, d]) => {
      const v = env.get(str(k)) ?? '';
      return v === '' ? str(d) : v;
    }),
    omit: fn(
      [SM],
      ([mp, ...keys]) => {
        const drop = new Set(keys.map(str));
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(strmapEntries(mp))) if (!drop.has(k)) out[k] = v;
        return newStrMap(out);
      },
      S,
    ),
    strdict: fn(
      [],
      (a) => {
        const out: Record<string, string> = {};
        for (let i = 0; i < a.length; i += 2)
          out[str(a[i])] = i + 1 < a.length ? str(a[i + 1]) : '';
        return newStrMap(out);
      },
      S,
    ),
    mergeMaps: fn([], (a) => mergeMaps(a), SM),
    toJsonMap: fn(
      [],
      (a) => {
        const merged = mergeMaps(a);
        return merged instanceof StrMap && !merged.isNil ? goJsonMarshal(merged) : 'null';
      },
      SM,
    ),
    omitNil: fn([A], ([v]) => omitNil(v)),
    otelResourceAttributes: fn(
      ['struct:*v1alpha1.MeshConfig', SM, SM, S, 'structs:v1.Container'],
      ([mc, a, l, ns, c]) => otelResourceAttributes(mc, a, l, str(ns), c),
    ),
  };
  return new Map(Object.entries(table));
}
