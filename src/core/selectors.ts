/**
 * Kubernetes label selectors: matching (matchLabels + matchExpressions) and the string syntax
 * (`foo,bar=baz,env in (a,b),!x`).
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
 */
import { InjectorError } from '../errors.js';
import type { LabelSelector, LabelSelectorRequirement } from './config/types.js';
import type { StringMap } from './pod-types.js';

/** True when the selector has no requirement at all. */
export function isEmptySelector(selector: LabelSelector): boolean {
  return (
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  );
}

function requirementMatches(req: LabelSelectorRequirement, labels: StringMap): boolean {
  const present = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return present && value !== undefined && values.includes(value);
    case 'NotIn':
      return !present || value === undefined || !values.includes(value);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    default:
      // An operator outside the union (data from an unchecked source) never matches.
      return false;
  }
}

/**
 * Whether `labels` satisfy every requirement of `selector`. An empty selector matches nothing:
 * in the never/always-inject lists it is skipped rather than treated as "match all" (spec §2.2).
 */
export function matchesSelector(selector: LabelSelector, labels: StringMap): boolean {
  if (isEmptySelector(selector)) return false;
  for (const [key, want] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(labels, key) || labels[key] !== want) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => requirementMatches(req, labels));
}

// ---------------------------------------------------------------------------------------------
// String syntax.

type Token =
  { kind: 'word'; text: string } | { kind: 'op'; text: '=' | '==' | '!=' | '!' | ',' | '(' | ')' };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] ?? '';
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === '=' || ch === '!') {
      if (input[i + 1] === '=') {
        tokens.push({ kind: 'op', text: ch === '=' ? '==' : '!=' });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: ch });
        i += 1;
      }
    } else if (ch === ',' || ch === '(' || ch === ')') {
      tokens.push({ kind: 'op', text: ch });
      i += 1;
    } else if (ch === '<' || ch === '>') {
      throw selectorError(input, `operator '${ch}' is not supported`);
    } else {
      let j = i;
      while (j < input.length && !/[\s=!,()<>]/.test(input[j] ?? '')) j += 1;
      tokens.push({ kind: 'word', text: input.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

function selectorError(input: string, why: string): InjectorError {
  return new InjectorError(
    'INJ_ERR_CONFIG_INVALID',
    `invalid label selector ${JSON.stringify(input)}: ${why}`,
    { details: [{ field: 'selector', value: input, reason: why }] },
  );
}

const LABEL_KEY_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * Parses the Kubernetes selector string syntax into a LabelSelector: `key` (exists), `!key`,
 * `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, comma-separated.
 * Throws INJ_ERR_CONFIG_INVALID on bad syntax (the set-based `<`/`>` operators are not supported).
 */
export function parseSelectorString(input: string): LabelSelector {
  const tokens = tokenize(input);
  if (tokens.length === 0) return {};
  return new SelectorParser(input, tokens).selector();
}

const isOp = (t: Token | undefined, text: string): boolean => t?.kind === 'op' && t.text === text;

/** A recursive-descent parser over the tokens of one selector string. */
class SelectorParser {
  private pos = 0;

  constructor(
    private readonly input: string,
    private readonly tokens: readonly Token[],
  ) {}

  /** Requirements separated by commas, up to the end of the input. */
  selector(): LabelSelector {
    const expressions: LabelSelectorRequirement[] = [];
    for (;;) {
      expressions.push(this.requirement());
      const sep = this.next();
      if (sep === undefined) break;
      if (sep.kind !== 'op' || sep.text !== ',') {
        throw selectorError(this.input, `expected ',' but found ${JSON.stringify(sep.text)}`);
      }
    }
    return { matchExpressions: expressions };
  }

  private requirement(): LabelSelectorRequirement {
    if (isOp(this.peek(), '!')) {
      this.next();
      return { key: this.key(), operator: 'DoesNotExist' };
    }
    const k = this.key();
    const op = this.peek();
    if (op === undefined || isOp(op, ',')) return { key: k, operator: 'Exists' };
    if (op.kind === 'op' && (op.text === '=' || op.text === '==' || op.text === '!=')) {
      return this.equality(k, op.text);
    }
    if (op.kind === 'word' && (op.text === 'in' || op.text === 'notin')) {
      return this.set(k, op.text);
    }
    throw selectorError(this.input, `unexpected ${JSON.stringify(op.text)} after key ${k}`);
  }

  /** `key=value`, `key==value`, `key!=value`; an empty value (`key=`) is allowed. */
  private equality(k: string, op: '=' | '==' | '!='): LabelSelectorRequirement {
    this.next();
    const v = this.peek()?.kind === 'word' ? this.word('a value') : '';
    return { key: k, operator: op === '!=' ? 'NotIn' : 'In', values: [this.value(v)] };
  }

  /** `key in (a,b)`, `key notin (a,b)`. */
  private set(k: string, op: 'in' | 'notin'): LabelSelectorRequirement {
    this.next();
    const open = this.next();
    if (open?.kind !== 'op' || open.text !== '(') throw selectorError(this.input, "expected '('");
    const values: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'word') values.push(this.value(this.word('a value')));
      else values.push('');
      const sep = this.next();
      if (sep?.kind === 'op' && sep.text === ')') break;
      if (sep?.kind !== 'op' || sep.text !== ',')
        throw selectorError(this.input, "expected ',' or ')'");
    }
    return { key: k, operator: op === 'in' ? 'In' : 'NotIn', values };
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private next(): Token | undefined {
    return this.tokens[this.pos++];
  }

  private word(what: string): string {
    const t = this.next();
    if (t?.kind !== 'word') throw selectorError(this.input, `expected ${what}`);
    return t.text;
  }

  private key(): string {
    const k = this.word('a label key');
    if (!LABEL_KEY_RE.test(k)) {
      throw selectorError(this.input, `invalid label key ${JSON.stringify(k)}`);
    }
    return k;
  }

  private value(text: string): string {
    if (!LABEL_VALUE_RE.test(text)) {
      throw selectorError(this.input, `invalid label value ${JSON.stringify(text)}`);
    }
    return text;
  }
}
