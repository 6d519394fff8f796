import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { KEY } from '../../../../src/core/annotations/keys.js';
import { REGISTRY, REGISTRY_ENTRIES } from '../../../../src/core/annotations/registry.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const ISTIO_PREFIXES = [
  'sidecar.istio.io/',
  'traffic.sidecar.istio.io/',
  'proxy.istio.io/',
  'inject.istio.io/',
  'status.sidecar.istio.io/',
  'prometheus.istio.io/',
];

/** Rows of docs/templates.md "Annotations and labels": key -> [on, effect, checked]. */
async function documentedKeys(): Promise<Map<string, string[]>> {
  const text = await readFile(join(ROOT, 'docs/templates.md'), 'utf8');
  const section = text.split(/^## Annotations and labels$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, string[]>();
  for (const match of section.matchAll(/^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/gm)) {
    rows.set(
      match[1] ?? '',
      (match[2] ?? '').split('|').map((c) => c.trim()),
    );
  }
  return rows;
}

function checkedCell(name: keyof typeof KEY): string {
  const entry = REGISTRY[name];
  return [entry.validate ? '_validated_' : '', entry.fallback ? '_warns_' : '']
    .filter((s) => s !== '')
    .join(', ');
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory() ? sourceFiles(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]),
    ),
  );
  return nested.flat().filter((f) => f.endsWith('.ts'));
}

/** The text of every string literal and template-literal part of a file (comments excluded). */
function stringLiterals(text: string): string[] {
  const source = ts.createSourceFile('file.ts', text, ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      out.push(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe('annotation and label registry', () => {
  it('has one entry per key', () => {
    expect(Object.keys(REGISTRY).sort()).toEqual(Object.keys(KEY).sort());
    expect(new Set(Object.values(KEY)).size).toBe(Object.keys(KEY).length);
  });

  it('every key is documented in docs/templates.md with its registry line', async () => {
    const documented = await documentedKeys();
    for (const name of Object.keys(KEY) as (keyof typeof KEY)[]) {
      const entry = REGISTRY[name];
      expect(documented.get(KEY[name]), `${KEY[name]} missing from docs/templates.md`).toEqual([
        entry.on,
        entry.doc,
        checkedCell(name),
      ]);
    }
  });

  it('every key documented in that table is in the registry', async () => {
    const documented = await documentedKeys();
    expect(documented.size).toBeGreaterThan(0);
    const known = new Set(REGISTRY_ENTRIES.map(([key]) => key));
    for (const key of documented.keys()) expect(known, `${key} not in the registry`).toContain(key);
  });

  it('no file under src/ outside the registry spells an Istio pod annotation key', async () => {
    const keysFile = join(ROOT, 'src/core/annotations/keys.ts');
    const offenders: string[] = [];
    for (const file of await sourceFiles(join(ROOT, 'src'))) {
      if (file === keysFile) continue;
      for (const literal of stringLiterals(await readFile(file, 'utf8'))) {
        if (ISTIO_PREFIXES.some((p) => literal.includes(p)))
          offenders.push(`${relative(ROOT, file)}: ${literal}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the literal scanner finds keys in strings and template parts', () => {
    const found = stringLiterals(
      "const a = 'sidecar.istio.io/x'; const b = `p ${a} proxy.istio.io/y ${a}`; // inject.istio.io/z",
    );
    expect(found.filter((l) => ISTIO_PREFIXES.some((p) => l.includes(p)))).toEqual([
      'sidecar.istio.io/x',
      ' proxy.istio.io/y ',
    ]);
  });
});
