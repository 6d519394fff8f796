/**
 * One YAML (or JSON) document of user text, parsed with a cap on alias expansions: a "billion
 * laughs" document becomes an error instead of exhausting memory.
 */
import { parseDocument, visit, type Document } from 'yaml';
import { goScalarKey, goScalarString, goScalarValue, resolveGoScalar } from './yaml-go.js';

/** The most alias expansions a document may make before parsing fails. */
export const MAX_YAML_ALIASES = 100;

export type YamlParse = { ok: true; value: unknown } | { ok: false; errors: string[] };

/**
 * How plain scalars resolve. `yaml-1.2`: the YAML 1.2 core schema. `go`: as istiod's
 * sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) reads a text into untyped or non-string fields
 * (`yes` is true, `0777` is 511). `go-strings`: the same text read into Go string fields
 * throughout (istiod's injector `config`: policy, templates, injected annotations, selectors),
 * every scalar printed back as Go prints it (`yes` -> "true", `1e6` -> "1e+06").
 */
export type ScalarResolution = 'yaml-1.2' | 'go' | 'go-strings';

export interface YamlParseOptions {
  /** false: a repeated map key is accepted, the last one winning (Go's YAML decoding). */
  uniqueKeys?: false;
  resolution?: ScalarResolution;
}

/** Resolves the untagged plain scalars of a failsafe-parsed document in place. */
function resolvePlainScalars(doc: Document, strings: boolean): void {
  visit(doc, {
    Scalar(key, node) {
      if (node.type !== 'PLAIN' || node.tag !== undefined || typeof node.value !== 'string') return;
      const resolved = resolveGoScalar(node.value);
      if (key === 'key') {
        const text = goScalarKey(resolved);
        if (text === undefined)
          throw new Error(`unsupported map key ${JSON.stringify(node.value.slice(0, 40))}`);
        node.value = text;
      } else node.value = strings ? goScalarString(resolved) : goScalarValue(resolved);
    },
  });
}

/**
 * Parses `text`; syntax errors (or an exceeded alias cap) come back as messages, never thrown.
 */
export function parseYamlDocument(text: string, options: YamlParseOptions = {}): YamlParse {
  const resolution = options.resolution ?? 'yaml-1.2';
  const go = resolution !== 'yaml-1.2';
  const doc = parseDocument(text, {
    prettyErrors: false,
    ...(options.uniqueKeys === false ? { uniqueKeys: false } : {}),
    // Go's resolution runs over the failsafe schema's strings; go-yaml v2 merges `<<` keys.
    ...(go ? { schema: 'failsafe', merge: true } : {}),
  });
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => e.message) };
  try {
    if (go) resolvePlainScalars(doc, resolution === 'go-strings');
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) };
  } catch (error) {
    return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
  }
}
