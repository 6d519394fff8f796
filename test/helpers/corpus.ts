/**
 * Istio's injection test corpus (../shared/conformance/istio), read at run time: cases.json, the
 * corpus files, and the configuration a case describes (the harness profile of cases.json, the
 * case's set flags, IstioOperator overlay and mesh override).
 */
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadInjectionConfig, type LoadOptions } from '../../src/core/config/load.js';
import { mergeMeshObjects } from '../../src/core/config/merge.js';
import type { InjectionConfig, MeshConfig } from '../../src/core/config/types.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CONFORMANCE_DIR, SHARED_DIR } from './shared.js';

/**
 * One corpus directory (cases.json + inject/) and the Istio release it was generated at: `istio`
 * is master, `istio-<version>` that version. Its configuration comes from
 * ../shared/conformance/istio-configmaps/<release> (the release's Helm-rendered ConfigMaps),
 * when that folder exists, so each corpus runs its own release's templates and values.
 */
export interface Corpus {
  dir: string;
  release: string;
  /** The release's `config`, `values` and `mesh` texts, or undefined (harness profile only). */
  configMaps: { config: string; values: string; mesh: string } | undefined;
}

const corpora = new Map<string, Corpus>();

export function corpusAt(dir: string): Corpus {
  const full = resolve(dir);
  const known = corpora.get(full);
  if (known) return known;
  const name = basename(full);
  const release = name === 'istio' ? 'master' : name.replace(/^istio-/, '');
  const cm = join(SHARED_DIR, 'conformance', 'istio-configmaps', release);
  const configMaps = existsSync(join(cm, 'config'))
    ? {
        config: readFileSync(join(cm, 'config'), 'utf8'),
        values: readFileSync(join(cm, 'values'), 'utf8'),
        mesh: readFileSync(join(cm, 'mesh'), 'utf8'),
      }
    : undefined;
  const corpus = { dir: full, release, configMaps };
  corpora.set(full, corpus);
  return corpus;
}

/** The default corpus: Istio master's. */
export const MASTER_CORPUS: Corpus = corpusAt(CONFORMANCE_DIR);

/** One entry of cases.json `cases` (see its fieldGuide). */
export interface CorpusCase {
  index: number;
  testName: string;
  in: string;
  want: string | null;
  setFlags: string[] | null;
  inFilePath: string | null;
  mesh: JsonObject | null;
  setup: Record<string, string> | null;
  skipWebhook: boolean;
  skipInjection: boolean;
  expectedError: string | null;
  nativeSidecarsGlobal: boolean;
}

export interface CasesFile {
  cases: CorpusCase[];
  olderVersionCases: { cases: { in: string; want: string; skipWebhook: boolean }[] };
  /** Istio's webhook unit-test tables, transcribed; each reader declares the shape it uses. */
  webhookTests: Record<string, JsonObject>;
}

const casesJson = new Map<string, unknown>();

/** cases.json, parsed once, for readers that type the parts they use; treat it as read-only. */
export function readCasesJson(corpus: Corpus = MASTER_CORPUS): unknown {
  let parsed = casesJson.get(corpus.dir);
  if (parsed === undefined) {
    parsed = JSON.parse(readFileSync(join(corpus.dir, 'cases.json'), 'utf8'));
    casesJson.set(corpus.dir, parsed);
  }
  return parsed;
}

export function readCasesFile(corpus: Corpus = MASTER_CORPUS): CasesFile {
  return readCasesJson(corpus) as CasesFile;
}

/** A file of the corpus (`inject/` below the conformance directory). */
export function readCorpusFile(name: string, corpus: Corpus = MASTER_CORPUS): string {
  return readFileSync(join(corpus.dir, 'inject', name), 'utf8');
}

/** The image hub of the chart's default values: the harness profile uses it with tag `latest`. */
export function chartHub(corpus: Corpus = MASTER_CORPUS): string {
  const file = join(corpus.dir, 'values.default.yaml');
  if (!existsSync(file)) return 'registry.istio.io/testing';
  const chart = parseAllDocuments(readFileSync(file, 'utf8'))[0]?.toJS() as
    { _internal_defaults_do_not_set?: { global?: { hub?: unknown } } } | undefined;
  const hub = chart?._internal_defaults_do_not_set?.global?.hub;
  return typeof hub === 'string' && hub !== '' ? hub : 'registry.istio.io/testing';
}

function withoutNotes(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutNotes);
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value))
    if (!k.startsWith('_') && v !== undefined) out[k] = withoutNotes(v);
  return out;
}

/** Applies a case's mesh override (proto field names) over the loaded mesh. */
function overrideMesh(mesh: MeshConfig, override: JsonObject): MeshConfig {
  const extra = override.extensionProviders;
  const rest: JsonObject = { ...override };
  delete rest.extensionProviders;
  let out = mergeMeshObjects(structuredClone(mesh), withoutNotes(rest) as JsonObject);
  if (isJsonObject(extra) && isJsonObject(extra.provider)) {
    const list = Array.isArray(out.extensionProviders) ? out.extensionProviders : [];
    out = { ...out, extensionProviders: [...list, withoutNotes(extra.provider)] };
  }
  return out as MeshConfig;
}

const configCache = new Map<string, InjectionConfig>();

/** The configuration a case describes; cases with the same settings share one (read-only). */
export function configFor(
  c: Pick<CorpusCase, 'testName' | 'setFlags' | 'inFilePath' | 'mesh'>,
  corpus: Corpus = MASTER_CORPUS,
  options: LoadOptions = {},
): InjectionConfig {
  const key = JSON.stringify([corpus.dir, c.setFlags, c.inFilePath, c.mesh, options]);
  const cached = configCache.get(key);
  if (cached) return cached;
  const base =
    corpus.release === 'master' || corpus.configMaps === undefined
      ? { values: JSON.stringify({ global: { hub: chartHub(corpus), tag: 'latest' } }) }
      : corpus.configMaps;
  const result = loadInjectionConfig(
    {
      ...base,
      set: c.setFlags ?? [],
      ...(c.inFilePath ? { istioOperator: readCorpusFile(c.inFilePath, corpus) } : {}),
    },
    options,
  );
  if (!result.ok)
    throw new Error(`configuration of ${c.testName}: ${JSON.stringify(result.issues)}`);
  let config = result.config;
  if (c.mesh) config = { ...config, mesh: overrideMesh(config.mesh, c.mesh) };
  configCache.set(key, config);
  return config;
}
