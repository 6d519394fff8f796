/**
 * The evaluator: walks a parsed template over a data value with Go text/template's semantics
 * (https://pkg.go.dev/text/template), under Go's default missing-key option (`missingkey=default`,
 * which istiod uses: it parses with `template.New("inject").Funcs(...).Parse(text)` and sets no
 * Option), so a missing map key reads as the invalid value and prints `<no value>`.
 */
import {
  argString,
  pipeString,
  cmdString,
  TemplateError,
  type Arg,
  type Cmd,
  type Node,
  type ParsedSet,
  type Pipe,
} from './parse.js';
import {
  formatValue,
  goTypeName,
  GoEnum,
  GoStruct,
  isGoMap,
  isTrue,
  StrMap,
  type GoValue,
} from './value.js';

/**
 * How a Go function parameter receives a value. `value` is a raw `reflect.Value` (builtins such
 * as `and`, `eq`, `index`, which see invalid values as they are); `any` is `interface{}`.
 */
export type ParamKind =
  | 'value'
  | 'any'
  | 'string'
  | 'int'
  | 'bool'
  | 'strmap'
  | 'slice'
  | 'map'
  | `struct:${string}`
  | `structs:${string}`;

export interface GoFunc {
  readonly params: readonly ParamKind[];
  readonly variadic?: ParamKind;
  /** Throws an Error whose message becomes `error calling NAME: MESSAGE`. */
  readonly call: (args: GoValue[]) => GoValue;
}

export type FuncMap = ReadonlyMap<string, GoFunc>;

type TemplateNode = Extract<Node, { t: 'template' }>;

function templateCallString(node: TemplateNode): string {
  return `{{template ${JSON.stringify(node.name)}${node.pipe ? ` ${pipeString(node.pipe)}` : ''}}}`;
}

const NOFINAL: unique symbol = Symbol('no final value');
type Final = GoValue | typeof NOFINAL;

const MAX_DEPTH = 1000;

const enum Flow {
  Normal,
  Break,
  Continue,
}

class ExecError extends Error {}

class State {
  readonly out: string[] = [];
  vars: { name: string; value: GoValue }[] = [];
  depth = 0;
  tmplName: string;
  pos = 0;
  /** What an error names; a template call's text is built only when an error needs it. */
  context: string | Arg | Cmd | TemplateNode = '';

  constructor(
    readonly set: ParsedSet,
    readonly funcs: FuncMap,
  ) {
    this.tmplName = set.name;
  }

  private location(): string {
    const text = this.set.text;
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < this.pos && i < text.length; i++) {
      if (text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return `${this.set.name}:${line}:${this.pos - lineStart}`;
  }

  fail(msg: string): never {
    const c = this.context;
    let ctx =
      typeof c === 'string'
        ? c
        : Object.hasOwn(c, 'args')
          ? cmdString(c as Cmd)
          : (c as { t: string }).t === 'template'
            ? templateCallString(c as TemplateNode)
            : argString(c as Arg);
    if (ctx.length > 20) ctx = `${ctx.slice(0, 20)}...`;
    throw new ExecError(
      `template: ${this.location()}: executing ${JSON.stringify(this.tmplName)} at <${ctx}>: ${msg}`,
    );
  }

  at(pos: number, context: string | Arg | Cmd | TemplateNode): void {
    this.pos = pos;
    this.context = context;
  }

  lookupVar(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) return v.value;
    }
    this.fail(`undefined variable: ${name}`);
  }

  setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  walk(dot: GoValue, list: readonly Node[]): Flow {
    for (const node of list) {
      const flow = this.walkNode(dot, node);
      if (flow !== Flow.Normal) return flow;
    }
    return Flow.Normal;
  }

  private walkNode(dot: GoValue, node: Node): Flow {
    switch (node.t) {
      case 'text':
        this.out.push(node.text);
        return Flow.Normal;
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.out.push(printable(v));
        return Flow.Normal;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, node.pipe);
        let flow = Flow.Normal;
        if (isTrue(v)) flow = this.walk(node.t === 'with' ? v : dot, node.list);
        else if (node.elseList) flow = this.walk(dot, node.elseList);
        this.vars.length = mark;
        return flow;
      }
      case 'range':
        return this.walkRange(dot, node);
      case 'template':
        return this.walkTemplate(dot, node);
      case 'break':
        return Flow.Break;
      case 'continue':
        return Flow.Continue;
    }
  }

  private walkRange(dot: GoValue, node: Extract<Node, { t: 'if' | 'with' | 'range' }>): Flow {
    const mark = this.vars.length;
    const { decl, isAssign } = node.pipe;
    const v = this.evalPipeline(dot, node.pipe, false);
    const items = this.rangeItems(v, decl.length, node.pos);
    if (items.length === 0) {
      const flow = node.elseList ? this.walk(dot, node.elseList) : Flow.Normal;
      this.vars.length = mark;
      return flow === Flow.Break || flow === Flow.Continue ? Flow.Normal : flow;
    }
    if (!isAssign) for (const name of decl) this.vars.push({ name, value: null });
    const bodyMark = this.vars.length;
    for (const [index, elem] of items) {
      this.assignRangeVars(decl, index, elem, isAssign);
      const flow = this.walk(elem, node.list);
      this.vars.length = bodyMark;
      if (flow === Flow.Break) break;
    }
    this.vars.length = mark;
    return Flow.Normal;
  }

  /** The (index or key, element) pairs Go's range visits, maps in key order. */
  private rangeItems(v: GoValue | undefined, vars: number, pos: number): [GoValue, GoValue][] {
    const items: [GoValue, GoValue][] = [];
    if (v === undefined) {
      // Go: an invalid value (a missing key) ranges over nothing.
    } else if (Array.isArray(v)) {
      (v as readonly GoValue[]).forEach((e, i) => items.push([i, e]));
    } else if (v instanceof StrMap) {
      for (const k of Object.keys(v.entries).sort()) items.push([k, v.entries[k]]);
    } else if (isGoMap(v)) {
      for (const k of Object.keys(v).sort()) items.push([k, v[k] ?? null]);
    } else if (typeof v === 'number') {
      if (vars > 1) {
        this.at(pos, 'range');
        this.fail(`can't use ${v} to iterate over more than one variable`);
      }
      for (let i = 0; i < v; i++) items.push([i, i]);
    } else {
      this.at(pos, 'range');
      this.fail(`range can't iterate over ${formatValue(v)}`);
    }
    return items;
  }

  /** `{{range $e := ...}}` binds the element; `{{range $i, $e := ...}}` the index and element. */
  private assignRangeVars(
    decl: readonly string[],
    index: GoValue,
    elem: GoValue,
    isAssign: boolean,
  ): void {
    if (decl.length === 1) this.assignRangeVar(decl[0] ?? '', elem, isAssign);
    else if (decl.length === 2) {
      this.assignRangeVar(decl[0] ?? '', index, isAssign);
      this.assignRangeVar(decl[1] ?? '', elem, isAssign);
    }
  }

  private assignRangeVar(name: string, value: GoValue, isAssign: boolean): void {
    if (isAssign) {
      this.setVar(name, value);
      return;
    }
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
  }

  private walkTemplate(dot: GoValue, node: TemplateNode): Flow {
    this.at(node.pos, node);
    const tree = this.set.trees.get(node.name);
    if (tree === undefined) this.fail(`template ${JSON.stringify(node.name)} not defined`);
    if (this.depth >= MAX_DEPTH) this.fail(`exceeded maximum template depth (${MAX_DEPTH})`);
    const newDot = node.pipe ? this.evalPipeline(dot, node.pipe) : null;
    const savedVars = this.vars;
    const savedName = this.tmplName;
    this.vars = [{ name: '$', value: newDot }];
    this.tmplName = node.name;
    this.depth++;
    this.walk(newDot, tree);
    this.depth--;
    this.vars = savedVars;
    this.tmplName = savedName;
    return Flow.Normal;
  }

  /** `declare` false: the pipeline's variables are left to the caller (range declares its own). */
  evalPipeline(dot: GoValue, pipe: Pipe, declare = true): GoValue {
    let value: Final = NOFINAL;
    for (const cmd of pipe.cmds) {
      let v = this.evalCommand(dot, cmd, value);
      // Go digs one level into an interface{} result: a nil interface becomes the invalid value.
      if (v === null) v = undefined;
      value = v;
    }
    const result = value === NOFINAL ? undefined : value;
    if (declare && pipe.decl.length > 0) {
      for (const name of pipe.decl) {
        if (pipe.isAssign) this.setVar(name, result);
        else this.vars.push({ name, value: result });
      }
    }
    return result;
  }

  private evalCommand(dot: GoValue, cmd: Cmd, final: Final): GoValue {
    const first = cmd.args[0] as Arg;
    this.at(first.pos, cmd);
    switch (first.t) {
      case 'field':
        this.at(first.pos, first);
        return this.evalFieldChain(dot, dot, first.idents, cmd.args, final);
      case 'chain': {
        const recv = this.evalArgValue(dot, first.node);
        if (first.node.t === 'func') {
          // Go: a chain on a function call evaluates the call first.
        }
        return this.evalFieldChain(dot, recv, first.idents, cmd.args, final);
      }
      case 'func':
        return this.evalFunction(dot, first.name, cmd, final);
      case 'var': {
        const v = this.lookupVar(first.name);
        if (first.idents.length === 0) {
          this.notAFunction(cmd, final);
          return v;
        }
        return this.evalFieldChain(dot, v, first.idents, cmd.args, final);
      }
      case 'pipe':
        this.notAFunction(cmd, final);
        return this.evalPipeline(dot, first.pipe);
      case 'nil':
        this.fail('nil is not a command');
        break;
      case 'dot':
        this.notAFunction(cmd, final);
        return dot;
      case 'bool':
      case 'number':
      case 'string':
        this.notAFunction(cmd, final);
        return first.v;
    }
  }

  private notAFunction(cmd: Cmd, final: Final): void {
    if (cmd.args.length > 1 || final !== NOFINAL) {
      this.fail(`can't give argument to non-function ${argString(cmd.args[0] as Arg)}`);
    }
  }

  private evalFieldChain(
    dot: GoValue,
    receiver: GoValue,
    idents: readonly string[],
    args: readonly Arg[],
    final: Final,
  ): GoValue {
    let r = receiver;
    const n = idents.length;
    // A value read out of a map[string]any has static type interface {} (Go's error wording).
    let iface = false;
    for (let i = 0; i < n - 1; i++) {
      const fromMap = isGoMap(r);
      r = this.evalField(idents[i] ?? '', [], NOFINAL, r, iface);
      iface = fromMap;
    }
    return this.evalField(idents[n - 1] ?? '', args, final, r, iface);
  }

  private evalField(
    name: string,
    args: readonly Arg[],
    final: Final,
    receiver: GoValue,
    iface = false,
  ): GoValue {
    if (receiver === undefined) return undefined;
    const hasArgs = args.length > 1 || final !== NOFINAL;
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    if (receiver instanceof GoStruct) return this.structField(name, args, hasArgs, receiver);
    if (receiver instanceof StrMap) {
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      return receiver.get(name);
    }
    if (receiver instanceof GoEnum && name === 'String') {
      if (hasArgs) this.fail(`wrong number of args for ${name}: want 0 got ${args.length - 1}`);
      return receiver.name;
    }
    if (isGoMap(receiver)) {
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      return Object.hasOwn(receiver, name) ? receiver[name] : undefined;
    }
    this.fail(
      `can't evaluate field ${name} in type ${iface ? 'interface {}' : goTypeName(receiver)}`,
    );
  }

  /** A method (called without arguments) or a field of a struct. */
  private structField(
    name: string,
    args: readonly Arg[],
    hasArgs: boolean,
    receiver: GoStruct,
  ): GoValue {
    const method = receiver.type.methods?.[name];
    if (method !== undefined) {
      if (hasArgs) this.fail(`wrong number of args for ${name}: want 0 got ${args.length - 1}`);
      return method(receiver);
    }
    if (receiver.isNil && Object.hasOwn(receiver.fields, name)) {
      this.fail(`nil pointer evaluating ${receiver.type.name}.${name}`);
    }
    if (Object.hasOwn(receiver.fields, name)) {
      if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`);
      return receiver.fields[name];
    }
    this.fail(`can't evaluate field ${name} in type ${receiver.type.name}`);
  }

  private evalFunction(dot: GoValue, name: string, cmd: Cmd, final: Final): GoValue {
    const fn = this.funcs.get(name);
    if (fn === undefined) this.fail(`"${name}" is not a defined function`);
    // The arguments are cmd.args[1..]; counted without copying them out.
    const all = cmd.args;
    const nargs = all.length - 1;
    // Go 1.18+: `and` and `or` evaluate their arguments only as far as needed.
    if (name === 'and' || name === 'or') {
      const total = nargs + (final === NOFINAL ? 0 : 1);
      if (total < 1) this.fail(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: GoValue = undefined;
      for (let i = 0; i < total; i++) {
        const a = all[i + 1];
        v = a === undefined ? (final as GoValue) : this.evalArgValue(dot, a);
        if (isTrue(v) !== (name === 'and')) return v;
      }
      return v;
    }
    const numIn = nargs + (final === NOFINAL ? 0 : 1);
    const fixed = fn.params.length;
    if (fn.variadic !== undefined) {
      if (numIn < fixed)
        this.fail(`wrong number of args for ${name}: want at least ${fixed} got ${numIn}`);
    } else if (numIn !== fixed) {
      this.fail(`wrong number of args for ${name}: want ${fixed} got ${numIn}`);
    }
    const argv: GoValue[] = [];
    for (let i = 0; i < nargs; i++) {
      const kind = (i < fixed ? fn.params[i] : fn.variadic) as ParamKind;
      argv.push(this.evalArg(dot, kind, all[i + 1] as Arg));
    }
    if (final !== NOFINAL) {
      const kind = (argv.length < fixed ? fn.params[argv.length] : fn.variadic) as ParamKind;
      argv.push(this.convert(final, kind));
    }
    try {
      return fn.call(argv);
    } catch (e) {
      if (e instanceof ExecError) throw e;
      this.at(cmd.pos, cmd);
      this.fail(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The value of an argument node, with no parameter type to fit (Go's evalEmptyInterface). */
  private evalArgValue(dot: GoValue, a: Arg): GoValue {
    switch (a.t) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'bool':
      case 'number':
      case 'string':
        return a.v;
      case 'field':
        this.at(a.pos, a);
        return this.evalFieldChain(dot, dot, a.idents, [a], NOFINAL);
      case 'var': {
        this.at(a.pos, a);
        const v = this.lookupVar(a.name);
        return a.idents.length === 0 ? v : this.evalFieldChain(dot, v, a.idents, [a], NOFINAL);
      }
      case 'chain': {
        const recv = this.evalArgValue(dot, a.node);
        this.at(a.pos, a);
        return this.evalFieldChain(dot, recv, a.idents, [a], NOFINAL);
      }
      case 'pipe':
        return this.evalPipeline(dot, a.pipe);
      case 'func':
        return this.evalFunction(dot, a.name, { args: [a], pos: a.pos }, NOFINAL);
    }
  }

  private evalArg(dot: GoValue, kind: ParamKind, a: Arg): GoValue {
    this.at(a.pos, a);
    if (a.t === 'nil') {
      if (kind === 'value' || kind === 'any' || kind === 'slice' || kind === 'map') return null;
      if (kind === 'strmap') return new StrMap({}, true);
      this.fail(`cannot assign nil to ${kindName(kind)}`);
    }
    if (a.t === 'bool' || a.t === 'number' || a.t === 'string') {
      if (kind === 'value' || kind === 'any') return a.v;
      if (
        (kind === 'string' && a.t === 'string') ||
        (kind === 'bool' && a.t === 'bool') ||
        (kind === 'int' && a.t === 'number' && typeof a.v === 'number')
      ) {
        return a.v;
      }
      this.fail(`expected ${kind === 'int' ? 'integer' : kindName(kind)}; found ${argString(a)}`);
    }
    const v = this.evalArgValue(dot, a);
    this.at(a.pos, a);
    return this.convert(v, kind);
  }

  /** Go's validateType: fits a value to a parameter, or fails as Go does. */
  private convert(v: GoValue, kind: ParamKind): GoValue {
    const fitted = fit(v, kind);
    if (fitted !== NO_FIT) return fitted;
    if (v === undefined) this.fail(`invalid value; expected ${kindName(kind)}`);
    this.fail(`wrong type for value; expected ${kindName(kind)}; got ${goTypeName(v)}`);
  }
}

/** What fit answers for a value that does not fit the parameter. */
const NO_FIT: unique symbol = Symbol('no fit');

const isNil = (v: GoValue): boolean => v === undefined || v === null;

/** The value a parameter of `kind` receives for `v` (Go's validateType), or NO_FIT. */
function fit(v: GoValue, kind: ParamKind): GoValue | typeof NO_FIT {
  switch (kind) {
    case 'value':
      return v;
    case 'any':
      return v === undefined ? null : v;
    case 'strmap':
      if (v instanceof StrMap) return v;
      return isNil(v) ? new StrMap({}, true) : NO_FIT;
    case 'slice':
      if (Array.isArray(v)) return v as GoValue;
      return isNil(v) ? null : NO_FIT;
    case 'map':
      if (isGoMap(v)) return v;
      return isNil(v) ? null : NO_FIT;
    case 'string':
      return typeof v === 'string' ? v : NO_FIT;
    case 'int':
      return typeof v === 'number' ? v : NO_FIT;
    case 'bool':
      return typeof v === 'boolean' ? v : NO_FIT;
    default:
      return fitStruct(v, kind);
  }
}

/** `structs:T` takes a list of T (nil: an empty one); `struct:T` a T, or nil for a pointer type. */
function fitStruct(
  v: GoValue,
  kind: `structs:${string}` | `struct:${string}`,
): GoValue | typeof NO_FIT {
  if (kind.startsWith('structs:')) {
    if (Array.isArray(v)) return v as GoValue;
    return isNil(v) ? [] : NO_FIT;
  }
  if (v instanceof GoStruct && typeNameMatches(v.type.name, kind.slice(7))) return v;
  return isNil(v) && kind.slice(7).startsWith('*') ? null : NO_FIT;
}

function typeNameMatches(actual: string, wanted: string): boolean {
  return actual === wanted || actual === wanted.replace(/^\*/, '') || `*${actual}` === wanted;
}

function kindName(kind: ParamKind): string {
  switch (kind) {
    case 'value':
    case 'any':
      return 'interface {}';
    case 'strmap':
      return 'map[string]string';
    case 'slice':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    case 'string':
    case 'int':
    case 'bool':
      return kind;
    default:
      return kind.startsWith('structs:') ? `[]${kind.slice(8)}` : kind.slice(7);
  }
}

/** What an action prints: Go's printableValue then fmt.Fprint. */
function printable(v: GoValue): string {
  if (v instanceof GoStruct && v.isNil) return '<nil>';
  return formatValue(v, false);
}

/** Executes template `name` (default: the set's main body) of a parsed set over `data`. */
export function execute(set: ParsedSet, funcs: FuncMap, data: GoValue, name = set.name): string {
  const state = new State(set, funcs);
  const tree = set.trees.get(name);
  if (tree === undefined) {
    throw new TemplateError(
      `template: no template ${JSON.stringify(name)} associated with template ${JSON.stringify(set.name)}`,
    );
  }
  state.tmplName = name;
  state.vars = [{ name: '$', value: data }];
  try {
    state.walk(data, tree);
  } catch (e) {
    if (e instanceof ExecError) throw new TemplateError(e.message);
    if (e instanceof RangeError) throw new TemplateError(`template: ${set.name}: ${e.message}`);
    throw e;
  }
  return state.out.join('');
}
