/**
 * A fast reader for the YAML that injection templates render: block maps and sequences, plain,
 * single- and double-quoted one-line scalars, `|`/`|-` literal block scalars, and one-level or
 * nested flow maps and sequences of such scalars (Istio's templates write annotations as
 * `{ key: "value", }`). It gives exactly what
 * `parseYamlDocument(text, { uniqueKeys: false, resolution: 'go' })` gives (the `yaml` package,
 * plain scalars resolved as istiod's sigs.k8s.io/yaml over go-yaml v2 resolves them: YAML 1.1,
 * `yes` is true, `0755` is 493; a repeated key's last value winning), and
 * gives up (undefined) on anything else, for the full parser to read: tabs, CR, control
 * characters, anchors, aliases, tags, directives, document markers, multi-line plain or quoted
 * scalars, folded or kept block scalars, explicit keys, or any layout it does not recognise.
 * Proven equal to the full parser over the corpora's rendered templates and generated texts
 * (test/unit/core/yaml-fast.test.ts). The full parser costs milliseconds per rendered pod; this
 * reads the same text in tens of microseconds.
 */
import { setOwn } from './json.js';
import { goScalarKey, goScalarValue, resolveGoScalar } from './yaml-go.js';

/** Thrown inside the reader when the text is not in its subset; never escapes it. */
class GiveUp extends Error {}
const GIVE_UP = new GiveUp('not in the fast subset');

function giveUp(): never {
  throw GIVE_UP;
}

/** Characters the reader leaves to the full parser wherever they appear. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is left out
const UNHANDLED_CHARS = /[\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\u2028\u2029]/;

type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/** Sets `key` as the `yaml` package's toJS does (own property even for `__proto__`). */
function setKey(map: { [key: string]: Value }, key: string, value: Value): void {
  setOwn(map, key, value);
}

/**
 * By first character code: whether go-yaml v2 may resolve a plain scalar to something other than
 * a string (a null, bool, int or float: `~`, `y`/`yes`/`on`/`n`/`no`/`off`, `true`, digits, signs,
 * a leading `.`).
 */
const MAY_RESOLVE_GO: readonly boolean[] = Array.from({ length: 128 }, (_, c) =>
  '0123456789+-.~nNtTfFyYoO'.includes(String.fromCharCode(c)),
);

/**
 * A plain scalar as istiod reads the rendered template (sigs.k8s.io/yaml over go-yaml v2: YAML
 * 1.1), which is how the full parser's `go` resolution reads it (src/core/yaml-go.ts).
 */
export function goPlainValue(s: string): string | number | boolean | null {
  const c = s.charCodeAt(0);
  if (c < 128 && !MAY_RESOLVE_GO[c]) return s;
  return goScalarValue(resolveGoScalar(s));
}

/** A plain key as the `go` resolution writes it (`yes:` is "true"); a null key is left over. */
function plainKey(s: string): string {
  const c = s.charCodeAt(0);
  if (c < 128 && !MAY_RESOLVE_GO[c]) return s;
  const key = goScalarKey(resolveGoScalar(s));
  // The full parser refuses it ("unsupported map key"): leave the text to it.
  if (key === undefined) giveUp();
  return key;
}

const DQ_ESCAPES: Readonly<Record<string, string>> = Object.assign(Object.create(null), {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
}) as Record<string, string>;

const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;

/** Characters that cannot start a plain scalar (c-indicator), `-?:` handled apart. */
const NOT_PLAIN_START = new Set([...'[]{},#&*!|>\'"%@`?:']);
const NOT_PLAIN_START_CODE: readonly boolean[] = Array.from({ length: 128 }, (_, c) =>
  NOT_PLAIN_START.has(String.fromCharCode(c)),
);

class Reader {
  private readonly text: string;
  /** Per line: index of its first character, of its end (`\n` or text end), its indent. */
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly indents: Int32Array;
  /** Per line: 1 when blank (spaces only) or a comment line. */
  private readonly empty: Uint8Array;
  private readonly n: number;
  /** The line the last read value ended on (inclusive). */
  private line = 0;

  constructor(text: string) {
    this.text = text;
    let lines = 1;
    for (let p = text.indexOf('\n'); p !== -1; p = text.indexOf('\n', p + 1)) lines++;
    this.n = lines;
    this.starts = new Int32Array(lines);
    this.ends = new Int32Array(lines);
    this.indents = new Int32Array(lines);
    this.empty = new Uint8Array(lines);
    let start = 0;
    for (let li = 0; ; li++) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      let i = start;
      while (i < end && text.charCodeAt(i) === SPACE) i++;
      this.starts[li] = start;
      this.ends[li] = end;
      this.indents[li] = i - start;
      this.empty[li] = i === end || text.charCodeAt(i) === HASH ? 1 : 0;
      if (i === start && i < end) {
        // Directives and document markers.
        const c = text.charCodeAt(i);
        if (c === 37 || text.startsWith('---', i) || text.startsWith('...', i)) giveUp();
      }
      if (end === text.length) break;
      start = end + 1;
    }
  }

  private st(li: number): number {
    return this.starts[li] ?? 0;
  }

  private en(li: number): number {
    return this.ends[li] ?? 0;
  }

  private ind(li: number): number {
    return this.indents[li] ?? 0;
  }

  read(): Value {
    const first = this.nextContent(0);
    if (first === this.n) giveUp();
    const value = this.block(first, this.st(first) + this.ind(first), -1);
    if (this.nextContent(this.line + 1) !== this.n) giveUp();
    return value;
  }

  /** The first line from `li` that is neither blank nor a comment. */
  private nextContent(li: number): number {
    while (li < this.n && this.empty[li]) li++;
    return li;
  }

  private col(li: number, pos: number): number {
    return pos - this.st(li);
  }

  private isDash(pos: number, end: number): boolean {
    return (
      this.text.charCodeAt(pos) === DASH &&
      (pos + 1 === end || this.text.charCodeAt(pos + 1) === SPACE)
    );
  }

  /** A block collection whose first entry starts at `pos` on line `li`. */
  private block(li: number, pos: number, parentCol: number): Value {
    const end = this.en(li);
    if (this.isDash(pos, end)) {
      if (this.col(li, pos) !== this.ind(li)) giveUp();
      return this.sequence(li, this.col(li, pos));
    }
    if (this.col(li, pos) <= parentCol) giveUp();
    return this.map(li, pos);
  }

  /** Only spaces, then the end of the line or a comment, from `pos`. */
  private restIsEmpty(pos: number, end: number): boolean {
    const start = pos;
    while (pos < end && this.text.charCodeAt(pos) === SPACE) pos++;
    if (pos === end) return true;
    // A comment needs white space before it.
    return this.text.charCodeAt(pos) === HASH && (pos > start || pos === this.lineStartOf(pos));
  }

  private lineStartOf(pos: number): number {
    return this.text.lastIndexOf('\n', pos - 1) + 1;
  }

  /** A block map whose first key starts at `pos` on line `li`; its entries sit at that column. */
  private map(li: number, pos: number, first?: { key: string; after: number }): Value {
    const col = this.col(li, pos);
    const out: { [key: string]: Value } = {};
    let key = first;
    for (;;) {
      const end = this.en(li);
      key ??= this.key(pos, end);
      if (key === undefined) giveUp();
      setKey(out, key.key, this.mapValue(li, key.after, end, col));
      const next = this.nextContent(this.line + 1);
      if (next === this.n) break;
      const indent = this.ind(next);
      if (indent < col) break;
      if (indent > col) giveUp();
      pos = this.st(next) + indent;
      if (this.isDash(pos, this.en(next))) giveUp();
      li = next;
      key = undefined;
    }
    return out;
  }

  /**
   * An implicit key at `pos`: plain or quoted, on one line, followed by `:` and a space or the
   * end of the line; undefined when the text there is not a key.
   */
  private key(pos: number, end: number): { key: string; after: number } | undefined {
    const c = this.text.charCodeAt(pos);
    if (c === 34 || c === 39) return this.quotedKey(pos, end, c);
    if (NOT_PLAIN_START_CODE[c]) return undefined;
    if (c === DASH && (pos + 1 === end || this.text.charCodeAt(pos + 1) === SPACE))
      return undefined;
    return this.plainKeyAt(pos, end);
  }

  private quotedKey(
    pos: number,
    end: number,
    quote: number,
  ): { key: string; after: number } | undefined {
    const text = this.text;
    const q = quote === 34 ? this.doubleQuoted(pos, end) : this.singleQuoted(pos, end);
    let p = q.end;
    while (p < end && text.charCodeAt(p) === SPACE) p++;
    if (text.charCodeAt(p) !== COLON) return undefined;
    if (p + 1 < end && text.charCodeAt(p + 1) !== SPACE) return undefined;
    // The `yaml` package refuses implicit keys past 1024 characters.
    if (p - pos > 1000) giveUp();
    return { key: q.value, after: p + 1 };
  }

  private plainKeyAt(pos: number, end: number): { key: string; after: number } | undefined {
    const text = this.text;
    for (let p = pos; p < end; p++) {
      const ch = text.charCodeAt(p);
      if (ch === HASH && text.charCodeAt(p - 1) === SPACE) return undefined;
      if (ch !== COLON || (p + 1 < end && text.charCodeAt(p + 1) !== SPACE)) continue;
      let e = p;
      while (text.charCodeAt(e - 1) === SPACE) e--;
      if (p - pos > 1000) giveUp();
      const raw = text.slice(pos, e);
      if (raw === '<<') giveUp();
      return { key: plainKey(raw), after: p + 1 };
    }
    return undefined;
  }

  /** The value after a map key's `:` at `pos`; sets this.line to the value's last line. */
  private mapValue(li: number, pos: number, end: number, col: number): Value {
    const text = this.text;
    while (pos < end && text.charCodeAt(pos) === SPACE) pos++;
    if (pos === end || text.charCodeAt(pos) === HASH) {
      this.line = li;
      const next = this.nextContent(li + 1);
      if (next === this.n) return null;
      const indent = this.ind(next);
      const start = this.st(next) + indent;
      if (indent > col) return this.block(next, start, col);
      if (indent === col && this.isDash(start, this.en(next))) return this.sequence(next, col);
      return null;
    }
    const c = text.charCodeAt(pos);
    if (c === 124) return this.literal(li, pos, end, col);
    return this.inlineValue(li, pos, end, col);
  }

  /** A scalar or flow collection starting at `pos` on line `li`; sets this.line. */
  private inlineValue(li: number, pos: number, end: number, col: number): Value {
    const text = this.text;
    const c = text.charCodeAt(pos);
    if (c === 123 || c === 91) {
      const flow = new FlowReader(this, text, li, col);
      const value = flow.collection(pos);
      this.line = flow.line;
      if (!this.restIsEmpty(flow.pos, this.en(flow.line))) giveUp();
      return value;
    }
    this.line = li;
    if (c === 34 || c === 39) {
      const q = c === 34 ? this.doubleQuoted(pos, end) : this.singleQuoted(pos, end);
      if (!this.restIsEmpty(q.end, end)) giveUp();
      return q.value;
    }
    if (NOT_PLAIN_START.has(text.charAt(pos))) giveUp();
    if (c === DASH && (pos + 1 === end || text.charCodeAt(pos + 1) === SPACE)) giveUp();
    let e = end;
    for (let p = pos; p < end; p++) {
      const ch = text.charCodeAt(p);
      if (ch === HASH && text.charCodeAt(p - 1) === SPACE) {
        e = p;
        break;
      }
      // `a: b: c` is a nested map on one line, which YAML refuses.
      if (ch === COLON && (p + 1 === end || text.charCodeAt(p + 1) === SPACE)) giveUp();
    }
    while (text.charCodeAt(e - 1) === SPACE) e--;
    return goPlainValue(text.slice(pos, e));
  }

  /** A block sequence whose dashes sit at column `col`, from line `li`. */
  private sequence(li: number, col: number): Value[] {
    const text = this.text;
    const out: Value[] = [];
    for (;;) {
      const end = this.en(li);
      let pos = this.st(li) + col + 1;
      if (this.restIsEmpty(pos, end)) {
        this.line = li;
        const next = this.nextContent(li + 1);
        const indent = next === this.n ? -1 : this.ind(next);
        out.push(indent > col ? this.block(next, this.st(next) + indent, col) : null);
      } else {
        while (pos < end && text.charCodeAt(pos) === SPACE) pos++;
        if (this.isDash(pos, end)) giveUp();
        const c = text.charCodeAt(pos);
        const key = c === 123 || c === 91 || c === 124 ? undefined : this.key(pos, end);
        if (c === 124) out.push(this.literal(li, pos, end, col));
        else if (key !== undefined) out.push(this.map(li, pos, key));
        else out.push(this.inlineValue(li, pos, end, col));
      }
      const next = this.nextContent(this.line + 1);
      if (next === this.n) break;
      const indent = this.ind(next);
      if (indent < col) break;
      if (indent > col) giveUp();
      if (!this.isDash(this.st(next) + indent, this.en(next))) break;
      li = next;
    }
    return out;
  }

  /** `|` or `|-` at `pos` (a map value of the map at column `col`): the literal text. */
  private literal(li: number, pos: number, end: number, col: number): string {
    const text = this.text;
    let p = pos + 1;
    const strip = text.charCodeAt(p) === DASH;
    if (strip) p++;
    if (p < end && text.charCodeAt(p) !== SPACE) giveUp();
    if (!this.restIsEmpty(p, end)) giveUp();
    // Leading blank lines, then the first content line decides the indentation.
    let i = li + 1;
    let leading = 0;
    while (i < this.n && this.st(i) + this.ind(i) === this.en(i)) {
      leading = Math.max(leading, this.ind(i));
      i++;
    }
    if (i === this.n) giveUp();
    const indent = this.ind(i);
    if (indent <= col || leading > indent) giveUp();
    const lines: string[] = [];
    for (let b = li + 1; b < i; b++) lines.push('');
    let last = i;
    while (i < this.n) {
      const blank = this.st(i) + this.ind(i) === this.en(i);
      if (blank) {
        if (this.ind(i) > indent) giveUp();
        lines.push('');
      } else {
        if (this.ind(i) < indent) break;
        lines.push(text.slice(this.st(i) + indent, this.en(i)));
        last = i;
      }
      i++;
    }
    // The last content line must end with a line break (clip keeps exactly that one).
    if (this.ends[last] === text.length) giveUp();
    this.line = last;
    const body = lines.slice(0, last - li).join('\n');
    return strip ? body : `${body}\n`;
  }

  doubleQuoted(pos: number, end: number): { value: string; end: number } {
    const text = this.text;
    let out = '';
    let from = pos + 1;
    for (let p = pos + 1; p < end; p++) {
      const ch = text.charCodeAt(p);
      if (ch === 34) return { value: out + text.slice(from, p), end: p + 1 };
      if (ch !== 92) continue;
      out += text.slice(from, p);
      const e = text.charAt(p + 1);
      const simple = DQ_ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        p += 1;
      } else {
        const length = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
        const hex = text.substr(p + 2, length);
        if (length === 0 || p + 2 + length > end || !/^[0-9a-fA-F]+$/.test(hex)) giveUp();
        const code = parseInt(hex, 16);
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) giveUp();
        out += String.fromCodePoint(code);
        p += 1 + length;
      }
      from = p + 1;
    }
    return giveUp();
  }

  singleQuoted(pos: number, end: number): { value: string; end: number } {
    const text = this.text;
    let out = '';
    let from = pos + 1;
    for (let p = pos + 1; p < end; p++) {
      if (text.charCodeAt(p) !== 39) continue;
      if (text.charCodeAt(p + 1) === 39) {
        out += text.slice(from, p + 1);
        p++;
        from = p + 1;
        continue;
      }
      return { value: out + text.slice(from, p), end: p + 1 };
    }
    return giveUp();
  }

  lineEnd(li: number): number {
    return this.en(li);
  }

  lineCount(): number {
    return this.n;
  }

  lineIndent(li: number): number {
    return this.ind(li);
  }

  lineStart(li: number): number {
    return this.st(li);
  }
}

/**
 * A flow collection (`{...}` / `[...]`) of scalars and flow collections, possibly over several
 * lines: every continuation line indented past the enclosing map's column `col` (a line that
 * starts with the closing bracket may sit at that column).
 */
class FlowReader {
  line: number;
  pos = 0;

  constructor(
    private readonly reader: Reader,
    private readonly text: string,
    line: number,
    private readonly col: number,
  ) {
    this.line = line;
  }

  /** Skips spaces, comments and line breaks; the next significant character's code. */
  private skip(): number {
    const text = this.text;
    for (;;) {
      const end = this.reader.lineEnd(this.line);
      while (this.pos < end && text.charCodeAt(this.pos) === SPACE) this.pos++;
      if (this.pos < end && text.charCodeAt(this.pos) !== HASH) return text.charCodeAt(this.pos);
      if (this.pos < end) {
        // A comment: white space (or the line start) must come before it.
        const prev = text.charCodeAt(this.pos - 1);
        if (prev !== SPACE && this.pos !== this.reader.lineStart(this.line)) giveUp();
      }
      this.line++;
      if (this.line >= this.reader.lineCount()) giveUp();
      const indent = this.reader.lineIndent(this.line);
      this.pos = this.reader.lineStart(this.line) + indent;
      const c = text.charCodeAt(this.pos);
      const atEnd = this.pos === this.reader.lineEnd(this.line);
      if (!atEnd && (c === 125 || c === 93) ? indent < this.col : !atEnd && indent <= this.col)
        giveUp();
    }
  }

  collection(pos: number): Value {
    this.pos = pos;
    return this.text.charCodeAt(pos) === 123 ? this.flowMap() : this.flowSeq();
  }

  private flowMap(): Value {
    const out: { [key: string]: Value } = {};
    this.flowItems(125, () => {
      const key = this.flowKey();
      this.skip();
      setKey(out, key, this.flowValue());
    });
    return out;
  }

  private flowSeq(): Value {
    const out: Value[] = [];
    this.flowItems(93, () => out.push(this.flowValue()));
    return out;
  }

  /** The items of a flow collection up to its closing `}` or `]` (a trailing comma allowed). */
  private flowItems(close: number, item: () => void): void {
    this.pos++;
    let c = this.skip();
    while (c !== close) {
      item();
      c = this.skip();
      if (c === close) break;
      if (c !== 44) giveUp();
      this.pos++;
      c = this.skip();
    }
    this.pos++;
  }

  /** A key and its `:` (a plain key needs a space after the colon, on the same line). */
  private flowKey(): string {
    const text = this.text;
    const end = this.reader.lineEnd(this.line);
    const c = text.charCodeAt(this.pos);
    if (c === 34 || c === 39) {
      const q =
        c === 34
          ? this.reader.doubleQuoted(this.pos, end)
          : this.reader.singleQuoted(this.pos, end);
      let p = q.end;
      while (p < end && text.charCodeAt(p) === SPACE) p++;
      if (text.charCodeAt(p) !== COLON) giveUp();
      this.pos = p + 1;
      return q.value;
    }
    const start = this.pos;
    const e = this.plainEnd(start, end, true);
    if (text.charCodeAt(e) !== COLON || (e + 1 < end && text.charCodeAt(e + 1) !== SPACE)) giveUp();
    let k = e;
    while (text.charCodeAt(k - 1) === SPACE) k--;
    if (k - start > 1000) giveUp();
    const raw = text.slice(start, k);
    if (raw === '<<') giveUp();
    this.pos = e + 1;
    return plainKey(raw);
  }

  private flowValue(): Value {
    const text = this.text;
    const end = this.reader.lineEnd(this.line);
    const c = text.charCodeAt(this.pos);
    if (c === 123 || c === 91) return this.collection(this.pos);
    let value: Value;
    if (c === 34 || c === 39) {
      const q =
        c === 34
          ? this.reader.doubleQuoted(this.pos, end)
          : this.reader.singleQuoted(this.pos, end);
      this.pos = q.end;
      value = q.value;
    } else {
      const start = this.pos;
      const e = this.plainEnd(start, end, false);
      let k = e;
      while (text.charCodeAt(k - 1) === SPACE) k--;
      this.pos = e;
      value = goPlainValue(text.slice(start, k));
    }
    // Only `,` or the closing bracket may follow, on this line (no implicit pairs or folding).
    let p = this.pos;
    while (p < end && text.charCodeAt(p) === SPACE) p++;
    const next = text.charCodeAt(p);
    if (p < end && next !== 44 && next !== 125 && next !== 93 && next !== HASH) giveUp();
    if (p === end) {
      const save = { line: this.line, pos: this.pos };
      const after = this.skip();
      if (after !== 44 && after !== 125 && after !== 93) giveUp();
      this.line = save.line;
      this.pos = save.pos;
    }
    return value;
  }

  /** Where a plain scalar in flow context starting at `start` ends (exclusive). */
  private plainEnd(start: number, end: number, key: boolean): number {
    const text = this.text;
    if (start >= end || !flowPlainStart(text, start, end)) giveUp();
    let p = start;
    for (; p < end; p++) {
      const ch = text.charCodeAt(p);
      if (FLOW_INDICATOR[ch] || (ch === HASH && text.charCodeAt(p - 1) === SPACE)) break;
      if (ch === COLON && colonEnds(text, p, end)) {
        if (!key) giveUp();
        return p;
      }
    }
    // A key needs its `:` on the line; `[` or `{` cannot follow a plain scalar.
    if (key || p === start) giveUp();
    const ch = text.charCodeAt(p);
    if (p < end && (ch === 91 || ch === 123)) giveUp();
    return p;
  }
}

/** `,[]{}` by character code. */
const FLOW_INDICATOR: readonly boolean[] = Array.from({ length: 128 }, (_, c) =>
  ',[]{}'.includes(String.fromCharCode(c)),
);

/** Whether the `:` at `p` ends a plain scalar in flow context (space, `,]}` or the line end). */
function colonEnds(text: string, p: number, end: number): boolean {
  const after = text.charCodeAt(p + 1);
  return p + 1 === end || after === SPACE || after === 44 || after === 93 || after === 125;
}

/** Whether a plain scalar may start at `start` in flow context (`-x` may, `-`, `- x` not). */
function flowPlainStart(text: string, start: number, end: number): boolean {
  const first = text.charAt(start);
  if (first === '-') return start + 1 < end && !/[ ,[\]{}]/.test(text.charAt(start + 1));
  return !NOT_PLAIN_START.has(first);
}

/**
 * The text read as the full parser would read it, or undefined when it is outside the subset
 * this reader handles (then the full parser must read it, errors included).
 */
export function readTemplateYaml(text: string): unknown {
  if (UNHANDLED_CHARS.test(text)) return undefined;
  try {
    return new Reader(text).read();
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
}
