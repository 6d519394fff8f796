/**
 * Splitting a manifest stream into documents while keeping each document's original text, so
 * documents the offline commands do not change are written back byte for byte.
 */
import { Document, LineCounter, parseAllDocuments } from 'yaml';
import { InjectorError } from '../errors.js';
import type { JsonValue } from '../core/json.js';
import { MAX_YAML_ALIASES } from '../core/yaml.js';

/** One document of an input stream. */
export interface ManifestDocument {
  /** 1-based position in the stream, as printed in messages. */
  index: number;
  /** The exact source text of the document, including its `---` marker and comments. */
  text: string;
  /** The parsed document (comments and key order kept), used to write changes back. */
  doc: Document;
  /** The document as plain JSON data (`null` for an empty document). */
  value: JsonValue;
  /** True when the document was written as JSON (flow style at its root). */
  json: boolean;
}

/**
 * Parses a YAML stream (or a JSON document, which is valid YAML) into documents.
 * `source` names the input (a path or `<stdin>`) in error messages.
 */
export function splitDocuments(text: string, source: string): ManifestDocument[] {
  const lineCounter = new LineCounter();
  // Kubernetes manifests routinely exceed the default alias limit only when malicious; keep it.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const result: ManifestDocument[] = [];
  let start = 0;
  docs.forEach((doc, i) => {
    const index = i + 1;
    const firstError = doc.errors[0];
    if (firstError !== undefined) {
      const pos = lineCounter.linePos(firstError.pos[0]);
      throw new InjectorError(
        'INJ_ERR_MANIFEST_INVALID',
        `${source}: document ${index}: not valid YAML at line ${pos.line}, column ${pos.col}: ${firstError.message}`,
        { details: [{ field: `document ${index}`, reason: firstError.message }] },
      );
    }
    const end = i === docs.length - 1 ? text.length : doc.range[2];
    const value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as JsonValue | undefined;
    const root = doc.contents;
    result.push({
      index,
      text: text.slice(start, end),
      doc,
      value: value ?? null,
      json: root !== null && 'flow' in root && root.flow === true,
    });
    start = end;
  });
  return result;
}
