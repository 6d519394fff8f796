/**
 * Go's fmt formatting (https://pkg.go.dev/fmt) for the value kinds templates see: `Sprint`,
 * `Sprintln`, `Sprintf` with the verbs %v %+v %s %q %d %t %f %F %e %E %g %G %x %X %o %b %c %U %%,
 * flags `-+# 0`, width and precision, and Go's `%!verb(type=value)` / `%!verb(MISSING)` /
 * `%!(EXTRA ...)` markers.
 */
import {
  formatFloatShortest,
  formatValue,
  goTypeName,
  GoEnum,
  GoFloat,
  type GoValue,
} from './value.js';

/** strconv.Quote: Go's double-quoted form (printable Unicode kept, the rest escaped). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\v':
        out += '\\v';
        continue;
      default:
        break;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && /[\p{C}\p{Zl}\p{Zp}]/u.test(ch)) {
      out +=
        c > 0xffff
          ? `\\U${c.toString(16).padStart(8, '0')}`
          : `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** fmt.Sprint: operands separated by a space when neither side is a string. */
export function sprint(args: readonly GoValue[]): string {
  let out = '';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += fmtV(a);
  }
  return out;
}

/** fmt.Sprintln: always space-separated, with a final newline. */
export function sprintln(args: readonly GoValue[]): string {
  return `${args.map(fmtV).join(' ')}\n`;
}

function fmtV(v: GoValue): string {
  return v === undefined ? '<nil>' : formatValue(v);
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

function pad(s: string, spec: Spec, numeric = false): string {
  if (spec.width === undefined || s.length >= spec.width) return s;
  const n = spec.width - [...s].length;
  if (n <= 0) return s;
  if (spec.minus) return s + ' '.repeat(n);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? (s[0] ?? '') : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

function bad(verb: string, v: GoValue): string {
  if (v === undefined || v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${formatValue(v)})`;
}

function signed(s: string, neg: boolean, spec: Spec): string {
  if (neg) return `-${s}`;
  if (spec.plus) return `+${s}`;
  if (spec.space) return ` ${s}`;
  return s;
}

function fmtInt(n: number, verb: string, spec: Spec): string {
  const neg = n < 0;
  const a = Math.abs(n);
  let body: string;
  switch (verb) {
    case 'd':
    case 'v':
      body = String(a);
      break;
    case 'x':
      body = (spec.sharp ? '0x' : '') + a.toString(16);
      break;
    case 'X':
      body = (spec.sharp ? '0X' : '') + a.toString(16).toUpperCase();
      break;
    case 'o':
      body = (spec.sharp ? '0' : '') + a.toString(8);
      break;
    case 'O':
      body = `0o${a.toString(8)}`;
      break;
    case 'b':
      body = a.toString(2);
      break;
    case 'c':
      return pad(String.fromCodePoint(n), spec);
    case 'q':
      return pad(`'${String.fromCodePoint(n)}'`, spec);
    case 'U':
      return pad(`U+${a.toString(16).toUpperCase().padStart(4, '0')}`, spec);
    default:
      return bad(verb, n);
  }
  if (spec.prec !== undefined) body = body.padStart(spec.prec, '0');
  return pad(signed(body, neg, spec), spec, spec.prec === undefined);
}

function fmtFloat(f: number, verb: string, spec: Spec): string {
  const neg = f < 0 || Object.is(f, -0);
  const a = Math.abs(f);
  let body: string;
  if (!Number.isFinite(f)) {
    body = Number.isNaN(f) ? 'NaN' : 'Inf';
    return pad(Number.isNaN(f) ? body : signed(body, neg, spec), spec);
  }
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
      body = spec.prec === undefined ? formatFloatShortest(a) : gText(a, spec.prec);
      if (verb === 'G') body = body.toUpperCase();
      break;
    case 'f':
    case 'F':
      body = a.toFixed(spec.prec ?? 6);
      break;
    case 'e':
    case 'E':
      body = expText(a.toExponential(spec.prec ?? 6));
      if (verb === 'E') body = body.toUpperCase();
      break;
    default:
      return bad(verb, new GoFloat(f));
  }
  return pad(signed(body, neg, spec), spec, true);
}

/** `%.Ng` of a non-negative finite `a`: exponent form for small or large exponents. */
function gText(a: number, prec: number): string {
  const p = prec === 0 ? 1 : prec;
  const exp = a === 0 ? 0 : Math.floor(Math.log10(Number(a.toExponential(p - 1))));
  return exp < -4 || exp >= p
    ? expText(a.toExponential(p - 1).replace(/\.?0+e/, 'e'))
    : String(Number(a.toFixed(Math.max(0, p - 1 - exp))));
}

/** JS's `1.5e+3` as Go writes it: at least two exponent digits. */
function expText(js: string): string {
  return js.replace(/e([+-])(\d)$/, 'e$10$2');
}

function fmtString(s: string, verb: string, spec: Spec): string {
  let t = spec.prec !== undefined ? [...s].slice(0, spec.prec).join('') : s;
  switch (verb) {
    case 'v':
    case 's':
      break;
    case 'q':
      t = spec.sharp && !t.includes('`') ? `\`${t}\`` : goQuote(t);
      break;
    case 'x':
    case 'X': {
      let hex = [...new TextEncoder().encode(t)]
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(spec.space ? ' ' : '');
      if (verb === 'X') hex = hex.toUpperCase();
      t = hex;
      break;
    }
    default:
      return bad(verb, s);
  }
  return pad(t, spec);
}

function fmtOne(v: GoValue, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(v === undefined || v === null ? '<nil>' : goTypeName(v), spec);
  if (verb === 'p') return bad(verb, v);
  if (v === undefined || v === null) {
    return verb === 'v' ? pad('<nil>', spec) : `%!${verb}(<nil>)`;
  }
  if (typeof v === 'string') return fmtString(v, verb, spec);
  if (typeof v === 'number') return fmtInt(v, verb, spec);
  if (typeof v === 'boolean') {
    return verb === 'v' || verb === 't' ? pad(v ? 'true' : 'false', spec) : bad(verb, v);
  }
  if (v instanceof GoFloat) return fmtFloat(v.value, verb, spec);
  if (v instanceof GoEnum) return fmtEnum(v, verb, spec);
  return fmtComposite(v, verb, spec);
}

/** An enum prints its name, or its number under %d. */
function fmtEnum(v: GoEnum, verb: string, spec: Spec): string {
  if (verb === 'v' || verb === 's') return pad(v.name, spec);
  return verb === 'd' ? fmtInt(v.number, verb, spec) : bad(verb, v);
}

/** Maps, lists and structs: %v and %s print the value; %q and %d apply to each element of a list. */
function fmtComposite(v: GoValue, verb: string, spec: Spec): string {
  if (verb === 'v' || verb === 's') return pad(formatValue(v), spec);
  if ((verb === 'q' || verb === 'd') && Array.isArray(v)) {
    return `[${(v as readonly GoValue[]).map((e) => fmtOne(e, verb, spec)).join(' ')}]`;
  }
  return bad(verb, v);
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    const spec: Spec = {
      minus: false,
      plus: false,
      sharp: false,
      space: false,
      zero: false,
      width: undefined,
      prec: undefined,
    };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') spec.minus = true;
      else if (f === '+') spec.plus = true;
      else if (f === '#') spec.sharp = true;
      else if (f === ' ') spec.space = true;
      else if (f === '0') spec.zero = !spec.minus;
      else break;
    }
    const num = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        return typeof a === 'number' ? a : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    spec.width = num();
    if (format[i] === '.') {
      i++;
      spec.prec = num() ?? 0;
    }
    const verb = format[i];
    i++;
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += fmtOne(args[argi++], verb, spec);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => (a === undefined || a === null ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`))
      .join(', ')})`;
  }
  return out;
}
