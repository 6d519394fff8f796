/**
 * Field tables written as text, in the spirit of Go struct tags: one entry per field, separated by
 * white space, each `name:type`, with `?` after the type for an optional (`omitempty`) field and
 * `Alias=` before the name where a table needs a second name for the field (its Go name when that
 * is not the capitalised JSON name). Parsed once, when the module declaring the table loads; a
 * malformed table throws then, naming the table and the entry.
 */

/** One entry of a field table. */
export interface FieldEntry {
  readonly name: string;
  readonly type: string;
  /** A `?` followed the type. */
  readonly optional: boolean;
  /** The `Alias=` before the name, if any. */
  readonly alias?: string;
}

/** What a table may use beyond `name:type`. */
export interface FieldTableOptions {
  /** `?` after the type. */
  readonly optional?: boolean;
  /** `Alias=` before the name. */
  readonly alias?: boolean;
}

// Names are identifiers, dotted for paths (`global.proxy.image`); a type is anything but white
// space and `?` (`[]ContainerPort`, `*v1.PodOS`, `Q{}`).
const ENTRY = /^(?:([A-Za-z_]\w*)=)?([A-Za-z_][\w.]*):([^\s?]+)(\?)?$/;

/** The entries of `text`, in order; `table` names it in errors. */
export function parseFieldTable(
  table: string,
  text: string,
  options: FieldTableOptions = {},
): FieldEntry[] {
  const entries: FieldEntry[] = [];
  const seen = new Set<string>();
  for (const token of text.split(/\s+/)) {
    if (token === '') continue;
    const m = ENTRY.exec(token);
    const name = m?.[2];
    const type = m?.[3];
    if (m === null || name === undefined || type === undefined) {
      const form = `${options.alias === true ? '[Alias=]' : ''}name:type${options.optional === true ? '[?]' : ''}`;
      throw malformed(table, token, `is malformed (expected ${form})`);
    }
    const alias = m[1];
    const optional = m[4] !== undefined;
    if (alias !== undefined && options.alias !== true) {
      throw malformed(table, token, 'may not name an alias');
    }
    if (optional && options.optional !== true) throw malformed(table, token, 'may not be optional');
    if (seen.has(name)) throw malformed(table, token, `repeats the field "${name}"`);
    seen.add(name);
    entries.push(alias === undefined ? { name, type, optional } : { name, type, optional, alias });
  }
  return entries;
}

function malformed(table: string, token: string, why: string): Error {
  return new Error(`field table ${table}: entry "${token}" ${why}`);
}
