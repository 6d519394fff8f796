/**
 * Splitting a manifest stream into documents while keeping each document's original text, so
 * documents the offline commands do not change are written back byte for byte.
 */
import { Document, isMap, isPair, isScalar, LineCounter, parseAllDocuments, visit } from 'yaml';
import { InjectorError } from '../errors.js';
import type { JsonValue } from '../core/json.js';
import { MAX_YAML_ALIASES } from '../core/yaml.js';
import { goScalarString, resolveGoScalar } from '../core/yaml-go.js';

/** String maps of object metadata (`map[string]string` in Go's types). */
const METADATA_STRING_MAPS = new Set(['labels', 'annotations']);

/**
 * istioctl kube-inject reads a manifest with sigs.k8s.io/yaml into the typed object: YAML 1.1
 * scalars (go-yaml v2), and a scalar read into a Go string printed back (`yes` -> "true",
 * `0777` -> "511", `1e3` -> "1000"). A label or annotation written that way is the string Istio
 * sees, so such plain scalars are rewritten to it (quoted, so the output keeps it a string).
 * sigs.k8s.io/yaml yaml.go convertToJSONableObject.
 */
function readMetadataMapsAsGo(doc: Document): void {
  visit(doc, {
    Scalar(key, node, path) {
      // The source text: the YAML 1.2 reading has already made `0777` a number.
      const source = node.source;
      if (key !== 'value' || node.type !== 'PLAIN' || typeof source !== 'string') return;
      const map = path[path.length - 2];
      const mapPair = path[path.length - 3];
      const metadata = path[path.length - 4];
      const metadataPair = path[path.length - 5];
      if (!isMap(map) || !isPair(mapPair) || !isMap(metadata) || !isPair(metadataPair)) return;
      if (!isScalar(mapPair.key) || !METADATA_STRING_MAPS.has(String(mapPair.key.value))) return;
      if (!isScalar(metadataPair.key) || metadataPair.key.value !== 'metadata') return;
      const text = goScalarString(resolveGoScalar(source));
      if (text === null || text === node.value) return;
      node.value = text;
      node.type = 'QUOTE_DOUBLE';
    },
  });
}

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
    readMetadataMapsAsGo(doc);
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
