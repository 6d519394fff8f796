/**
 * Lexer and parser for Go's text/template language (https://pkg.go.dev/text/template), producing
 * the tree the evaluator walks. Parsing happens once per template text; functions are resolved
 * here, as Go does (`function "x" not defined` is a parse error).
 */
import { GoFloat, type GoValue } from './value.js';

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Where a node starts: byte offset into the template text. */
interface At {
  pos: number;
}

export type Arg =
  | ({ t: 'field'; idents: string[] } & At)
  | ({ t: 'var'; name: string; idents: string[] } & At)
  | ({ t: 'dot' } & At)
  | ({ t: 'nil' } & At)
  | ({ t: 'bool'; v: boolean } & At)
  | ({ t: 'number'; v: GoValue; text: string } & At)
  | ({ t: 'string'; v: string; text: string } & At)
  | ({ t: 'func'; name: string } & At)
  | ({ t: 'chain'; node: Arg; idents: string[] } & At)
  | ({ t: 'pipe'; pipe: Pipe } & At);

export interface Cmd extends At {
  args: Arg[];
}

export interface Pipe extends At {
  decl: string[];
  isAssign: boolean;
  cmds: Cmd[];
}

export type Node =
  | { t: 'text'; text: string }
  | ({ t: 'action'; pipe: Pipe } & At)
  | ({ t: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList: Node[] | null } & At)
  | ({ t: 'template'; name: string; pipe: Pipe | null } & At)
  | ({ t: 'break' | 'continue' } & At);

/** A parsed template set: the main body plus every `define`/`block`, by name. */
export interface ParsedSet {
  name: string;
  text: string;
  trees: Map<string, Node[]>;
}

// ---------------------------------------------------------------------------------------------
// Lexer

type TokKind =
  | 'text'
  | 'left'
  | 'right'
  | 'ident'
  | 'keyword'
  | 'field'
  | 'var'
  | 'dot'
  | 'string'
  | 'raw'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'space'
  | 'eof';

interface Tok {
  k: TokKind;
  v: string;
  pos: number;
}

const KEYWORDS = new Set([
  'block',
  'break',
  'continue',
  'define',
  'else',
  'end',
  'if',
  'range',
  'nil',
  'template',
  'with',
]);

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{N}_]/u.test(c);
}

/** Go's parse error text: `template: <name>:<line>: <msg>`, the line counted up to `pos`. */
function failureAt(name: string, text: string, pos: number, msg: string): TemplateError {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text[i] === '\n') line++;
  return new TemplateError(`template: ${name}:${line}: ${msg}`);
}

class Lexer {
  readonly toks: Tok[] = [];
  private parenDepth = 0;

  constructor(
    private readonly text: string,
    private readonly name: string,
  ) {
    this.run();
  }

  private fail(pos: number, msg: string): never {
    throw failureAt(this.name, this.text, pos, msg);
  }

  private run(): void {
    const s = this.text;
    let i = 0;
    let trimNext = false;
    while (i <= s.length) {
      const open = s.indexOf('{{', i);
      const end = open === -1 ? s.length : open;
      let text = s.slice(i, end);
      if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
      let trimLeft = false;
      if (open !== -1 && s[open + 2] === '-' && isSpace(s[open + 3])) trimLeft = true;
      if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
      if (text.length > 0) this.toks.push({ k: 'text', v: text, pos: i });
      if (open === -1) break;
      let p = open + 2 + (trimLeft ? 2 : 0);
      // A comment: `{{/*` ... `*/}}`, optionally trimmed on either side.
      if (s.startsWith('/*', p)) {
        const close = s.indexOf('*/', p + 2);
        if (close === -1) this.fail(open, 'unclosed comment');
        let q = close + 2;
        let trimRight = false;
        if (s.startsWith(' -}}', q) || s.startsWith('\t-}}', q) || s.startsWith('\n-}}', q)) {
          trimRight = true;
          q += 4;
        } else if (s.startsWith('}}', q)) {
          q += 2;
        } else {
          this.fail(open, 'comment ends before closing delimiter');
        }
        trimNext = trimRight;
        i = q;
        continue;
      }
      this.toks.push({ k: 'left', v: '{{', pos: open });
      const r = this.lexAction(p);
      p = r.next;
      trimNext = r.trim;
      i = p;
    }
    this.toks.push({ k: 'eof', v: '', pos: s.length });
  }

  /** Lexes inside an action from `p`; returns the offset after `}}` and whether it was `-}}`. */
  private lexAction(start: number): { next: number; trim: boolean } {
    const s = this.text;
    let p = start;
    this.parenDepth = 0;
    for (;;) {
      if (p >= s.length) this.fail(start, 'unclosed action');
      const c = s[p];
      if (isSpace(c)) {
        let q = p;
        while (isSpace(s[q])) q++;
        if (s.startsWith('-}}', q)) {
          this.toks.push({ k: 'right', v: '}}', pos: q });
          return { next: q + 3, trim: true };
        }
        this.toks.push({ k: 'space', v: ' ', pos: p });
        p = q;
        continue;
      }
      if (s.startsWith('}}', p)) {
        if (this.parenDepth > 0) this.fail(p, 'unclosed left paren');
        this.toks.push({ k: 'right', v: '}}', pos: p });
        return { next: p + 2, trim: false };
      }
      if (c === '|') {
        this.toks.push({ k: 'pipe', v: '|', pos: p++ });
        continue;
      }
      if (c === '(') {
        this.parenDepth++;
        this.toks.push({ k: 'lparen', v: '(', pos: p++ });
        continue;
      }
      if (c === ')') {
        this.parenDepth--;
        if (this.parenDepth < 0) this.fail(p, 'unexpected right paren');
        this.toks.push({ k: 'rparen', v: ')', pos: p++ });
        continue;
      }
      if (c === ',') {
        this.toks.push({ k: 'comma', v: ',', pos: p++ });
        continue;
      }
      if (c === ':' && s[p + 1] === '=') {
        this.toks.push({ k: 'declare', v: ':=', pos: p });
        p += 2;
        continue;
      }
      if (c === '=') {
        this.toks.push({ k: 'assign', v: '=', pos: p++ });
        continue;
      }
      const quoted = this.lexQuoted(c, p);
      if (quoted >= 0) {
        p = quoted;
        continue;
      }
      const word = this.lexWord(c, p);
      if (word >= 0) {
        p = word;
        continue;
      }
      this.fail(p, `unrecognized character in action: ${JSON.stringify(c)}`);
    }
  }

  /** A quoted, raw or character literal at `p`: the offset after it, or -1 if `c` opens none. */
  private lexQuoted(c: string | undefined, p: number): number {
    const s = this.text;
    if (c === '"') {
      let q = p + 1;
      while (q < s.length && s[q] !== '"') {
        if (s[q] === '\\') q++;
        if (s[q] === '\n') this.fail(p, 'unterminated quoted string');
        q++;
      }
      if (q >= s.length) this.fail(p, 'unterminated quoted string');
      this.toks.push({ k: 'string', v: s.slice(p, q + 1), pos: p });
      return q + 1;
    }
    if (c === '`') {
      const q = s.indexOf('`', p + 1);
      if (q === -1) this.fail(p, 'unterminated raw quoted string');
      this.toks.push({ k: 'raw', v: s.slice(p, q + 1), pos: p });
      return q + 1;
    }
    if (c === "'") {
      let q = p + 1;
      while (q < s.length && s[q] !== "'") {
        if (s[q] === '\\') q++;
        q++;
      }
      if (q >= s.length) this.fail(p, 'unterminated character constant');
      this.toks.push({ k: 'char', v: s.slice(p, q + 1), pos: p });
      return q + 1;
    }
    return -1;
  }

  /** A variable, field, number, keyword or identifier at `p`: the offset after it, or -1. */
  private lexWord(c: string | undefined, p: number): number {
    const s = this.text;
    if (c === '$') {
      let q = p + 1;
      while (isAlnum(s[q])) q++;
      this.toks.push({ k: 'var', v: s.slice(p, q), pos: p });
      return q;
    }
    if (c === '.') {
      if (s[p + 1] !== undefined && /[0-9]/.test(s[p + 1] ?? '')) {
        p = this.lexNumber(p);
        return p;
      }
      let q = p + 1;
      while (isAlnum(s[q])) q++;
      this.toks.push(
        q === p + 1 ? { k: 'dot', v: '.', pos: p } : { k: 'field', v: s.slice(p, q), pos: p },
      );
      return q;
    }
    if (c === '+' || c === '-' || /[0-9]/.test(c ?? '')) {
      return this.lexNumber(p);
    }
    if (isAlnum(c)) {
      let q = p;
      while (isAlnum(s[q])) q++;
      const word = s.slice(p, q);
      const k: TokKind = KEYWORDS.has(word)
        ? word === 'nil'
          ? 'nil'
          : 'keyword'
        : word === 'true' || word === 'false'
          ? 'bool'
          : 'ident';
      this.toks.push({ k, v: word, pos: p });
      return q;
    }
    return -1;
  }

  private lexNumber(p: number): number {
    const s = this.text;
    const m =
      /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(
        s.slice(p),
      );
    const text = m?.[0] ?? '';
    if (text === '' || text === '+' || text === '-' || isAlnum(s[p + text.length])) {
      this.fail(p, `bad number syntax: ${JSON.stringify(s.slice(p, p + text.length + 1))}`);
    }
    this.toks.push({ k: 'number', v: text, pos: p });
    return p + text.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

function unquote(text: string): string {
  if (text.startsWith('`')) return text.slice(1, -1);
  // Go's double-quoted escapes are a superset of JSON's except \x, \a, \v, octal, \U, \'.
  const body = text.slice(1, -1);
  return body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g,
    (_m, e: string) => {
      switch (e.charAt(0)) {
        case 'x':
        case 'u':
        case 'U':
          return String.fromCodePoint(parseInt(e.slice(1), 16));
        case 'n':
          return '\n';
        case 't':
          return '\t';
        case 'r':
          return '\r';
        case 'a':
          return '\x07';
        case 'b':
          return '\b';
        case 'f':
          return '\f';
        case 'v':
          return '\v';
        case '\\':
          return '\\';
        case '"':
          return '"';
        case "'":
          return "'";
        default:
          if (/^[0-7]{3}$/.test(e)) return String.fromCharCode(parseInt(e, 8));
          throw new TemplateError(`invalid syntax: ${text}`);
      }
    },
  );
}

function numberValue(text: string): GoValue {
  const clean = text.replace(/_/g, '');
  const isHex = /^[+-]?0[xX]/.test(clean);
  if (/^[+-]?0[bBoOxX]/.test(clean)) {
    const neg = clean.startsWith('-');
    const body = clean.replace(/^[+-]/, '');
    const n = Number(body);
    return neg ? -n : n;
  }
  const n = Number(clean);
  if (!isHex && /[.eE]/.test(clean)) return new GoFloat(n);
  // Legacy octal: a leading 0 followed by digits.
  if (/^[+-]?0[0-7]+$/.test(clean))
    return (clean.startsWith('-') ? -1 : 1) * parseInt(clean.replace(/^[+-]/, ''), 8);
  return n;
}

export type FuncLookup = (name: string) => boolean;

class Parser {
  private i = 0;
  private readonly trees = new Map<string, Node[]>();
  private vars: string[][] = [];
  private rangeDepth = 0;
  private lastNamePos = 0;

  constructor(
    private readonly toks: Tok[],
    private readonly text: string,
    private readonly name: string,
    private readonly hasFunc: FuncLookup,
  ) {}

  private fail(pos: number, msg: string): never {
    throw failureAt(this.name, this.text, pos, msg);
  }

  private peek(): Tok {
    return this.toks[this.i] as Tok;
  }

  private next(): Tok {
    return this.toks[this.i++] as Tok;
  }

  private peekNonSpace(): Tok {
    while (this.peek().k === 'space') this.i++;
    return this.peek();
  }

  private nextNonSpace(): Tok {
    this.peekNonSpace();
    return this.next();
  }

  parse(): ParsedSet {
    this.vars = [['$']];
    const [body, endTok] = this.list(true);
    if (endTok !== null) this.fail(endTok.pos, `unexpected {{${endTok.v}}}`);
    // Go: a template made only of definitions and space does not replace an earlier body.
    if (!this.trees.has(this.name) || body.some((n) => n.t !== 'text' || n.text.trim() !== '')) {
      this.trees.set(this.name, body);
    }
    return { name: this.name, text: this.text, trees: this.trees };
  }

  /** Items until `{{end}}`/`{{else ...}}` (returned as the keyword token) or EOF (top level only). */
  private list(top: boolean): [Node[], Tok | null] {
    const out: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.k === 'eof') {
        if (!top) this.fail(t.pos, 'unexpected EOF');
        return [out, null];
      }
      if (t.k === 'text') {
        out.push({ t: 'text', text: t.v });
        continue;
      }
      // t is `{{`
      const k = this.peekNonSpace();
      if (k.k === 'keyword') {
        switch (k.v) {
          case 'end':
          case 'else':
            this.next();
            if (top) this.fail(k.pos, `unexpected {{${k.v}}}`);
            return [out, k];
          case 'if':
          case 'with':
          case 'range':
            this.next();
            out.push(this.control(k.v, k.pos));
            continue;
          case 'template':
            this.next();
            out.push(this.templateCall(k.pos));
            continue;
          case 'define':
            this.next();
            if (!top) this.fail(k.pos, 'unexpected <define> in command');
            this.define();
            continue;
          case 'block': {
            this.next();
            const node = this.templateCall(k.pos, true);
            out.push(node);
            continue;
          }
          case 'break':
          case 'continue': {
            this.next();
            if (this.rangeDepth === 0) this.fail(k.pos, `{{${k.v}}} outside {{range}}`);
            const r = this.nextNonSpace();
            if (r.k !== 'right') this.fail(r.pos, `unexpected ${describe(r)} in {{${k.v}}}`);
            out.push({ t: k.v, pos: k.pos });
            continue;
          }
          default:
            break;
        }
      }
      const pipe = this.pipeline('command', true);
      out.push({ t: 'action', pipe, pos: pipe.pos });
    }
  }

  private control(kind: 'if' | 'with' | 'range', pos: number): Node {
    this.vars.push([]);
    const pipe = this.pipeline(kind, true);
    if (pipe.cmds.length === 0) this.fail(pos, `missing value for ${kind}`);
    if (kind === 'range') this.rangeDepth++;
    const [list, stop] = this.list(false);
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | null = null;
    if (stop?.v === 'else') {
      const nxt = this.peekNonSpace();
      if ((kind === 'if' && nxt.v === 'if') || (kind === 'with' && nxt.v === 'with')) {
        // `{{else if x}}` / `{{else with x}}`: a nested control sharing this one's `{{end}}`.
        this.next();
        elseList = [this.control(kind, nxt.pos)];
        this.vars.pop();
        return { t: kind, pipe, list, elseList, pos };
      }
      const r = this.nextNonSpace();
      if (r.k !== 'right') this.fail(r.pos, `unexpected ${describe(r)} in else`);
      const [el, stop2] = this.list(false);
      if (stop2?.v !== 'end') this.fail(stop2?.pos ?? pos, 'expected end; found {{else}}');
      elseList = el;
      this.expectRight('end');
    } else {
      this.expectRight('end');
    }
    this.vars.pop();
    return { t: kind, pipe, list, elseList, pos };
  }

  private expectRight(context: string): void {
    const r = this.nextNonSpace();
    if (r.k !== 'right') this.fail(r.pos, `unexpected ${describe(r)} in ${context}`);
  }

  private templateName(context: string): string {
    const t = this.nextNonSpace();
    this.lastNamePos = t.pos;
    if (t.k !== 'string' && t.k !== 'raw')
      this.fail(t.pos, `unexpected ${describe(t)} in ${context}`);
    return unquote(t.v);
  }

  private templateCall(pos: number, block = false): Node {
    const context = block ? 'block clause' : 'template clause';
    const name = this.templateName(context);
    const namePos = this.lastNamePos;
    let pipe: Pipe | null = null;
    if (this.peekNonSpace().k !== 'right') pipe = this.pipeline(context, false);
    else this.next();
    if (block) {
      if (pipe === null) this.fail(pos, 'missing value for block clause');
      const saved = this.vars;
      this.vars = [['$']];
      const [body, stop] = this.list(false);
      if (stop?.v !== 'end') this.fail(pos, 'unexpected {{else}} in block');
      this.expectRight('end');
      this.vars = saved;
      this.trees.set(name, body);
    }
    return { t: 'template', name, pipe, pos: block ? pos : namePos };
  }

  private define(): void {
    const name = this.templateName('define clause');
    this.expectRight('define clause');
    const saved = this.vars;
    const savedRange = this.rangeDepth;
    this.vars = [['$']];
    this.rangeDepth = 0;
    const [body, stop] = this.list(false);
    if (stop?.v !== 'end') this.fail(stop?.pos ?? 0, 'unexpected {{else}} in define');
    this.expectRight('end');
    this.vars = saved;
    this.rangeDepth = savedRange;
    this.trees.set(name, body);
  }

  private hasVar(name: string): boolean {
    for (const scope of this.vars) if (scope.includes(name)) return true;
    return false;
  }

  /** A pipeline up to `}}` (or `)` when `inParen`); declarations allowed when `decl`. */
  private pipeline(context: string, decl: boolean, inParen = false): Pipe {
    const start = this.peekNonSpace();
    const pipe: Pipe = { decl: [], isAssign: false, cmds: [], pos: start.pos };
    if (decl && start.k === 'var') this.declarations(pipe, context);
    this.commands(pipe, context, inParen);
    if (pipe.cmds.length === 0 && context === 'command')
      this.fail(start.pos, 'missing value for command');
    // Go: non-executable commands may only start a pipeline.
    for (let c = 1; c < pipe.cmds.length; c++) {
      const first = pipe.cmds[c]?.args[0];
      if (first && ['bool', 'dot', 'nil', 'number', 'string'].includes(first.t)) {
        this.fail(first.pos, `non executable command in pipeline stage ${c + 1}`);
      }
    }
    return pipe;
  }

  /**
   * `$x :=`, `$x =`, or (range) `$i, $e :=` at the start of `pipe`: recorded and declared when
   * present, else the tokens are left for the commands.
   */
  private declarations(pipe: Pipe, context: string): void {
    const startPos = this.peekNonSpace().pos;
    const save = this.i;
    const names: string[] = [];
    let ok = false;
    for (;;) {
      const v = this.nextNonSpace();
      if (v.k !== 'var') break;
      names.push(v.v);
      const op = this.nextNonSpace();
      if (op.k === 'declare' || op.k === 'assign') {
        ok = true;
        pipe.isAssign = op.k === 'assign';
        break;
      }
      if (op.k === 'comma' && context === 'range' && names.length < 2) continue;
      break;
    }
    if (!ok) {
      this.i = save;
      return;
    }
    pipe.decl = names;
    if (pipe.isAssign) {
      for (const n of names) if (!this.hasVar(n)) this.fail(startPos, `undefined variable "${n}"`);
    } else {
      this.vars[this.vars.length - 1]?.push(...names);
    }
  }

  /** The commands of `pipe`, separated by `|`, up to and including its closing token. */
  private commands(pipe: Pipe, context: string, inParen: boolean): void {
    for (;;) {
      const t = this.peekNonSpace();
      if ((t.k === 'right' && !inParen) || (t.k === 'rparen' && inParen)) {
        this.next();
        return;
      }
      if (t.k === 'right' || t.k === 'rparen' || t.k === 'eof') {
        this.fail(
          t.pos,
          `unexpected ${describe(t)} in ${inParen ? 'parenthesized pipeline' : context}`,
        );
      }
      pipe.cmds.push(this.command(context, inParen));
      const sep = this.peekNonSpace();
      if (sep.k === 'pipe') {
        this.next();
        if (this.peekNonSpace().k === 'right' || this.peekNonSpace().k === 'rparen') {
          this.fail(sep.pos, 'missing command');
        }
      }
    }
  }

  private command(context: string, inParen: boolean): Cmd {
    const start = this.peekNonSpace();
    const cmd: Cmd = { args: [], pos: start.pos };
    for (;;) {
      const t = this.peek();
      if (t.k === 'space') {
        this.next();
        continue;
      }
      if (t.k === 'right' || t.k === 'pipe' || (t.k === 'rparen' && inParen)) break;
      if (t.k === 'rparen') this.fail(t.pos, 'unexpected right paren');
      const operand = this.operand(context, inParen);
      cmd.args.push(operand);
      const after = this.peek();
      if (
        after.k !== 'space' &&
        after.k !== 'right' &&
        after.k !== 'pipe' &&
        after.k !== 'rparen'
      ) {
        this.fail(after.pos, `unexpected ${describe(after)} in operand`);
      }
    }
    if (cmd.args.length === 0) this.fail(start.pos, 'empty command');
    return cmd;
  }

  private operand(context: string, inParen: boolean): Arg {
    let node = this.term(context, inParen);
    if (this.peek().k === 'field') {
      const chainPos = this.peek().pos;
      const idents: string[] = [];
      while (this.peek().k === 'field') idents.push(this.next().v.slice(1));
      switch (node.t as string) {
        case 'field':
        case 'var':
          node = {
            ...(node as Extract<Arg, { t: 'field' | 'var' }>),
            pos: chainPos,
            idents: [...(node as Extract<Arg, { t: 'field' | 'var' }>).idents, ...idents],
          };
          break;
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.fail(node.pos, `unexpected . after term ${JSON.stringify(argString(node))}`);
          break;
        default:
          node = { t: 'chain', node, idents, pos: chainPos };
      }
    }
    return node;
  }

  private term(context: string, _inParen: boolean): Arg {
    const t = this.next();
    switch (t.k as string) {
      case 'ident':
        if (!this.hasFunc(t.v)) this.fail(t.pos, `function ${JSON.stringify(t.v)} not defined`);
        return { t: 'func', name: t.v, pos: t.pos };
      case 'dot':
        return { t: 'dot', pos: t.pos };
      case 'nil':
        return { t: 'nil', pos: t.pos };
      case 'var':
        if (!this.hasVar(t.v)) this.fail(t.pos, `undefined variable ${JSON.stringify(t.v)}`);
        return { t: 'var', name: t.v, idents: [], pos: t.pos };
      case 'field':
        return { t: 'field', idents: [t.v.slice(1)], pos: t.pos };
      case 'bool':
        return { t: 'bool', v: t.v === 'true', pos: t.pos };
      case 'number':
        return { t: 'number', v: numberValue(t.v), text: t.v, pos: t.pos };
      case 'char': {
        const ch = unquote(`"${t.v.slice(1, -1).replace(/"/g, '\\"')}"`);
        return { t: 'number', v: ch.codePointAt(0) ?? 0, text: t.v, pos: t.pos };
      }
      case 'string':
      case 'raw':
        return { t: 'string', v: unquote(t.v), text: t.v, pos: t.pos };
      case 'lparen': {
        const pipe = this.pipeline(context, false, true);
        return { t: 'pipe', pipe, pos: t.pos };
      }
      default:
        this.fail(t.pos, `unexpected ${describe(t)} in ${context}`);
    }
  }
}

function describe(t: Tok): string {
  switch (t.k as string) {
    case 'eof':
      return 'EOF';
    case 'right':
      return '"}}"';
    case 'rparen':
      return '")"';
    case 'keyword':
      return `<${t.v}>`;
    default:
      return JSON.stringify(t.v);
  }
}

/** A node's text as Go's `String()` prints it (error contexts). */
export function argString(a: Arg): string {
  switch (a.t) {
    case 'field':
      return `.${a.idents.join('.')}`;
    case 'var':
      return [a.name, ...a.idents].join('.');
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(a.v);
    case 'number':
    case 'string':
      return a.text;
    case 'func':
      return a.name;
    case 'chain':
      return `${argString(a.node)}.${a.idents.join('.')}`;
    case 'pipe':
      return `(${pipeString(a.pipe)})`;
  }
}

export function cmdString(c: Cmd): string {
  return c.args.map(argString).join(' ');
}

export function pipeString(p: Pipe): string {
  const decl = p.decl.length > 0 ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return decl + p.cmds.map(cmdString).join(' | ');
}

/** Parses one template text (with its `define`s) under `name`. */
export function parseTemplate(name: string, text: string, hasFunc: FuncLookup): ParsedSet {
  const lexer = new Lexer(text, name);
  return new Parser(lexer.toks, text, name, hasFunc).parse();
}
