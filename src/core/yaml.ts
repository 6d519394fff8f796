/**
 * One YAML (or JSON) document of user text, parsed with a cap on alias expansions: a "billion
 * laughs" document becomes an error instead of exhausting memory.
 */
import { parseDocument } from 'yaml';

/** The most alias expansions a document may make before parsing fails. */
export const MAX_YAML_ALIASES = 100;

export type YamlParse = { ok: true; value: unknown } | { ok: false; errors: string[] };

/**
 * Parses `text`; syntax errors (or an exceeded alias cap) come back as messages, never thrown.
 * `uniqueKeys: false` accepts a repeated map key, the last one winning (as Go's YAML decoding of
 * ConfigMap data does).
 */
export function parseYamlDocument(text: string, options: { uniqueKeys?: false } = {}): YamlParse {
  const doc = parseDocument(
    text,
    options.uniqueKeys === false
      ? { prettyErrors: false, uniqueKeys: false }
      : { prettyErrors: false },
  );
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => e.message) };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) };
  } catch (error) {
    return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
  }
}
