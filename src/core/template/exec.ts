/**
 * The executor: compiles a parsed template set once into closures, then runs them over a data
 * value with Go text/template's semantics (https://pkg.go.dev/text/template), under Go's default
 * missing-key option (`missingkey=default`, which istiod uses: it parses with
 * `template.New("inject").Funcs(...).Parse(text)` and sets no Option), so a missing map key reads
 * as the invalid value and prints `<no value>`.
 *
 * What compiling settles once per configuration instead of per node and pod: each node's kind
 * (one closure per node, no dispatch), field chains (one accessor per name), function lookups
 * and argument counts (bound to the function), parameter kinds of literal arguments, adjacent
 * texts and constant actions (one string), and which lists can stop at `{{break}}` or
 * `{{continue}}`. What Go decides at run time stays at run time: a wrong argument count or type
 * still fails only when that action runs, with Go's wording. Each closure records where it is
 * (`Run.at`) at the same steps Go's executor does, so an error names the same position and node.
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
  type GoMethod,
  type GoStructType,
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
type ControlNode = Extract<Node, { t: 'if' | 'with' | 'range' }>;

function templateCallString(node: TemplateNode): string {
  return `{{template ${JSON.stringify(node.name)}${node.pipe ? ` ${pipeString(node.pipe)}` : ''}}}`;
}

const MAX_DEPTH = 1000;

const enum Flow {
  Normal,
  Break,
  Continue,
}

class ExecError extends Error {}

/** What an error names: a node, its text built only when an error needs it. */
type Context = string | Arg | Cmd | TemplateNode;

/** The state of one execution: output, variables, the current template and position. */
class Run {
  out = '';
  /** Variables: names and values, `n` in use; lookups see `base..n-1` (the current template's). */
  readonly names: string[] = [];
  readonly values: GoValue[] = [];
  n = 0;
  base = 0;
  depth = 0;
  tmplName: string;
  pos = 0;
  context: Context = '';

  constructor(readonly set: ParsedSet) {
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

  at(pos: number, context: Context): void {
    this.pos = pos;
    this.context = context;
  }

  push(name: string, value: GoValue): void {
    this.names[this.n] = name;
    this.values[this.n] = value;
    this.n++;
  }

  /** The innermost visible variable of that name, or -1. */
  private slotOf(name: string): number {
    for (let i = this.n - 1; i >= this.base; i--) {
      if (this.names[i] === name) return i;
    }
    return -1;
  }

  lookupVar(name: string): GoValue {
    const i = this.slotOf(name);
    if (i < 0) this.fail(`undefined variable: ${name}`);
    return this.values[i];
  }

  setVar(name: string, value: GoValue): void {
    const i = this.slotOf(name);
    if (i < 0) this.fail(`undefined variable: ${name}`);
    this.values[i] = value;
  }

  /** A range variable just declared: the innermost of that name, if any. */
  setIfDeclared(name: string, value: GoValue): void {
    const i = this.slotOf(name);
    if (i >= 0) this.values[i] = value;
  }

  /** Go's validateType: `fitted` (a fitter's answer for `v`), or fails as Go does. */
  fitted(fitted: GoValue | typeof NO_FIT, v: GoValue, kind: ParamKind): GoValue {
    if (fitted !== NO_FIT) return fitted;
    if (v === undefined) this.fail(`invalid value; expected ${kindName(kind)}`);
    this.fail(`wrong type for value; expected ${kindName(kind)}; got ${goTypeName(v)}`);
  }
}

/** A statement: runs over dot, says whether a `{{break}}` or `{{continue}}` stopped it. */
type Exec = (r: Run, dot: GoValue) => Flow;
/** A value (argument, pipeline). */
type Eval = (r: Run, dot: GoValue) => GoValue;
/** A command of a pipeline; `final` is the previous command's value (when it has one). */
type CmdEval = (r: Run, dot: GoValue, final: GoValue) => GoValue;
/** One field or method name of a chain, over its receiver (`prev`: the receiver's receiver). */
type FieldEval = (r: Run, receiver: GoValue, prev: GoValue | typeof NO_PREV) => GoValue;

const NO_PREV: unique symbol = Symbol('no previous receiver');

/** Compiles the trees of one parsed set; template calls find their bodies here. */
class Compiler {
  readonly bodies = new Map<string, Exec>();

  constructor(
    readonly set: ParsedSet,
    readonly funcs: FuncMap,
  ) {
    for (const [name, tree] of set.trees) this.bodies.set(name, this.list(tree));
  }

  // --- statements ------------------------------------------------------------------------------

  /** A node list: adjacent texts and constant actions joined into one string. */
  list(nodes: readonly Node[]): Exec {
    const steps: Exec[] = [];
    let text = '';
    for (const node of nodes) {
      const constant = constantText(node);
      if (constant !== undefined) {
        text += constant;
        continue;
      }
      if (text !== '') steps.push(textStep(text));
      text = '';
      steps.push(this.node(node));
    }
    if (text !== '') steps.push(textStep(text));
    return sequence(steps, nodes.some(canStop));
  }

  private node(node: Node): Exec {
    switch (node.t) {
      case 'text':
        return textStep(node.text);
      case 'action':
        return this.action(node.pipe);
      case 'if':
      case 'with':
        return this.ifWith(node);
      case 'range':
        return this.range(node);
      case 'template':
        return this.templateCall(node);
      case 'break':
        return () => Flow.Break;
      case 'continue':
        return () => Flow.Continue;
    }
  }

  private action(pipe: Pipe): Exec {
    const value = this.declaringPipe(pipe);
    if (pipe.decl.length > 0) {
      return (r, dot) => {
        value(r, dot);
        return Flow.Normal;
      };
    }
    return (r, dot) => {
      const v = value(r, dot);
      r.out += typeof v === 'string' ? v : printable(v);
      return Flow.Normal;
    };
  }

  private ifWith(node: ControlNode): Exec {
    const cond = this.declaringPipe(node.pipe);
    const body = this.list(node.list);
    const orElse = node.elseList ? this.list(node.elseList) : undefined;
    const isWith = node.t === 'with';
    return (r, dot) => {
      const mark = r.n;
      const v = cond(r, dot);
      let flow = Flow.Normal;
      if (isTrue(v)) flow = body(r, isWith ? v : dot);
      else if (orElse !== undefined) flow = orElse(r, dot);
      r.n = mark;
      return flow;
    };
  }

  private range(node: ControlNode): Exec {
    const over = this.pipe(node.pipe);
    const body = this.list(node.list);
    const orElse = node.elseList ? this.list(node.elseList) : undefined;
    const { decl, isAssign, pos } = node.pipe;
    const bind = rangeBinder(decl, isAssign);
    return (r, dot) => {
      const mark = r.n;
      const items = rangeItems(r, over(r, dot), decl.length, pos);
      if (items.keys.length === 0) {
        const flow = orElse !== undefined ? orElse(r, dot) : Flow.Normal;
        r.n = mark;
        return flow === Flow.Break || flow === Flow.Continue ? Flow.Normal : flow;
      }
      if (!isAssign) for (const name of decl) r.push(name, null);
      const bodyMark = r.n;
      const { keys, elems } = items;
      for (let i = 0; i < keys.length; i++) {
        const elem = elems[i];
        bind(r, keys[i], elem);
        const flow = body(r, elem);
        r.n = bodyMark;
        if (flow === Flow.Break) break;
      }
      r.n = mark;
      return Flow.Normal;
    };
  }

  private templateCall(node: TemplateNode): Exec {
    const arg = node.pipe ? this.declaringPipe(node.pipe) : undefined;
    const bodies = this.bodies;
    const name = node.name;
    return (r, dot) => {
      r.at(node.pos, node);
      const body = bodies.get(name);
      if (body === undefined) return r.fail(`template ${JSON.stringify(name)} not defined`);
      if (r.depth >= MAX_DEPTH) r.fail(`exceeded maximum template depth (${MAX_DEPTH})`);
      const newDot = arg !== undefined ? arg(r, dot) : null;
      const { n, base, tmplName } = r;
      r.base = n;
      r.push('$', newDot);
      r.tmplName = name;
      r.depth++;
      body(r, newDot);
      r.depth--;
      r.n = n;
      r.base = base;
      r.tmplName = tmplName;
      return Flow.Normal;
    };
  }

  // --- pipelines and commands ------------------------------------------------------------------

  /** A pipeline's value, declaring or assigning its variables. */
  private declaringPipe(pipe: Pipe): Eval {
    const value = this.pipe(pipe);
    const { decl, isAssign } = pipe;
    if (decl.length === 0) return value;
    return (r, dot) => {
      const v = value(r, dot);
      for (const name of decl) {
        if (isAssign) r.setVar(name, v);
        else r.push(name, v);
      }
      return v;
    };
  }

  /** A pipeline's value (the variables are left to the caller). */
  private pipe(pipe: Pipe): Eval {
    const cmds = pipe.cmds.map((cmd, i) => this.command(cmd, i > 0));
    const [first] = cmds;
    if (first === undefined) return () => undefined;
    // Go digs one level into an interface{} result: a nil interface becomes the invalid value.
    if (cmds.length === 1) {
      return (r, dot) => {
        const v = first(r, dot, undefined);
        return v === null ? undefined : v;
      };
    }
    return (r, dot) => {
      let v: GoValue = undefined;
      for (const cmd of cmds) {
        v = cmd(r, dot, v);
        if (v === null) v = undefined;
      }
      return v;
    };
  }

  private command(cmd: Cmd, hasFinal: boolean): CmdEval {
    const first = cmd.args[0] as Arg;
    const pos = first.pos;
    // Go: only a function or method takes arguments (or the previous command's value).
    const notAFunction =
      cmd.args.length > 1 || hasFinal
        ? `can't give argument to non-function ${argString(first)}`
        : undefined;
    switch (first.t) {
      case 'field': {
        const chain = this.fieldChain(first.idents, cmd.args.length, hasFinal);
        return (r, dot) => {
          r.at(pos, first);
          return chain(r, dot);
        };
      }
      case 'chain': {
        const receiver = this.argValue(first.node);
        const chain = this.fieldChain(first.idents, cmd.args.length, hasFinal);
        return (r, dot) => {
          r.at(pos, cmd);
          return chain(r, receiver(r, dot));
        };
      }
      case 'func': {
        const call = this.functionCall(first.name, cmd, hasFinal);
        return (r, dot, final) => {
          r.at(pos, cmd);
          return call(r, dot, final);
        };
      }
      case 'var':
        return this.varCommand(first, cmd, hasFinal, notAFunction);
      case 'pipe': {
        const inner = this.declaringPipe(first.pipe);
        return (r, dot) => {
          r.at(pos, cmd);
          if (notAFunction !== undefined) r.fail(notAFunction);
          return inner(r, dot);
        };
      }
      case 'nil':
        return (r) => {
          r.at(pos, cmd);
          r.fail('nil is not a command');
        };
      case 'dot':
        return (r, dot) => {
          r.at(pos, cmd);
          if (notAFunction !== undefined) r.fail(notAFunction);
          return dot;
        };
      case 'bool':
      case 'number':
      case 'string': {
        const v = first.v;
        return (r) => {
          r.at(pos, cmd);
          if (notAFunction !== undefined) r.fail(notAFunction);
          return v;
        };
      }
    }
  }

  private varCommand(
    first: Extract<Arg, { t: 'var' }>,
    cmd: Cmd,
    hasFinal: boolean,
    notAFunction: string | undefined,
  ): CmdEval {
    const { pos, name } = first;
    if (first.idents.length === 0) {
      return (r) => {
        r.at(pos, cmd);
        const v = r.lookupVar(name);
        if (notAFunction !== undefined) r.fail(notAFunction);
        return v;
      };
    }
    const chain = this.fieldChain(first.idents, cmd.args.length, hasFinal);
    return (r) => {
      r.at(pos, cmd);
      return chain(r, r.lookupVar(name));
    };
  }

  /**
   * `.A.B.C` over a receiver: one accessor per name; the last one receives the command's
   * arguments (`nargs` counts the command's operands, the chain included).
   */
  private fieldChain(
    idents: readonly string[],
    nargs: number,
    hasFinal: boolean,
  ): (r: Run, receiver: GoValue) => GoValue {
    const steps = idents.map((name, i) =>
      i < idents.length - 1
        ? fieldStep(name, false, -1)
        : fieldStep(name, nargs > 1 || hasFinal, nargs - 1),
    );
    const [a, b] = steps;
    if (steps.length === 1 && a !== undefined) return (r, recv) => a(r, recv, NO_PREV);
    if (steps.length === 2 && a !== undefined && b !== undefined)
      return (r, recv) => b(r, a(r, recv, NO_PREV), recv);
    return (r, recv) => {
      let x = recv;
      let prev: GoValue | typeof NO_PREV = NO_PREV;
      for (const step of steps) {
        const next = step(r, x, prev);
        prev = x;
        x = next;
      }
      return x;
    };
  }

  private functionCall(name: string, cmd: Cmd, hasFinal: boolean): CmdEval {
    const fn = this.funcs.get(name);
    if (fn === undefined) {
      return (r) => r.fail(`"${name}" is not a defined function`);
    }
    const operands = cmd.args.slice(1);
    if (name === 'and' || name === 'or') return this.andOr(name, operands, hasFinal);
    const nargs = operands.length;
    const numIn = nargs + (hasFinal ? 1 : 0);
    const fixed = fn.params.length;
    const arity = arityError(fn, name, numIn);
    if (arity !== undefined) return (r) => r.fail(arity);
    const kindAt = (i: number) => (i < fixed ? fn.params[i] : fn.variadic) as ParamKind;
    const args = operands.map((a, i) => this.arg(kindAt(i), a));
    const finalKind = kindAt(nargs);
    const fitFinal = hasFinal ? fitter(finalKind) : NO_FITTER;
    const call = fn.call;
    return (r, dot, final) => {
      const argv: GoValue[] = [];
      for (let i = 0; i < nargs; i++) argv.push((args[i] as Eval)(r, dot));
      if (hasFinal) argv.push(r.fitted(fitFinal(final), final, finalKind));
      return invoke(r, call, argv, name, cmd);
    };
  }

  /** Go 1.18+: `and` and `or` evaluate their arguments only as far as needed. */
  private andOr(name: 'and' | 'or', operands: readonly Arg[], hasFinal: boolean): CmdEval {
    const args = operands.map((a) => this.argValue(a));
    const total = args.length + (hasFinal ? 1 : 0);
    const isAnd = name === 'and';
    return (r, dot, final) => {
      if (total < 1) r.fail(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: GoValue = undefined;
      for (let i = 0; i < total; i++) {
        const arg = args[i];
        v = arg === undefined ? final : arg(r, dot);
        if (isTrue(v) !== isAnd) return v;
      }
      return v;
    };
  }

  // --- arguments -------------------------------------------------------------------------------

  /** The value of an argument node, with no parameter type to fit (Go's evalEmptyInterface). */
  private argValue(a: Arg): Eval {
    switch (a.t) {
      case 'dot':
        return (_r, dot) => dot;
      case 'nil':
        return () => null;
      case 'bool':
      case 'number':
      case 'string': {
        const v = a.v;
        return () => v;
      }
      case 'field': {
        const chain = this.fieldChain(a.idents, 1, false);
        return (r, dot) => {
          r.at(a.pos, a);
          return chain(r, dot);
        };
      }
      case 'var': {
        const name = a.name;
        const chain = a.idents.length === 0 ? undefined : this.fieldChain(a.idents, 1, false);
        return (r) => {
          r.at(a.pos, a);
          const v = r.lookupVar(name);
          return chain === undefined ? v : chain(r, v);
        };
      }
      case 'chain': {
        const receiver = this.argValue(a.node);
        const chain = this.fieldChain(a.idents, 1, false);
        return (r, dot) => {
          const recv = receiver(r, dot);
          r.at(a.pos, a);
          return chain(r, recv);
        };
      }
      case 'pipe':
        return this.declaringPipe(a.pipe);
      case 'func': {
        const call = this.functionCall(a.name, { args: [a], pos: a.pos }, false);
        return (r, dot) => call(r, dot, undefined);
      }
    }
  }

  /** An argument fitted to a parameter of `kind`; a literal's fit is decided here, once. */
  private arg(kind: ParamKind, a: Arg): Eval {
    const pos = a.pos;
    const literal = literalArg(kind, a);
    if (literal !== undefined) {
      if (literal.error !== undefined) {
        const error = literal.error;
        return (r) => {
          r.at(pos, a);
          r.fail(error);
        };
      }
      const v = literal.value;
      // A nil map[string]string is a new value each time, as Go's zero map is per call.
      if (v instanceof StrMap) {
        return (r) => {
          r.at(pos, a);
          return new StrMap({}, true);
        };
      }
      return (r) => {
        r.at(pos, a);
        return v;
      };
    }
    const value = this.argValue(a);
    if (kind === 'value') {
      return (r, dot) => {
        r.at(pos, a);
        const v = value(r, dot);
        r.at(pos, a);
        return v;
      };
    }
    const fit = fitter(kind);
    return (r, dot) => {
      r.at(pos, a);
      const v = value(r, dot);
      r.at(pos, a);
      return r.fitted(fit(v), v, kind);
    };
  }
}

/** Calls a function; what it throws becomes Go's `error calling NAME: ...` at its command. */
function invoke(
  r: Run,
  call: (args: GoValue[]) => GoValue,
  argv: GoValue[],
  name: string,
  cmd: Cmd,
): GoValue {
  try {
    return call(argv);
  } catch (e) {
    if (e instanceof ExecError) throw e;
    r.at(cmd.pos, cmd);
    r.fail(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A literal or nil argument for a parameter of `kind`: its value, Go's error, or undefined. */
function literalArg(
  kind: ParamKind,
  a: Arg,
): { value: GoValue; error?: undefined } | { value?: undefined; error: string } | undefined {
  if (a.t === 'nil') {
    if (kind === 'value' || kind === 'any' || kind === 'slice' || kind === 'map')
      return { value: null };
    if (kind === 'strmap') return { value: new StrMap({}, true) };
    return { error: `cannot assign nil to ${kindName(kind)}` };
  }
  if (a.t !== 'bool' && a.t !== 'number' && a.t !== 'string') return undefined;
  if (kind === 'value' || kind === 'any') return { value: a.v };
  if (
    (kind === 'string' && a.t === 'string') ||
    (kind === 'bool' && a.t === 'bool') ||
    (kind === 'int' && a.t === 'number' && typeof a.v === 'number')
  ) {
    return { value: a.v };
  }
  return {
    error: `expected ${kind === 'int' ? 'integer' : kindName(kind)}; found ${argString(a)}`,
  };
}

function arityError(fn: GoFunc, name: string, numIn: number): string | undefined {
  const fixed = fn.params.length;
  if (fn.variadic !== undefined) {
    return numIn < fixed
      ? `wrong number of args for ${name}: want at least ${fixed} got ${numIn}`
      : undefined;
  }
  return numIn !== fixed
    ? `wrong number of args for ${name}: want ${fixed} got ${numIn}`
    : undefined;
}

/** One name of a field chain, as compiled. */
interface FieldName {
  readonly name: string;
  /** The command gives it arguments (an error unless a method took them, and none does). */
  readonly hasArgs: boolean;
  /** How many, for the error. */
  readonly nargs: number;
}

function fieldStep(name: string, hasArgs: boolean, nargs: number): FieldEval {
  const field: FieldName = { name, hasArgs, nargs };
  // The method of this name of the last struct type seen (types are fixed once built).
  let lastType: GoStructType | undefined;
  let lastMethod: GoMethod | undefined;
  return (r, receiver, prev) => {
    if (receiver === undefined) return undefined;
    if (receiver instanceof GoStruct) {
      const type = receiver.type;
      if (type !== lastType) {
        lastType = type;
        lastMethod = type.methods?.[name];
      }
      return structField(r, field, receiver, lastMethod);
    }
    if (receiver === null) r.fail(`nil pointer evaluating interface {}.${name}`);
    if (receiver instanceof StrMap) {
      if (hasArgs) r.fail(`${name} is not a method but has arguments`);
      return receiver.get(name);
    }
    if (receiver instanceof GoEnum && name === 'String') {
      if (hasArgs) r.fail(`wrong number of args for ${name}: want 0 got ${nargs}`);
      return receiver.name;
    }
    if (isGoMap(receiver)) {
      if (hasArgs) r.fail(`${name} is not a method but has arguments`);
      return Object.hasOwn(receiver, name) ? receiver[name] : undefined;
    }
    // A value read out of a map[string]any has static type interface {} (Go's error wording).
    const iface = prev !== NO_PREV && isGoMap(prev);
    r.fail(`can't evaluate field ${name} in type ${iface ? 'interface {}' : goTypeName(receiver)}`);
  };
}

/** A method (called without arguments) or a field of a struct. */
function structField(
  r: Run,
  { name, hasArgs, nargs }: FieldName,
  receiver: GoStruct,
  method: GoMethod | undefined,
): GoValue {
  if (method !== undefined) {
    if (hasArgs) r.fail(`wrong number of args for ${name}: want 0 got ${nargs}`);
    return method(receiver);
  }
  const fields = receiver.fields;
  if (Object.hasOwn(fields, name)) {
    if (receiver.isNil) r.fail(`nil pointer evaluating ${receiver.type.name}.${name}`);
    if (hasArgs) r.fail(`${name} has arguments but cannot be invoked as function`);
    return fields[name];
  }
  r.fail(`can't evaluate field ${name} in type ${receiver.type.name}`);
}

/** The text a node always prints, when it is constant: a text, or an action on a literal. */
function constantText(node: Node): string | undefined {
  if (node.t === 'text') return node.text;
  if (node.t !== 'action' || node.pipe.decl.length > 0 || node.pipe.cmds.length !== 1)
    return undefined;
  const args = node.pipe.cmds[0]?.args ?? [];
  const a = args[0];
  if (args.length !== 1 || a === undefined) return undefined;
  if (a.t !== 'bool' && a.t !== 'number' && a.t !== 'string') return undefined;
  return printable(a.v);
}

/** Whether a `{{break}}` or `{{continue}}` can stop this node's list (range absorbs its own). */
function canStop(node: Node): boolean {
  if (node.t === 'break' || node.t === 'continue') return true;
  if (node.t !== 'if' && node.t !== 'with') return false;
  return node.list.some(canStop) || (node.elseList?.some(canStop) ?? false);
}

function textStep(text: string): Exec {
  return (r) => {
    r.out += text;
    return Flow.Normal;
  };
}

function sequence(steps: readonly Exec[], stoppable: boolean): Exec {
  if (steps.length === 1 && steps[0] !== undefined) return steps[0];
  if (!stoppable) {
    return (r, dot) => {
      for (const step of steps) step(r, dot);
      return Flow.Normal;
    };
  }
  return (r, dot) => {
    for (const step of steps) {
      const flow = step(r, dot);
      if (flow !== Flow.Normal) return flow;
    }
    return Flow.Normal;
  };
}

/**
 * `{{range $e := ...}}` binds the element; `{{range $i, $e := ...}}` the index and element;
 * with `=` the variables are assigned, and must exist.
 */
function rangeBinder(
  decl: readonly string[],
  isAssign: boolean,
): (r: Run, key: GoValue, elem: GoValue) => void {
  const set = (r: Run, name: string, value: GoValue) =>
    isAssign ? r.setVar(name, value) : r.setIfDeclared(name, value);
  const [a = '', b = ''] = decl;
  if (decl.length === 1) return (r, _key, elem) => set(r, a, elem);
  if (decl.length === 2) {
    return (r, key, elem) => {
      set(r, a, key);
      set(r, b, elem);
    };
  }
  return () => undefined;
}

interface RangeItems {
  keys: readonly GoValue[];
  elems: readonly GoValue[];
}

const NO_ITEMS: RangeItems = { keys: [], elems: [] };

/** The (index or key, element) pairs Go's range visits, maps in key order. */
function rangeItems(r: Run, v: GoValue, vars: number, pos: number): RangeItems {
  // Go: an invalid value (a missing key) ranges over nothing.
  if (v === undefined) return NO_ITEMS;
  if (Array.isArray(v)) {
    const elems = v as readonly GoValue[];
    return { keys: elems.map((_e, i) => i), elems };
  }
  if (v instanceof StrMap) {
    const keys = Object.keys(v.entries).sort();
    return { keys, elems: keys.map((k) => v.entries[k]) };
  }
  if (isGoMap(v)) {
    const keys = Object.keys(v).sort();
    return { keys, elems: keys.map((k) => v[k] ?? null) };
  }
  if (typeof v === 'number') {
    if (vars > 1) {
      r.at(pos, 'range');
      r.fail(`can't use ${v} to iterate over more than one variable`);
    }
    const keys: number[] = [];
    for (let i = 0; i < v; i++) keys.push(i);
    return { keys, elems: keys };
  }
  r.at(pos, 'range');
  r.fail(`range can't iterate over ${formatValue(v)}`);
}

/** What fit answers for a value that does not fit the parameter. */
const NO_FIT: unique symbol = Symbol('no fit');

const isNil = (v: GoValue): boolean => v === undefined || v === null;

type Fitter = (v: GoValue) => GoValue | typeof NO_FIT;

/** For a call without a previous command's value: never called. */
const NO_FITTER: Fitter = () => NO_FIT;

/**
 * The value a parameter of `kind` receives (Go's validateType), or NO_FIT: one function per
 * kind, chosen when the call is compiled.
 */
function fitter(kind: ParamKind): Fitter {
  switch (kind) {
    case 'value':
      return (v) => v;
    case 'any':
      return (v) => (v === undefined ? null : v);
    case 'strmap':
      return (v) => (v instanceof StrMap ? v : isNil(v) ? new StrMap({}, true) : NO_FIT);
    case 'slice':
      return (v) => (Array.isArray(v) ? (v as GoValue) : isNil(v) ? null : NO_FIT);
    case 'map':
      return (v) => (isGoMap(v) ? v : isNil(v) ? null : NO_FIT);
    case 'string':
      return (v) => (typeof v === 'string' ? v : NO_FIT);
    case 'int':
      return (v) => (typeof v === 'number' ? v : NO_FIT);
    case 'bool':
      return (v) => (typeof v === 'boolean' ? v : NO_FIT);
    default:
      return structFitter(kind);
  }
}

/** `structs:T` takes a list of T (nil: an empty one); `struct:T` a T, or nil for a pointer type. */
function structFitter(kind: `structs:${string}` | `struct:${string}`): Fitter {
  if (kind.startsWith('structs:')) {
    return (v) => (Array.isArray(v) ? (v as GoValue) : isNil(v) ? [] : NO_FIT);
  }
  const wanted = kind.slice(7);
  const bare = wanted.replace(/^\*/, '');
  const nilFits = wanted.startsWith('*');
  return (v) => {
    if (v instanceof GoStruct) {
      const actual = v.type.name;
      if (actual === wanted || actual === bare || `*${actual}` === wanted) return v;
    }
    return isNil(v) && nilFits ? null : NO_FIT;
  };
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

/**
 * Compiles a parsed set once; the function it returns executes the set's main body over `data`.
 * A Go execution error becomes a TemplateError with Go's wording.
 */
export function compileSet(set: ParsedSet, funcs: FuncMap): (data: GoValue) => string {
  const bodies = new Compiler(set, funcs).bodies;
  const main = bodies.get(set.name);
  return (data) => {
    if (main === undefined) {
      throw new TemplateError(
        `template: no template ${JSON.stringify(set.name)} associated with template ${JSON.stringify(set.name)}`,
      );
    }
    const r = new Run(set);
    r.push('$', data);
    try {
      main(r, data);
    } catch (e) {
      if (e instanceof ExecError) throw new TemplateError(e.message);
      if (e instanceof RangeError) throw new TemplateError(`template: ${set.name}: ${e.message}`);
      throw e;
    }
    return r.out;
  };
}
