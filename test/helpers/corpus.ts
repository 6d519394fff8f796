/**
 * Istio's injection test corpus (../shared/conformance/istio), read at run time: cases.json, the
 * corpus files, and the configuration a case describes (the harness profile of cases.json, the
 * case's set flags, IstioOperator overlay and mesh override).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadInjectionConfig } from '../../src/core/config/load.js';
import { mergeMeshObjects } from '../../src/core/config/merge.js';
import type { InjectionConfig, MeshConfig } from '../../src/core/config/types.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';
import { CONFORMANCE_DIR, CORPUS_DIR } from './shared.js';

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

let casesJson: unknown;

/** cases.json, parsed once, for readers that type the parts they use; treat it as read-only. */
export function readCasesJson(): unknown {
  casesJson ??= JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'cases.json'), 'utf8'));
  return casesJson;
}

export function readCasesFile(): CasesFile {
  return readCasesJson() as CasesFile;
}

/** A file of the corpus (`inject/` below the conformance directory). */
export function readCorpusFile(name: string): string {
  return readFileSync(join(CORPUS_DIR, name), 'utf8');
}

/** The image hub of the chart's default values: the harness profile uses it with tag `latest`. */
export function chartHub(): string {
  const chart = parseAllDocuments(
    readFileSync(join(CONFORMANCE_DIR, 'values.default.yaml'), 'utf8'),
  )[0]?.toJS() as { _internal_defaults_do_not_set?: { global?: { hub?: unknown } } } | undefined;
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
): InjectionConfig {
  const key = JSON.stringify([c.setFlags, c.inFilePath, c.mesh]);
  const cached = configCache.get(key);
  if (cached) return cached;
  const result = loadInjectionConfig({
    values: JSON.stringify({ global: { hub: chartHub(), tag: 'latest' } }),
    set: c.setFlags ?? [],
    ...(c.inFilePath ? { istioOperator: readCorpusFile(c.inFilePath) } : {}),
  });
  if (!result.ok)
    throw new Error(`configuration of ${c.testName}: ${JSON.stringify(result.issues)}`);
  let config = result.config;
  if (c.mesh) config = { ...config, mesh: overrideMesh(config.mesh, c.mesh) };
  configCache.set(key, config);
  return config;
}
