/**
 * Plain YAML scalars resolved the way istiod reads its texts: sigs.k8s.io/yaml over go-yaml v2,
 * a YAML 1.1 resolver (go.yaml.in/yaml/v2 resolve.go). `yes`/`on`/`y` are booleans, `0777` is
 * octal, `1_000` an integer, `~` null; a value read into a Go string field is printed back the
 * way sigs.k8s.io/yaml's convertToJSONableObject prints it (`yes` -> "true", `1.50` -> "1.5").
 */

/** A plain scalar as go-yaml v2 resolves it. */
export type GoScalar =
  | { kind: 'null' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'float'; value: number }
  | { kind: 'str'; value: string };

const TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULL = new Set(['', '~', 'null', 'Null', 'NULL']);
const SPECIAL_FLOATS = new Map<string, number>([
  ['.nan', NaN],
  ['.NaN', NaN],
  ['.NAN', NaN],
  ['.inf', Infinity],
  ['.Inf', Infinity],
  ['.INF', Infinity],
  ['+.inf', Infinity],
  ['+.Inf', Infinity],
  ['+.INF', Infinity],
  ['-.inf', -Infinity],
  ['-.Inf', -Infinity],
  ['-.INF', -Infinity],
]);

/** resolve.go's yamlStyleFloat. */
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** What Go's strconv.ParseFloat accepts after a leading `.` (the only '.'-hinted form). */
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;

/** strconv's underscoreOK: an underscore only between digits. */
function underscoresOk(s: string): boolean {
  return !/(^|[^0-9])_|_([^0-9]|$)/.test(s);
}
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv.ParseInt(s, 0, 64), then ParseUint: the value, or undefined when Go refuses it. */
function goParseInt(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2] ?? '';
  let digits = body;
  // A bare leading 0 is octal; BigInt wants its 0o prefix.
  if (/^0[0-7]+$/.test(body)) digits = `0o${body.slice(1)}`;
  let v = BigInt(digits);
  if (m[1] === '-') v = -v;
  if (v < INT64_MIN || v > UINT64_MAX) return undefined;
  return v;
}

/** go-yaml v2's resolve() for an untagged plain scalar. */
export function resolveGoScalar(text: string): GoScalar {
  if (NULL.has(text)) return { kind: 'null' };
  if (TRUE.has(text)) return { kind: 'bool', value: true };
  if (FALSE.has(text)) return { kind: 'bool', value: false };
  const special = SPECIAL_FLOATS.get(text);
  if (special !== undefined) return { kind: 'float', value: special };
  const first = text[0] ?? '';
  if (first === '.') {
    // strconv.ParseFloat(text): Go float syntax, underscores between digits allowed.
    const digits = text.replaceAll('_', '');
    if (underscoresOk(text) && DOT_FLOAT.test(digits)) {
      const f = Number(digits);
      if (Number.isFinite(f)) return { kind: 'float', value: f };
    }
    return { kind: 'str', value: text };
  }
  if (!/[-+0-9]/.test(first)) return { kind: 'str', value: text };
  // A timestamp-like text (`2024-01-02`) stays the string it is: go-yaml v2 keeps timestamps
  // as text when decoding into interface{}, which sigs.k8s.io/yaml does first.
  const plain = text.replaceAll('_', '');
  const int = goParseInt(plain);
  if (int !== undefined) return { kind: 'int', value: int };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    // strconv.ParseFloat fails with ErrRange past the float64 range: the text stays a string.
    if (Number.isFinite(f)) return { kind: 'float', value: f };
  }
  return { kind: 'str', value: text };
}

/** strconv.FormatFloat(v, 'g', -1, 32): the shortest float32 text, %e from exponent 6 (or < -4). */
export function formatGoFloat32(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  const f = Math.fround(v);
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const { digits, x } = shortestFloat32Digits(Math.abs(f));
  const sign = f < 0 ? '-' : '';
  if (x < -4 || x >= 6) {
    const rest = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const ex = Math.abs(x) < 10 ? `0${Math.abs(x)}` : String(Math.abs(x));
    return `${sign}${digits[0] ?? ''}${rest}e${x < 0 ? '-' : '+'}${ex}`;
  }
  const point = x + 1;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * The fewest decimal digits that read back as the float32 `f` (> 0), and the exponent of the first
 * digit. Among the candidates of that length Go's roundShortest (strconv/ftoa.go) takes the one
 * nearest the exact value, an exact tie to the even digit; toExponential alone rounds ties up.
 */
function shortestFloat32Digits(f: number): { digits: string; x: number } {
  for (let p = 1; p <= 9; p++) {
    const [mantissa = '', e = '0'] = f.toExponential(p - 1).split('e');
    const nearest = BigInt(mantissa.replace('.', ''));
    const q = Number(e) - p + 1;
    let best: bigint | undefined;
    let bestDistance = 0n;
    for (const c of [nearest - 1n, nearest, nearest + 1n]) {
      if (c <= 0n || Math.fround(Number(`${c}e${q}`)) !== f) continue;
      const distance = exactDistance(f, c, q);
      if (
        best === undefined ||
        distance < bestDistance ||
        (distance === bestDistance && c % 2n === 0n)
      ) {
        best = c;
        bestDistance = distance;
      }
    }
    if (best !== undefined) {
      const text = best.toString();
      return { digits: text.replace(/0+$/, '') || '0', x: q + text.length - 1 };
    }
  }
  // Nine significant digits always identify a float32.
  const [mantissa = '', e = '0'] = f.toExponential(8).split('e');
  return { digits: mantissa.replace('.', '').replace(/0+$/, ''), x: Number(e) };
}

/** |c × 10^q − f| scaled by one positive factor that depends only on f and q (exact). */
function exactDistance(f: number, c: bigint, q: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, f);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  // f = m × 2^e2 exactly.
  const m = biased === 0 ? fraction : fraction | (1n << 52n);
  const e2 = (biased === 0 ? 1 : biased) - 1075;
  const twos = e2 < 0 ? -e2 : 0;
  const tens = q < 0 ? -q : 0;
  const candidate = c * 10n ** BigInt(q + tens) * 2n ** BigInt(twos);
  const exact = m * 2n ** BigInt(e2 + twos) * 10n ** BigInt(tens);
  return candidate > exact ? candidate - exact : exact - candidate;
}

/** The resolved scalar as a JSON value (what YAMLToJSON hands to a non-string Go field). */
export function goScalarValue(s: GoScalar): string | number | boolean | null {
  switch (s.kind) {
    case 'null':
      return null;
    case 'int':
      return Number(s.value);
    case 'bool':
    case 'float':
    case 'str':
      return s.value;
  }
}

/**
 * The resolved scalar read into a Go string field (sigs.k8s.io/yaml converts numbers and
 * booleans to text for string targets); null stays null (the field keeps its zero value).
 */
export function goScalarString(s: GoScalar): string | null {
  switch (s.kind) {
    case 'null':
      return null;
    case 'bool':
      return s.value ? 'true' : 'false';
    case 'int':
      return s.value.toString();
    case 'float':
      return formatGoFloat32(s.value);
    case 'str':
      return s.value;
  }
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * A resolved map key as sigs.k8s.io/yaml writes it (float keys keep YAML's `.inf`/`.nan`), or
 * undefined where it fails with "unsupported map key" (a null key, an integer past int64).
 */
export function goScalarKey(s: GoScalar): string | undefined {
  if (s.kind === 'null') return undefined;
  if (s.kind === 'int' && s.value > INT64_MAX) return undefined;
  if (s.kind !== 'float') return goScalarString(s) ?? undefined;
  const text = formatGoFloat32(s.value);
  if (text === '+Inf') return '.inf';
  if (text === '-Inf') return '-.inf';
  if (text === 'NaN') return '.nan';
  return text;
}
