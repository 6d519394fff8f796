/**
 * Rule tables written as text: `path:checker` entries in the order the checks run (issues are
 * reported in that order, and a map is normalised before the fields below it), each checker
 * named in a table of checkers beside the rules.
 */
import { parseFieldTable } from '../field-table.js';
import type { Checker, FieldRule } from './checks.js';

/** The rules of `text` (`path:checker ...`); `table` names it in errors. */
export function fieldRules(
  table: string,
  checkers: Readonly<Record<string, Checker>>,
  text: string,
): FieldRule[] {
  return parseFieldTable(table, text).map(({ name, type }) => {
    const check = Object.hasOwn(checkers, type) ? checkers[type] : undefined;
    if (check === undefined) {
      throw new Error(
        `field table ${table}: entry "${name}:${type}" names no checker (${Object.keys(checkers).join(', ')})`,
      );
    }
    return { path: name, check };
  });
}
