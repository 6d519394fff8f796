/**
 * Loads the injector configuration from its raw inputs (spec §8): the `config` and `values` keys
 * of the `istio-sidecar-injector` ConfigMap, the `mesh` key of the `istio` ConfigMap, an optional
 * IstioOperator overlay and istioctl-style `--set` flags. Runs once per configuration change,
 * never per request. Every problem is collected and reported with its path.
 *
 * The parts live beside this file: field rules in `rules.ts`, `--set` in `set-flags.ts`, the
 * IstioOperator overlay in `istio-operator.ts`, the chart's derived mesh in `chart-mesh.ts`.
 */
import { InjectorError, type ErrorDetail } from '../../errors.js';
import { getPath, isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import type { ConfigSources } from '../contracts.js';
import type { StringMap } from '../pod-types.js';
import { checkProxyConfigObject } from '../proxy-config.js';
import { parseYamlDocument } from '../yaml.js';
import { chartMesh, str0 } from './chart-mesh.js';
import { checkFields, checkMaps, stringList } from './checks.js';
import {
  buildTemplateSet,
  EMBEDDED_TEMPLATES,
  type TemplateSet,
} from '../pipeline/template-set.js';
import { DEFAULT_INJECTOR_CONFIG, DEFAULT_MESH, DEFAULT_VALUES } from './defaults.js';
import { istioOperatorOverlays } from './istio-operator.js';
import { cloneJson, deepFreeze, mergeMeshObjects, mergeValues } from './merge.js';
import { INJECTOR_RULES, MESH_RULES, VALUES_MAPS, VALUES_RULES } from './rules.js';
import { applySetFlags } from './set-flags.js';
import type {
  ConfigIssue,
  ConfigResult,
  InjectionConfig,
  InjectorConfig,
  LabelSelector,
  MeshConfig,
} from './types.js';

/** The raw texts of `ConfigSources` plus the command-line overlays. */
export interface ConfigSourceTexts extends ConfigSources {
  /** istioctl-style `--set` flags: `values.a.b=v`, `meshConfig.a.b=v`, `components.cni.enabled=true`. */
  set?: readonly string[];
  /** An IstioOperator document: `spec.values`, `spec.meshConfig`, `spec.components.cni.enabled`. */
  istioOperator?: string;
}

export interface LoadOptions {
  /** The injector's revision; defaults to values `revision`, else `default`. */
  revision?: string;
  /** false: every template text runs through the engine, even a proven one (fast-path proof). */
  nativeFastPath?: boolean;
}

/**
 * One ConfigMap text read as istiod reads it: sigs.k8s.io/yaml over go-yaml v2 (YAML 1.1), the
 * injector `config` into Go string fields throughout (inject.UnmarshalConfig), the others into
 * typed or untyped fields (protomarshal.ApplyYAML, yaml.Unmarshal into a map).
 */
function parseYamlMap(
  text: string | undefined,
  path: string,
  issues: ConfigIssue[],
): JsonObject | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const result = parseYamlDocument(text, {
    uniqueKeys: false,
    resolution: path === 'config' ? 'go-strings' : 'go',
  });
  if (!result.ok) {
    for (const error of result.errors)
      issues.push({ path, message: `not valid YAML/JSON: ${error}` });
    return undefined;
  }
  const parsed = result.value;
  if (parsed === null || parsed === undefined) return undefined;
  if (!isJsonObject(parsed)) {
    issues.push({ path, message: 'expected a map at the top level' });
    return undefined;
  }
  return parsed;
}

/** IstioOperator's `values.cni.*` and `components.cni.enabled` surface as `pilot.cni.*` in the injector values. */
function relocateCniValues(values: JsonObject): void {
  const cni = values['cni'];
  if (!isJsonObject(cni) || cni['provider'] === undefined) return;
  const pilot = isJsonObject(values['pilot']) ? values['pilot'] : (values['pilot'] = {});
  const pilotCni = isJsonObject(pilot['cni']) ? pilot['cni'] : (pilot['cni'] = {});
  pilotCni['provider'] = cni['provider'];
}

function selectorsOf(value: JsonValue | undefined): LabelSelector[] {
  return Array.isArray(value) ? (cloneJson(value) as unknown as LabelSelector[]) : [];
}

function stringMapOf(value: JsonValue | undefined): StringMap {
  return isJsonObject(value) ? (cloneJson(value) as StringMap) : {};
}

function stringListOf(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function checkAliases(config: JsonObject, issues: ConfigIssue[]): Record<string, string[]> {
  const aliases: Record<string, string[]> = {};
  const raw = config['aliases'];
  if (!isJsonObject(raw)) return aliases;
  for (const [name, list] of Object.entries(raw)) {
    // A YAML null reads as Go's nil slice: an alias to nothing.
    if (list === undefined || list === null) {
      aliases[name] = [];
      continue;
    }
    const before = issues.length;
    stringList(list, `config.aliases.${name}`, issues);
    if (issues.length === before) aliases[name] = stringListOf(list);
  }
  return aliases;
}

function buildInjectorConfig(
  configDoc: JsonObject | undefined,
  values: JsonObject,
  issues: ConfigIssue[],
): InjectorConfig {
  const webhook = isJsonObject(values['sidecarInjectorWebhook'])
    ? values['sidecarInjectorWebhook']
    : {};
  const valueTemplates = stringMapOf(webhook['templates']);
  if (configDoc === undefined) {
    const defaults = stringListOf(webhook['defaultTemplates']);
    return {
      policy: str0(getPath(values, 'global.proxy.autoInject')) || DEFAULT_INJECTOR_CONFIG.policy,
      defaultTemplates: defaults.length > 0 ? defaults : ['sidecar'],
      aliases: {},
      neverInjectSelector: selectorsOf(webhook['neverInjectSelector']),
      alwaysInjectSelector: selectorsOf(webhook['alwaysInjectSelector']),
      injectedAnnotations: stringMapOf(webhook['injectedAnnotations']),
      customTemplates: valueTemplates,
    };
  }
  checkFields(configDoc, INJECTOR_RULES, 'config', issues);
  const defaults = stringListOf(configDoc['defaultTemplates']);
  const policy = configDoc['policy'];
  return {
    policy: typeof policy === 'string' ? policy : DEFAULT_INJECTOR_CONFIG.policy,
    defaultTemplates: defaults.length > 0 ? defaults : ['sidecar'],
    aliases: checkAliases(configDoc, issues),
    neverInjectSelector: selectorsOf(configDoc['neverInjectSelector']),
    alwaysInjectSelector: selectorsOf(configDoc['alwaysInjectSelector']),
    injectedAnnotations: stringMapOf(configDoc['injectedAnnotations']),
    customTemplates: valueTemplates,
  };
}

/**
 * The templates this configuration runs, compiled once here. `config.templates` (even `{}` or a
 * YAML null, which istiod reads as an empty map) is the whole set, with values
 * `sidecarInjectorWebhook.templates` over it as the chart writes them; with no `templates` key
 * the embedded built-ins run, plus the values' templates. A broken text is a load error.
 */
function compileConfigTemplates(
  configDoc: JsonObject | undefined,
  injector: InjectorConfig,
  options: LoadOptions,
  issues: ConfigIssue[],
): TemplateSet | undefined {
  const own = configDoc !== undefined && Object.hasOwn(configDoc, 'templates');
  const values = injector.customTemplates;
  if (!own && Object.keys(values).length === 0) return undefined;
  const texts: Record<string, string> = Object.create(null) as Record<string, string>;
  Object.assign(texts, own ? stringMapOf(configDoc['templates']) : {}, values);
  // A non-string text is already reported by the field rules.
  for (const [name, text] of Object.entries(texts))
    if (typeof text !== 'string') delete texts[name];
  const built = buildTemplateSet(texts, { nativeFastPath: options.nativeFastPath !== false });
  if (!built.ok) {
    issues.push(...built.issues);
    return undefined;
  }
  if (own) return built.templates;
  return new Map([...EMBEDDED_TEMPLATES, ...built.templates]);
}

/**
 * istiod reads `config` through JSON into Go fields, where a YAML null (Helm writes an empty
 * `injectedAnnotations:`) is the field's zero value: the same as leaving the key out.
 */
function withoutNullFields(doc: JsonObject | undefined): JsonObject | undefined {
  if (doc === undefined) return undefined;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(doc)) if (value !== null) out[key] = value;
  return out;
}

function dedupe(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------

/**
 * Builds the injection configuration. Absent or blank inputs mean the embedded defaults.
 * Returns every problem found (by path) instead of the first; unknown fields are tolerated.
 */
export function loadInjectionConfig(
  sources: ConfigSourceTexts,
  options: LoadOptions = {},
): ConfigResult {
  const issues: ConfigIssue[] = [];

  const valuesDoc = parseYamlMap(sources.values, 'values', issues);
  const operator = istioOperatorOverlays(
    parseYamlMap(sources.istioOperator, 'istioOperator', issues),
    issues,
  );
  const setOverlays = applySetFlags(sources.set ?? []);
  issues.push(...setOverlays.issues);

  let values = cloneJson(DEFAULT_VALUES);
  for (const overlay of [valuesDoc, operator.values, setOverlays.values]) {
    if (overlay === undefined) continue;
    relocateCniValues(overlay);
    values = mergeValues(values, overlay);
  }
  checkMaps(values, ['global.proxy', ...VALUES_MAPS, 'pilot.env', 'meshConfig'], 'values', issues);
  checkFields(values, VALUES_RULES, 'values', issues);

  const meshDoc = parseYamlMap(sources.mesh, 'mesh', issues);
  let mesh = cloneJson(DEFAULT_MESH) as JsonObject;
  mesh = mergeMeshObjects(mesh, meshDoc ?? chartMesh(values));
  if (operator.mesh !== undefined) mesh = mergeMeshObjects(mesh, operator.mesh);
  if (Object.keys(setOverlays.mesh).length > 0) mesh = mergeMeshObjects(mesh, setOverlays.mesh);
  checkFields(mesh, MESH_RULES, 'mesh', issues);
  const defaultConfig = mesh['defaultConfig'];
  if (isJsonObject(defaultConfig))
    checkProxyConfigObject(defaultConfig, 'mesh.defaultConfig', issues);

  const configDoc = parseYamlMap(sources.config, 'config', issues);
  const injector = buildInjectorConfig(withoutNullFields(configDoc), values, issues);
  const templates = compileConfigTemplates(configDoc, injector, options, issues);

  if (issues.length > 0) return { ok: false, issues: dedupe(issues) };

  const revision = options.revision || str0(values['revision']) || 'default';
  const config: InjectionConfig = {
    injector,
    values: values,
    mesh: mesh as MeshConfig,
    revision,
    ...(templates === undefined ? {} : { templates }),
  };
  return { ok: true, config: deepFreeze(config) };
}

/** `path: message` lines, one per issue. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('\n');
}

/** The coded error for a failed load, every issue kept as a detail. */
export function configError(issues: readonly ConfigIssue[]): InjectorError {
  const details: ErrorDetail[] = issues.map((i) => ({ field: i.path, reason: i.message }));
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return new InjectorError(
    'INJ_ERR_CONFIG_INVALID',
    `injector configuration has ${count}:\n${formatConfigIssues(issues)}`,
    { details },
  );
}

/** Loads or throws INJ_ERR_CONFIG_INVALID listing every problem. */
export function loadInjectionConfigOrThrow(
  sources: ConfigSourceTexts,
  options: LoadOptions = {},
): InjectionConfig {
  const result = loadInjectionConfig(sources, options);
  if (!result.ok) throw configError(result.issues);
  return result.config;
}
