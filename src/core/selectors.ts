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
  const expressions: LabelSelectorRequirement[] = [];
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const next = (): Token | undefined => tokens[pos++];
  const word = (what: string): string => {
    const t = next();
    if (t?.kind !== 'word') throw selectorError(input, `expected ${what}`);
    return t.text;
  };
  const key = (): string => {
    const k = word('a label key');
    if (!LABEL_KEY_RE.test(k)) throw selectorError(input, `invalid label key ${JSON.stringify(k)}`);
    return k;
  };
  const value = (text: string): string => {
    if (!LABEL_VALUE_RE.test(text)) {
      throw selectorError(input, `invalid label value ${JSON.stringify(text)}`);
    }
    return text;
  };

  if (tokens.length === 0) return {};
  for (;;) {
    const first = peek();
    if (first?.kind === 'op' && first.text === '!') {
      next();
      expressions.push({ key: key(), operator: 'DoesNotExist' });
    } else {
      const k = key();
      const op = peek();
      if (op === undefined || (op.kind === 'op' && op.text === ',')) {
        expressions.push({ key: k, operator: 'Exists' });
      } else if (op.kind === 'op' && (op.text === '=' || op.text === '==' || op.text === '!=')) {
        next();
        // An empty value (`key=`) is allowed.
        const v = peek()?.kind === 'word' ? word('a value') : '';
        expressions.push({
          key: k,
          operator: op.text === '!=' ? 'NotIn' : 'In',
          values: [value(v)],
        });
      } else if (op.kind === 'word' && (op.text === 'in' || op.text === 'notin')) {
        next();
        const open = next();
        if (open?.kind !== 'op' || open.text !== '(') throw selectorError(input, "expected '('");
        const values: string[] = [];
        for (;;) {
          const t = peek();
          if (t?.kind === 'word') values.push(value(word('a value')));
          else values.push('');
          const sep = next();
          if (sep?.kind === 'op' && sep.text === ')') break;
          if (sep?.kind !== 'op' || sep.text !== ',')
            throw selectorError(input, "expected ',' or ')'");
        }
        expressions.push({ key: k, operator: op.text === 'in' ? 'In' : 'NotIn', values });
      } else {
        throw selectorError(input, `unexpected ${JSON.stringify(op.text)} after key ${k}`);
      }
    }
    const sep = next();
    if (sep === undefined) break;
    if (sep.kind !== 'op' || sep.text !== ',') {
      throw selectorError(input, `expected ',' but found ${JSON.stringify(sep.text)}`);
    }
  }
  return { matchExpressions: expressions };
}
