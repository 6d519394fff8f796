/**
 * The fast reader of rendered templates (src/core/yaml-fast.ts) must read every text it accepts
 * exactly as the full parser does (`parseYamlDocument(text, { uniqueKeys: false, resolution: 'go' })`:
 * istiod's YAML 1.1 plain scalars, same values, same key order, -0 and NaN included), and leave
 * everything else to it. Proven over:
 * - the texts the three releases' templates render for every corpus input, and for generated
 *   pods (`YAML_PROOF_PODS`, CI: 10 000, seeded by `YAML_PROOF_SEED`, CI: the commit);
 * - those texts mutated at random (YAML's indicators, indentation, line breaks inserted or
 *   removed), and random documents written in every style the reader knows, where most texts
 *   are not what the templates write and many are not YAML at all.
 * The rendered texts must also mostly take the fast path, or the reader would save nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadInjectionConfig } from '../../../src/core/config/load.js';
import type { InjectionConfig } from '../../../src/core/config/types.js';
import type { ClusterFacts } from '../../../src/core/contracts.js';
import { injectUncached } from '../../../src/core/inject.js';
import type { TemplateSet } from '../../../src/core/pipeline/template-set.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { getPodTemplate, listWorkloads } from '../../../src/core/pod-template.js';
import { parseYamlDocument } from '../../../src/core/yaml.js';
import { goPlainValue, readTemplateYaml } from '../../../src/core/yaml-fast.js';
import { loadCases, parseDocuments } from '../../conformance/harness.js';
import { corpusAt, readCorpusFile, type Corpus } from '../../helpers/corpus.js';
import { generatePod, seedFrom } from '../../helpers/generated-pods.js';
import { CONFORMANCE_DIR, SHARED_DIR } from '../../helpers/shared.js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PODS = Number(process.env.YAML_PROOF_PODS ?? '150');
const SEED = seedFrom(process.env.YAML_PROOF_SEED ?? 'yaml-fast');

const CORPORA = [
  CONFORMANCE_DIR,
  join(SHARED_DIR, 'conformance', 'istio-1.30.3'),
  join(SHARED_DIR, 'conformance', 'istio-1.29.6'),
].filter((d) => existsSync(join(d, 'cases.json')));
if (CORPORA.length === 0) console.log('skipped rendered-text proofs: no corpus under ../shared');

/** Key order included: the pipeline's output follows it. */
function keyOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keyOrder);
  if (v === null || typeof v !== 'object') return null;
  return Object.entries(v).map(([k, e]) => [k, keyOrder(e)]);
}

/** undefined when the reader agrees with the full parser on `text` (or leaves it to it). */
function disagreement(text: string): string | undefined {
  const fast = readTemplateYaml(text);
  if (fast === undefined) return undefined;
  const full = parseYamlDocument(text, { uniqueKeys: false, resolution: 'go' });
  if (!full.ok) return `fast read ${JSON.stringify(fast)}, full parser: ${full.errors[0] ?? ''}`;
  if (
    isDeepStrictEqual(fast, full.value) &&
    isDeepStrictEqual(keyOrder(fast), keyOrder(full.value))
  )
    return undefined;
  return `fast ${JSON.stringify(fast)} full ${JSON.stringify(full.value)}`;
}

function check(text: string, diffs: string[]): void {
  const d = disagreement(text);
  if (d !== undefined) diffs.push(`${JSON.stringify(text).slice(0, 300)}: ${d.slice(0, 600)}`);
}

/** Every template of the configuration through the engine, each rendered text recorded. */
function recording(templates: TemplateSet, texts: string[]): TemplateSet {
  return new Map(
    [...templates].map(([name, t]) => {
      const compiled = t.compiled;
      if (compiled === undefined) return [name, t];
      return [
        name,
        {
          kind: 'engine',
          compiled: {
            text: compiled.text,
            render: (data) => {
              const out = compiled.render(data);
              texts.push(out);
              return out;
            },
          },
        },
      ];
    }),
  );
}

/** The release's Helm-rendered configuration with a case's settings, every text on the engine. */
function engineConfig(
  c: { setFlags: string[] | null; inFilePath: string | null },
  corpus: Corpus,
): InjectionConfig | undefined {
  if (corpus.configMaps === undefined) return undefined;
  const key = JSON.stringify([corpus.dir, c.setFlags, c.inFilePath]);
  if (configs.has(key)) return configs.get(key);
  const result = loadInjectionConfig(
    {
      ...corpus.configMaps,
      set: c.setFlags ?? [],
      ...(c.inFilePath ? { istioOperator: readCorpusFile(c.inFilePath, corpus) } : {}),
    },
    { nativeFastPath: false },
  );
  const config = result.ok ? result.config : undefined;
  configs.set(key, config);
  return config;
}

const configs = new Map<string, InjectionConfig | undefined>();

function render(
  pod: Pod,
  config: InjectionConfig,
  cluster: ClusterFacts,
  mode: 'webhook' | 'kube-inject',
): string[] {
  const texts: string[] = [];
  const templates = recording(config.templates ?? new Map(), texts);
  try {
    injectUncached({ pod, namespace: 'default', config: { ...config, templates }, cluster, mode });
  } catch {
    // A refused pod still rendered (or failed to render) its texts: they are checked all the same.
  }
  return texts;
}

let corpusTexts: string[] | undefined;

/** The texts rendered for every corpus input of every release (webhook and kube-inject). */
function renderedCorpusTexts(): string[] {
  if (corpusTexts !== undefined) return corpusTexts;
  const texts = new Set<string>();
  for (const dir of CORPORA) {
    const corpus = corpusAt(dir);
    for (const c of loadCases(corpus)) {
      const config = engineConfig(c, corpus);
      if (config === undefined) continue;
      const cluster: ClusterFacts = { nativeSidecars: c.nativeSidecarsGlobal };
      let docs;
      try {
        docs = parseDocuments(readCorpusFile(c.in, corpus));
      } catch {
        continue;
      }
      for (const doc of docs) {
        for (const workload of listWorkloads(doc)) {
          const pod = getPodTemplate(workload);
          for (const mode of ['webhook', 'kube-inject'] as const)
            for (const t of render(pod, config, cluster, mode)) texts.add(t);
        }
      }
    }
  }
  corpusTexts = [...texts];
  return corpusTexts;
}

describe('plain scalars', () => {
  it("resolve as the full parser's Go (YAML 1.1) resolution", () => {
    const samples = [
      ...['~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'FALSE'],
      ...['0', '-0', '+12', '0o17', '0o8', '0x1F', '0X1F', '1_000', '0755', '9007199254740993'],
      ...['1.5', '1.', '.5', '-.5e3', '1e3', '1E-3', '.inf', '-.Inf', '+.INF', '.nan', '.NaN'],
      ...['.NAN', 'nan', 'inf', '1e', '1.2.3', 'yes', 'no', 'on', 'off', 'y', '2024-01-02'],
      ...['Y', 'n', 'N', 'YES', 'No', 'On', 'OFF', 'Off', 'yES', '010', '08', '0b101', '1:20'],
      ...['+.5', '1_0.5', '_1', '0x_1F', 'ó', 'Ñ', '+', '.'],
    ];
    for (const s of samples) {
      const full = parseYamlDocument(`k: ${s}\n`, { resolution: 'go' });
      expect(full.ok).toBe(true);
      const value = full.ok ? (full.value as { k: unknown }).k : undefined;
      expect(Object.is(goPlainValue(s), value), s).toBe(true);
    }
  });
});

describe.skipIf(CORPORA.length === 0)('fast template YAML reader vs the full parser', () => {
  // Rendering every corpus input of three releases takes tens of seconds on a loaded machine.
  it(
    'reads every text the corpora render as the full parser does, most of them fast',
    {
      timeout: 600_000,
    },
    () => {
      const texts = renderedCorpusTexts();
      const diffs: string[] = [];
      let fast = 0;
      for (const t of texts) {
        check(t, diffs);
        if (readTemplateYaml(t) !== undefined) fast++;
      }
      console.log(`yaml-fast proof: ${texts.length} distinct corpus texts, ${fast} read fast`);
      expect(texts.length).toBeGreaterThan(150);
      expect(diffs.slice(0, 3)).toEqual([]);
      expect(fast / texts.length).toBeGreaterThan(0.95);
    },
  );

  it(
    `reads the texts rendered for ${PODS} generated pods (seed ${SEED}) as the full parser does`,
    {
      timeout: 3_600_000,
    },
    () => {
      const configs: InjectionConfig[] = [];
      for (const dir of CORPORA) {
        const corpus = corpusAt(dir);
        const settings = new Map(
          loadCases(corpus).map((c) => [JSON.stringify([c.setFlags, c.inFilePath]), c]),
        );
        for (const c of settings.values()) {
          const config = engineConfig(c, corpus);
          if (config !== undefined) configs.push(config);
        }
      }
      const diffs: string[] = [];
      let texts = 0;
      let fast = 0;
      const slow: string[] = [];
      for (let i = 0; i < PODS; i++) {
        const seed = (SEED + i) >>> 0;
        const pod = generatePod(seed, { payloadRate: 0.1 });
        const config = configs[seed % configs.length] as InjectionConfig;
        const cluster: ClusterFacts = { nativeSidecars: seed % 2 === 0 };
        for (const t of render(pod, config, cluster, seed % 3 === 0 ? 'kube-inject' : 'webhook')) {
          texts++;
          check(t, diffs);
          if (readTemplateYaml(t) !== undefined) fast++;
          else slow.push(t);
        }
      }
      console.log(`yaml-fast proof: ${PODS} generated pods, ${texts} texts, ${fast} read fast`);
      if (process.env.YAML_FAST_SHOW)
        writeFileSync(process.env.YAML_FAST_SHOW, JSON.stringify(slow));
      expect(texts).toBeGreaterThan(PODS / 2);
      expect(diffs.slice(0, 3)).toEqual([]);
      expect(fast / texts).toBeGreaterThan(0.9);
    },
  );

  it(
    'agrees on mutated rendered texts (or leaves them to the full parser)',
    {
      timeout: 600_000,
    },
    () => {
      const texts = renderedCorpusTexts();
      const pieces = [' ', '  ', '\n', '\n  ', ':', ': ', '-', '- ', '#', ' #', '"', "'", '\\'];
      const more = ['{', '}', '[', ']', ',', '|', '|-', '>', '&a', '*a', '!t', '?', '%', '---'];
      const scalars = [
        '~',
        'null',
        'true',
        '0o7',
        '0x1f',
        '-0',
        '1e3',
        '.inf',
        '.nan',
        '1.50',
        'x',
        // YAML 1.1 only: booleans and numbers to istiod, strings to a YAML 1.2 reader.
        'yes',
        'off',
        'y',
        '0755',
        '1_000',
      ];
      const runs = Math.max(300, Math.floor(PODS / 4));
      let accepted = 0;
      const mutation = fc.record({
        at: fc.nat(),
        kind: fc.constantFrom(
          'insert',
          'delete',
          'indent',
          'dedent',
          'join',
          'scalar',
          'scalar',
          'scalar',
        ),
        piece: fc.constantFrom(...pieces, ...more, ...scalars),
        length: fc.integer({ min: 1, max: 4 }),
      });
      fc.assert(
        fc.property(
          fc.nat(),
          fc.array(mutation, { minLength: 1, maxLength: 2 }),
          (which, mutations) => {
            let t = texts[which % texts.length] ?? '';
            for (const m of mutations) t = mutate(t, m);
            if (readTemplateYaml(t) !== undefined) accepted++;
            expect(disagreement(t)).toBeUndefined();
          },
        ),
        { numRuns: runs },
      );
      console.log(`yaml-fast proof: ${runs} mutated texts, ${accepted} read fast`);
      // The mutations must leave many texts in the subset, or this would prove nothing.
      expect(accepted).toBeGreaterThan(runs / 10);
    },
  );

  it('agrees on random documents in every style it reads', { timeout: 600_000 }, () => {
    const runs = Math.max(1000, PODS);
    let accepted = 0;
    fc.assert(
      fc.property(documentArb, (doc) => {
        if (readTemplateYaml(doc) !== undefined) accepted++;
        expect(disagreement(doc)).toBeUndefined();
      }),
      { numRuns: runs },
    );
    console.log(`yaml-fast proof: ${runs} random documents, ${accepted} read fast`);
    expect(accepted).toBeGreaterThan(runs / 5);
  });
});

function mutate(
  text: string,
  m: { at: number; kind: string; piece: string; length: number },
): string {
  const at = m.at % (text.length + 1);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  switch (m.kind) {
    case 'insert':
      return text.slice(0, at) + m.piece + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + m.length);
    case 'indent':
      return `${text.slice(0, lineStart)}${' '.repeat(m.length)}${text.slice(lineStart)}`;
    case 'dedent':
      return text.slice(0, lineStart) + text.slice(lineStart).replace(/^ {1,4}/, '');
    case 'join': {
      const nl = text.indexOf('\n', at);
      return nl === -1 ? text : text.slice(0, nl) + text.slice(nl + 1);
    }
    default: {
      // Replace the scalar after the next `: ` or `- `.
      const re = /(: |- )([^\n]*)/g;
      re.lastIndex = at;
      const found = re.exec(text);
      if (found === null) return text;
      const start = found.index + (found[1] ?? '').length;
      return text.slice(0, start) + m.piece + text.slice(start + (found[2] ?? '').length);
    }
  }
}

// --- random documents ------------------------------------------------------------------------

/** Scalar texts: what templates print, numbers and keywords of every schema, indicators. */
const scalarText = fc.oneof(
  fc.constantFrom(
    ...['a', 'istio-proxy', 'x y', '15001', '-1', '0', '-0', '007', '0o17', '0x1F', '1.5', '1.'],
    ...['.5', '1e3', '.inf', '-.Inf', '.nan', '~', 'null', 'NULL', 'true', 'False', 'yes', 'on'],
    ...['a: b', 'a:b', 'a #b', 'a#b', '- a', '-a', '--x', '{}', '[]', '[a]', '"a"', "'a'", 'a,b'],
    ...['* ', '&x', '!x', '|', '>', '?', '? a', ':', ': a', '%x', '@x', '`x', '', ' ', 'a ', '\\'],
    ...['__proto__', 'constructor', 'toString', '<<', 'é', '日本', '\u00a0', 'a\\nb', '$(X)'],
    // YAML 1.1 scalars (go-yaml v2): booleans, octal, underscores, binary, sexagesimal-looking.
    ...['y', 'N', 'Yes', 'NO', 'off', 'On', '0755', '08', '1_000', '0b11', '1:20', '+.5', '0o8'],
  ),
  fc.string({ maxLength: 8 }),
  fc.stringMatching(/^[a-z0-9 :#\-"'{}[\],.|>~]{1,10}$/),
);

/** One scalar in a chosen style: plain, double or single quoted (quoting may be off). */
const scalarArb = fc
  .tuple(scalarText, fc.constantFrom('plain', 'dq', 'sq', 'dq-raw'))
  .map(([s, style]) => {
    switch (style) {
      case 'dq':
        return JSON.stringify(s);
      case 'sq':
        return `'${s.replaceAll("'", "''")}'`;
      case 'dq-raw':
        return `"${s}"`;
      case 'plain':
        return s;
    }
  });

type Tree = { scalar: string } | { map: [string, Tree][] } | { seq: Tree[] } | { literal: string };

const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarArb.map((scalar) => ({ scalar })),
    fc
      .array(
        fc.tuple(fc.oneof(scalarArb, fc.constantFrom('name', 'value', 'a', 'b')), tie('tree')),
        {
          maxLength: 4,
        },
      )
      .map((map) => ({ map })),
    fc.array(tie('tree'), { maxLength: 4 }).map((seq) => ({ seq })),
    fc
      .array(fc.constantFrom('a', '  b', '', '{}', '# c', 'x: y', '- z', '  '), {
        minLength: 1,
        maxLength: 4,
      })
      .map((lines) => ({ literal: lines.join('\n') })),
  ),
})).tree;

interface Style {
  flow: boolean;
  indent: number;
  seqIndent: number;
  comment: boolean;
  blank: boolean;
  strip: boolean;
}

const styleArb = fc.record({
  flow: fc.boolean(),
  indent: fc.integer({ min: 1, max: 4 }),
  seqIndent: fc.integer({ min: 0, max: 2 }),
  comment: fc.boolean(),
  blank: fc.boolean(),
  strip: fc.boolean(),
});

function flowText(t: Tree): string {
  if ('scalar' in t) return t.scalar;
  if ('literal' in t) return JSON.stringify(t.literal);
  if ('map' in t) return `{${t.map.map(([k, v]) => `${k}: ${flowText(v)}`).join(', ')}}`;
  return `[${t.seq.map(flowText).join(', ')}]`;
}

/** Block layout of `t` as a map value or sequence entry at column `col`. */
function blockLines(t: Tree, col: number, s: Style): string[] {
  const pad = ' '.repeat(col);
  const extra: string[] = [];
  if (s.blank) extra.push('');
  if (s.comment) extra.push(`${pad}# note`);
  if ('map' in t) {
    if (t.map.length === 0) return [`${pad}{}`];
    const out: string[] = [];
    for (const [k, v] of t.map) {
      if ('scalar' in v || (s.flow && !('literal' in v))) out.push(`${pad}${k}: ${flowText(v)}`);
      else if ('literal' in v)
        out.push(
          `${pad}${k}: |${s.strip ? '-' : ''}`,
          ...v.literal.split('\n').map((l) => `${pad}${' '.repeat(s.indent)}${l}`),
        );
      else {
        out.push(`${pad}${k}:`);
        const inner = 'seq' in v ? col + s.seqIndent : col + s.indent;
        out.push(...blockLines(v, inner, s));
      }
      out.push(...extra);
    }
    return out;
  }
  if ('seq' in t) {
    if (t.seq.length === 0) return [`${pad}[]`];
    const out: string[] = [];
    for (const v of t.seq) {
      if ('map' in v && v.map.length > 0 && !s.flow) {
        const lines = blockLines(v, col + 2, s);
        out.push(`${pad}- ${(lines[0] ?? '').trimStart()}`, ...lines.slice(1));
      } else if ('literal' in v && !s.flow) {
        out.push(
          `${pad}- |${s.strip ? '-' : ''}`,
          ...v.literal.split('\n').map((l) => `${pad}${' '.repeat(s.indent)}${l}`),
        );
      } else if ('scalar' in v || s.flow || 'literal' in v || 'map' in v)
        out.push(`${pad}- ${flowText(v)}`);
      else out.push(`${pad}-`, ...blockLines(v, col + s.indent, s));
      out.push(...extra);
    }
    return out;
  }
  return [`${pad}${flowText(t)}`];
}

const documentArb = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom('metadata', 'spec', 'a', 'name'), treeArb), {
      minLength: 1,
      maxLength: 3,
    }),
    styleArb,
    fc.boolean(),
  )
  .map(([entries, style, trailingNewline]) => {
    const text = blockLines({ map: entries }, 0, style).join('\n');
    return trailingNewline ? `${text}\n` : text;
  });
