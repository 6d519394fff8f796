/**
 * The three output forms of `inject`: the rewritten manifest (YAML, keeping untouched documents
 * byte for byte), the same as JSON, and per-object JSON patches for kustomize.
 */
import type { Operation } from 'fast-json-patch';
import { diffValues } from '../core/patch/diff.js';
import { Document, stringify } from 'yaml';
import type { JsonObject, JsonValue } from '../core/json.js';
import type { ManifestResult, ObjectResult } from './manifest.js';
import { updateDocument } from './yaml-update.js';

const YAML_OPTIONS = { lineWidth: 0, flowCollectionPadding: false } as const;

/**
 * The manifest with every injected document rewritten. Documents without a change keep their
 * original text; changed documents keep their comments and key order where the YAML is block style.
 */
export function renderYaml(result: ManifestResult, originalText: string): string {
  if (result.documents.length === 0) return originalText;
  return result.documents
    .filter((d) => d.consumed !== true)
    .map(({ document, value, changed }) => {
      if (!changed) return document.text;
      if (document.json) {
        const fresh = new Document(value);
        if (fresh.directives !== undefined)
          fresh.directives.docStart = document.index > 1 ? true : null;
        return fresh.toString(YAML_OPTIONS);
      }
      updateDocument(document.doc, value);
      return document.doc.toString({ ...YAML_OPTIONS, indentSeq: indentsSequences(document.text) });
    })
    .join('');
}

/**
 * Kubernetes manifests are often written with `- ` at the parent's indentation (kubectl style);
 * keep whichever style the document used.
 */
function indentsSequences(text: string): boolean {
  const match = /^( *)[^\s#-][^\n]*:[ \t]*\n\1( *)- /m.exec(text);
  return match === null || (match[2] ?? '').length > 0;
}

/** One JSON document: the object itself, or a `List` when the inputs held several. */
export function renderJson(results: readonly ManifestResult[]): string {
  const values = results
    .flatMap((r) => r.documents.filter((d) => d.consumed !== true).map((d) => d.value))
    .filter((v) => v !== null);
  const out: JsonValue =
    values.length === 1 && values[0] !== undefined
      ? values[0]
      : { apiVersion: 'v1', kind: 'List', items: values };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** A kustomize `patches:` entry: which object, and the RFC 6902 operations relative to it. */
export interface PatchEntry {
  target: { group?: string; version?: string; kind: string; name: string; namespace?: string };
  /** The JSON patch as JSON text (kustomize reads `patch` as a string). */
  patch: string;
}

/** One entry per injected object, in input order; skipped and unchanged objects get none. */
export function patchEntries(results: readonly ManifestResult[]): PatchEntry[] {
  return results.flatMap((r) =>
    r.documents.flatMap((d) =>
      d.objects.flatMap((o) => {
        if (o.skipped !== undefined) return [];
        const entry = patchEntry(o);
        return entry === undefined ? [] : [entry];
      }),
    ),
  );
}

function patchEntry(object: ObjectResult): PatchEntry | undefined {
  const ops = objectPatch(object.before, object.after);
  if (ops.length === 0) return undefined;
  const { kind, name, namespace, apiVersion } = object.ref;
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  return {
    target: {
      ...(group === '' ? {} : { group }),
      ...(version === '' ? {} : { version }),
      kind,
      name,
      ...(namespace === '' ? {} : { namespace }),
    },
    patch: JSON.stringify(ops, null, 2),
  };
}

/** RFC 6902 operations turning `before` into `after` (paths relative to the object). */
export function objectPatch(before: JsonObject, after: JsonObject): Operation[] {
  const ops: Operation[] = [];
  diffValues(before, after, [], ops);
  return ops;
}

/** The patch entries as a YAML list, ready to paste under `patches:` in a kustomization. */
export function renderPatches(results: readonly ManifestResult[]): string {
  const entries = patchEntries(results);
  return entries.length === 0 ? '[]\n' : stringify(entries, YAML_OPTIONS);
}
