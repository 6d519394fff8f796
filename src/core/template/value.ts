/**
 * How Go values look to the template engine. Go's text/template works on reflect.Values, so the
 * engine needs the distinctions Go makes and JSON does not:
 *
 * - `undefined` is Go's invalid (zero) reflect.Value: a missing map key, a missing field of a nil
 *   chain. It prints as `<no value>` and is false.
 * - `null` is a nil interface, pointer, map or slice without a static type worth keeping.
 * - a JS `number` is a Go `int`; a {@link GoFloat} is a `float64` (numbers decoded from JSON, such
 *   as everything in `.Values`, are float64 in Go: `eq .Values.x 1` is an error there too).
 * - a plain object is a `map[string]any`; a {@link StrMap} is a `map[string]string`, whose missing
 *   keys `index` turns into `""` rather than `<no value>`.
 * - a {@link GoStruct} is a struct (or a pointer to one) with Go field names, methods, and the
 *   JSON form its encoders write.
 * - a {@link GoEnum} is a protobuf enum: an int32 that prints its name through `String()`.
 */

export class GoFloat {
  constructor(readonly value: number) {}
}

export class StrMap {
  readonly size: number;
  /** `nil` is kept apart from an empty map only for printing; both read as empty. */
  constructor(
    readonly entries: Readonly<Record<string, string>>,
    readonly isNil = false,
  ) {
    this.size = Object.keys(entries).length;
  }
  get(key: string): string | undefined {
    return Object.hasOwn(this.entries, key) ? this.entries[key] : undefined;
  }
}

export type GoMethod = (self: GoStruct) => GoValue;

export interface GoStructType {
  /** Go's type name as it appears in errors, e.g. `v1.Container`, `*v1alpha1.ProxyConfig`. */
  readonly name: string;
  /** Methods by name (protobuf getters, `String`), called with no arguments. */
  readonly methods?: Readonly<Record<string, GoMethod>>;
}

export class GoStruct {
  private jsonForm: unknown;
  private jsonThunk: (() => unknown) | undefined;
  constructor(
    readonly type: GoStructType,
    /** Field values by Go field name (null prototype). */
    readonly fields: Readonly<Record<string, GoValue>>,
    /**
     * The form encoding/json (or protojson) writes for this value, or a function computing it
     * on first use; undefined: built from the fields.
     */
    json?: unknown,
    /** A nil pointer of this struct type: fields are not readable, methods still run. */
    readonly isNil = false,
  ) {
    if (typeof json === 'function') this.jsonThunk = json as () => unknown;
    else this.jsonForm = json;
  }

  get json(): unknown {
    if (this.jsonThunk !== undefined) {
      this.jsonForm = this.jsonThunk();
      this.jsonThunk = undefined;
    }
    return this.jsonForm;
  }
}

export class GoEnum {
  constructor(
    readonly name: string,
    readonly number: number,
  ) {}
}

export type GoValue =
  | undefined
  | null
  | string
  | number
  | boolean
  | GoFloat
  | StrMap
  | GoStruct
  | GoEnum
  | readonly GoValue[]
  | { readonly [key: string]: GoValue };

export function isGoMap(v: GoValue): v is { readonly [key: string]: GoValue } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof GoFloat) &&
    !(v instanceof StrMap) &&
    !(v instanceof GoStruct) &&
    !(v instanceof GoEnum)
  );
}

/** Go's type name of a value, as text/template and fmt print it in errors and `%!verb(type=...)`. */
export function goTypeName(v: GoValue): string {
  if (v === undefined) return '<nil>';
  if (v === null) return 'interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoFloat) return 'float64';
  if (v instanceof StrMap) return 'map[string]string';
  if (v instanceof GoStruct) return v.type.name;
  if (v instanceof GoEnum) return 'v1alpha1.ProxyConfig_InboundInterceptionMode';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** Go's truth (text/template `isTrue`): the zero value of its type is false, anything else true. */
export function isTrue(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (v instanceof GoFloat) return v.value !== 0;
  if (v instanceof StrMap) return v.size > 0;
  if (v instanceof GoStruct) return !v.isNil;
  if (v instanceof GoEnum) return v.number !== 0;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

/** strconv.FormatFloat(f, 'g', -1, 64), which fmt's %v uses for a float64. */
export function formatFloatShortest(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  // Between 1e-4 and 1e6 both Go and JavaScript write the shortest digits without an exponent.
  const abs = Math.abs(f);
  if (abs >= 1e-4 && abs < 1e6) return String(f);
  const [mant = '', expText = '0'] = f.toExponential().split('e');
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  // Go's shortest 'g' switches to the exponent form below 1e-4 and from 1e6 (precision 6).
  if (exp < -4 || exp >= 6) return expForm(neg, digits, exp);
  let out: string;
  if (exp < 0) out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  else if (digits.length <= exp + 1) out = digits + '0'.repeat(exp + 1 - digits.length);
  else out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return neg ? `-${out}` : out;
}

function expForm(neg: boolean, digits: string, exp: number): string {
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${neg ? '-' : ''}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
}

/** fmt's `%v` of a value (fmt.Sprint of one operand). `top`: a pointer to a struct prints `&{...}`. */
export function formatValue(v: GoValue, top = true): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof GoFloat) return formatFloatShortest(v.value);
  if (v instanceof GoEnum) return v.name;
  if (v instanceof StrMap) {
    const keys = Object.keys(v.entries).sort();
    return `map[${keys.map((k) => `${k}:${v.entries[k]}`).join(' ')}]`;
  }
  if (v instanceof GoStruct) {
    if (v.isNil) return '<nil>';
    const inner = Object.values(v.fields)
      .map((f) => formatValue(f === undefined ? null : f, false))
      .join(' ');
    return top && v.type.name.startsWith('*') ? `&{${inner}}` : `{${inner}}`;
  }
  if (Array.isArray(v)) {
    return `[${(v as readonly GoValue[]).map((e) => formatValue(e === undefined ? null : e, false)).join(' ')}]`;
  }
  const m = v as { readonly [key: string]: GoValue };
  const keys = Object.keys(m).sort();
  return `map[${keys.map((k) => `${k}:${formatValue(m[k] === undefined ? null : m[k], false)}`).join(' ')}]`;
}

/** The JSON value encoding/json writes for a Go value (struct JSON forms are kept as built). */
export function toJsonValue(v: GoValue): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object') return v;
  if (v instanceof GoFloat) return v.value;
  if (v instanceof GoEnum) return v.number;
  if (v instanceof StrMap) return v.isNil ? null : sortedRecord(v.entries, (e) => e);
  if (v instanceof GoStruct) {
    if (v.isNil) return null;
    if (v.json !== undefined) return v.json;
    const out: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(v.fields)) out[k] = toJsonValue(f);
    return out;
  }
  if (Array.isArray(v)) return (v as readonly GoValue[]).map((e) => toJsonValue(e));
  // encoding/json writes map keys sorted; struct fields keep their order (see GoStruct.json).
  return sortedRecord(v as { readonly [key: string]: GoValue }, toJsonValue);
}

function sortedRecord<T>(
  m: Readonly<Record<string, T>>,
  f: (v: T) => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(m).sort()) out[k] = f(m[k] as T);
  return out;
}

/** A decoded JSON value as Go's encoding/json gives it to `any`: numbers become float64. */
export function fromJsonValue(v: unknown): GoValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return new GoFloat(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return Object.freeze(v.map((e) => fromJsonValue(e)));
  const out: Record<string, GoValue> = Object.create(null) as Record<string, GoValue>;
  for (const [k, e] of Object.entries(v as Record<string, unknown>)) out[k] = fromJsonValue(e);
  return Object.freeze(out);
}
