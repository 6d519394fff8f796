/**
 * Loads the injector configuration from its raw inputs (spec §8): the `config` and `values` keys
 * of the `istio-sidecar-injector` ConfigMap, the `mesh` key of the `istio` ConfigMap, an optional
 * IstioOperator overlay and istioctl-style `--set` flags. Runs once per configuration change,
 * never per request. Every problem is collected and reported with its path.
 */
import { InjectorError, type ErrorDetail } from '../../errors.js';
import { getPath, isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import type { StringMap } from '../k8s.js';
import { cidrListError, portListError } from '../annotations/net.js';
import { isQuantityError, parseQuantity } from '../quantity.js';
import { checkProxyConfigObject } from '../proxy-config.js';
import { parseYamlDocument } from '../yaml.js';
import {
  bool,
  checkFields,
  checkMaps,
  labelSelectorList,
  object,
  objectList,
  oneOf,
  optionalBool,
  port,
  quantityMap,
  scalarMap,
  str,
  stringFormat,
  stringList,
  stringMap,
  stringOrNumber,
  uint32,
  type FieldRule,
} from './checks.js';
import {
  BUILTIN_TEMPLATE_NAMES,
  DEFAULT_INJECTOR_CONFIG,
  DEFAULT_MESH,
  DEFAULT_VALUES,
} from './defaults.js';
import { cloneJson, deepFreeze, mergeMeshObjects, mergeValues } from './merge.js';
import type {
  ConfigIssue,
  ConfigResult,
  InjectionConfig,
  InjectorConfig,
  LabelSelector,
  MeshConfig,
} from './types.js';

/** Raw configuration texts; structurally the same as `ConfigSources` in src/ports.ts, plus overlays. */
export interface ConfigSourceTexts {
  /** `config` key (YAML): policy, defaultTemplates, aliases, selectors, injectedAnnotations, templates. */
  config?: string;
  /** `values` key (JSON or YAML), deep-merged over the embedded defaults. */
  values?: string;
  /** `mesh` key (YAML MeshConfig), merged over the built-in defaults. */
  mesh?: string;
  /** istioctl-style `--set` flags: `values.a.b=v`, `meshConfig.a.b=v`, `components.cni.enabled=true`. */
  set?: readonly string[];
  /** An IstioOperator document: `spec.values`, `spec.meshConfig`, `spec.components.cni.enabled`. */
  istioOperator?: string;
}

export interface LoadOptions {
  /** The injector's revision; defaults to values `revision`, else `default`. */
  revision?: string;
}

// ---------------------------------------------------------------------------------------------
// Type rules for every field the injection reads (spec §6-§8).

const tcpPortList = stringFormat((v) => portListError(v));
const inboundPorts = stringFormat((v) => (v === '*' ? undefined : portListError(v)));
const includeRanges = stringFormat((v) => (v === '*' ? undefined : cidrListError(v)));
const excludeRanges = stringFormat((v) => cidrListError(v));
const resourceList = quantityMap((text) =>
  isQuantityError(parseQuantity(text))
    ? 'expected a resource quantity such as "100m" or "1Gi"'
    : undefined,
);

const VALUES_RULES: readonly FieldRule[] = [
  { path: 'global.hub', check: str },
  { path: 'global.tag', check: stringOrNumber },
  { path: 'global.variant', check: str },
  { path: 'global.istioNamespace', check: str },
  { path: 'global.imagePullPolicy', check: oneOf(['', 'Always', 'IfNotPresent', 'Never']) },
  { path: 'global.imagePullSecrets', check: stringList },
  { path: 'global.caAddress', check: str },
  { path: 'global.caName', check: str },
  { path: 'global.pilotCertProvider', check: str },
  { path: 'global.trustBundleName', check: str },
  { path: 'global.trustDomain', check: str },
  { path: 'global.meshID', check: str },
  { path: 'global.network', check: str },
  { path: 'global.multiCluster.clusterName', check: str },
  { path: 'global.logging.level', check: str },
  { path: 'global.logAsJson', check: bool },
  { path: 'global.nativeNftables', check: bool },
  { path: 'global.mountMtlsCerts', check: bool },
  { path: 'global.sds.token.aud', check: str },
  { path: 'global.sts.servicePort', check: port },
  { path: 'global.proxy.image', check: str },
  { path: 'global.proxy.autoInject', check: str },
  { path: 'global.proxy.clusterDomain', check: str },
  { path: 'global.proxy.logLevel', check: str },
  { path: 'global.proxy.componentLogLevel', check: str },
  { path: 'global.proxy.includeIPRanges', check: includeRanges },
  { path: 'global.proxy.excludeIPRanges', check: excludeRanges },
  { path: 'global.proxy.includeInboundPorts', check: inboundPorts },
  { path: 'global.proxy.excludeInboundPorts', check: tcpPortList },
  { path: 'global.proxy.includeOutboundPorts', check: tcpPortList },
  { path: 'global.proxy.excludeOutboundPorts', check: tcpPortList },
  { path: 'global.proxy.statusPort', check: port },
  { path: 'global.proxy.readinessInitialDelaySeconds', check: uint32 },
  { path: 'global.proxy.readinessPeriodSeconds', check: uint32 },
  { path: 'global.proxy.readinessFailureThreshold', check: uint32 },
  { path: 'global.proxy.startupProbe.enabled', check: bool },
  { path: 'global.proxy.startupProbe.failureThreshold', check: uint32 },
  { path: 'global.proxy.resources', check: object },
  { path: 'global.proxy.resources.requests', check: resourceList },
  { path: 'global.proxy.resources.limits', check: resourceList },
  { path: 'global.proxy.privileged', check: bool },
  { path: 'global.proxy.seccompProfile', check: object },
  { path: 'global.proxy.lifecycle', check: object },
  { path: 'global.proxy.holdApplicationUntilProxyStarts', check: bool },
  { path: 'global.proxy.capNetBindService', check: bool },
  { path: 'global.proxy.outlierLogPath', check: str },
  { path: 'global.proxy.tracer', check: str },
  { path: 'global.proxy_init.image', check: str },
  { path: 'global.proxy_init.forceApplyIptables', check: bool },
  { path: 'sidecarInjectorWebhook.rewriteAppHTTPProbe', check: bool },
  { path: 'sidecarInjectorWebhook.enableNamespacesByDefault', check: bool },
  { path: 'sidecarInjectorWebhook.reinvocationPolicy', check: oneOf(['Never', 'IfNeeded']) },
  { path: 'sidecarInjectorWebhook.neverInjectSelector', check: labelSelectorList },
  { path: 'sidecarInjectorWebhook.alwaysInjectSelector', check: labelSelectorList },
  { path: 'sidecarInjectorWebhook.injectedAnnotations', check: stringMap },
  { path: 'sidecarInjectorWebhook.defaultTemplates', check: stringList },
  { path: 'sidecarInjectorWebhook.templates', check: stringMap },
  { path: 'revision', check: str },
  { path: 'pilot.cni.enabled', check: bool },
  { path: 'pilot.cni.provider', check: str },
  { path: 'pilot.env', check: scalarMap },
  { path: 'pilot.crlConfigMapName', check: str },
  { path: 'gateways.securityContext', check: object },
  { path: 'gateways.seccompProfile', check: object },
  { path: 'meshConfig', check: object },
  { path: 'meshConfig.enablePrometheusMerge', check: optionalBool },
];

/** Containers of the rules above: each must be a map when present. */
const VALUES_MAPS = [
  'global.proxy.startupProbe',
  'global.proxy_init',
  'global.logging',
  'global.multiCluster',
  'global.sds.token',
  'global.sts',
  'sidecarInjectorWebhook',
  'pilot.cni',
];

const MESH_RULES: readonly FieldRule[] = [
  { path: 'trustDomain', check: str },
  { path: 'rootNamespace', check: str },
  { path: 'proxyListenPort', check: port },
  { path: 'proxyInboundListenPort', check: port },
  { path: 'enablePrometheusMerge', check: optionalBool },
  { path: 'inboundTrafficPolicy', check: object },
  { path: 'inboundTrafficPolicy.mode', check: oneOf(['PASSTHROUGH', 'LOCALHOST']) },
  { path: 'extensionProviders', check: objectList },
  { path: 'defaultConfig', check: object },
];

const INJECTOR_RULES: readonly FieldRule[] = [
  { path: 'policy', check: str },
  { path: 'defaultTemplates', check: stringList },
  { path: 'neverInjectSelector', check: labelSelectorList },
  { path: 'alwaysInjectSelector', check: labelSelectorList },
  { path: 'injectedAnnotations', check: stringMap },
  { path: 'templates', check: stringMap },
  { path: 'aliases', check: object },
];

// ---------------------------------------------------------------------------------------------
// Parsing helpers.

function parseYamlMap(
  text: string | undefined,
  path: string,
  issues: ConfigIssue[],
): JsonObject | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const result = parseYamlDocument(text, { uniqueKeys: false });
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

/** Splits a `--set` path on dots, honouring `\.` escapes (keys such as `proxy.istio.io/config`). */
function splitSetPath(path: string): string[] {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i += 1) {
    const ch = path[i];
    if (ch === '\\' && path[i + 1] === '.') {
      current += '.';
      i += 1;
    } else if (ch === '.') {
      segments.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  segments.push(current);
  return segments;
}

/** istioctl-style scalar typing: booleans, integers and `null`; anything else stays a string. */
function coerceSetValue(text: string): JsonValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (/^-?(0|[1-9]\d*)$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  return text;
}

/** Sets a value at `segments`, where a segment `name[3]` addresses a list element. */
function setPathValue(root: JsonObject, segments: readonly string[], value: JsonValue): void {
  let container: JsonObject | JsonValue[] = root;
  segments.forEach((raw, index) => {
    const match = /^(.*)\[(\d+)\]$/.exec(raw);
    const keys: (string | number)[] = match ? [match[1] ?? '', Number(match[2])] : [raw];
    keys.forEach((key, keyIndex) => {
      const last = index === segments.length - 1 && keyIndex === keys.length - 1;
      const nextIsIndex = keyIndex < keys.length - 1;
      const get = (): JsonValue | undefined =>
        Array.isArray(container) ? container[key as number] : container[key as string];
      const put = (v: JsonValue): void => {
        if (Array.isArray(container)) container[key as number] = v;
        else container[key as string] = v;
      };
      if (last) {
        put(value);
        return;
      }
      let next = get();
      if (nextIsIndex ? !Array.isArray(next) : !isJsonObject(next)) {
        next = nextIsIndex ? [] : {};
        put(next);
      }
      container = next as JsonObject | JsonValue[];
    });
  });
}

/** IstioOperator's `values.cni.*` and `components.cni.enabled` surface as `pilot.cni.*` in the injector values. */
function relocateCniValues(values: JsonObject): void {
  const cni = values['cni'];
  if (!isJsonObject(cni) || cni['provider'] === undefined) return;
  const pilot = isJsonObject(values['pilot']) ? values['pilot'] : (values['pilot'] = {});
  const pilotCni = isJsonObject(pilot['cni']) ? pilot['cni'] : (pilot['cni'] = {});
  pilotCni['provider'] = cni['provider'];
}

export interface SetFlagOverlays {
  values: JsonObject;
  mesh: JsonObject;
  issues: ConfigIssue[];
}

/**
 * Turns istioctl-style `--set` flags into a values overlay and a mesh overlay.
 * `values.a.b=v` -> values; `meshConfig.a.b=v` -> mesh; `components.cni.enabled=true` ->
 * values `pilot.cni.enabled`; `values.cni.provider=x` -> values `pilot.cni.provider`;
 * `revision`, `hub`, `tag` -> values `revision`, `global.hub`, `global.tag`. A leading `spec.` is
 * accepted. Values are typed like istioctl: `true`/`false`, integers, `null`; else strings
 * (a comma list such as `172.30.0.0/16,172.20.0.0/16` stays one string).
 */
export function applySetFlags(flags: readonly string[]): SetFlagOverlays {
  const values: JsonObject = {};
  const mesh: JsonObject = {};
  const issues: ConfigIssue[] = [];
  flags.forEach((flag, index) => {
    const at = `set[${index}]`;
    const eq = flag.indexOf('=');
    if (eq <= 0) {
      issues.push({ path: at, message: `expected path=value, got ${JSON.stringify(flag)}` });
      return;
    }
    let segments = splitSetPath(flag.slice(0, eq).trim());
    if (segments[0] === 'spec') segments = segments.slice(1);
    const value = coerceSetValue(flag.slice(eq + 1));
    const [head, ...rest] = segments;
    if (segments.some((s) => s === '')) {
      issues.push({
        path: at,
        message: `empty segment in path ${JSON.stringify(flag.slice(0, eq))}`,
      });
      return;
    }
    if (head === 'values' && rest.length > 0) {
      if (rest[0] === 'cni' && rest[1] === 'provider' && rest.length === 2) {
        setPathValue(values, ['pilot', 'cni', 'provider'], value);
      } else {
        setPathValue(values, rest, value);
      }
    } else if (head === 'meshConfig' && rest.length > 0) {
      setPathValue(mesh, rest, value);
    } else if (head === 'components') {
      if (rest.join('.') === 'cni.enabled')
        setPathValue(values, ['pilot', 'cni', 'enabled'], value);
      // Other components concern the installation, not injection: accepted and ignored.
    } else if (head === 'revision' && rest.length === 0) {
      setPathValue(values, ['revision'], value);
    } else if ((head === 'hub' || head === 'tag') && rest.length === 0) {
      setPathValue(values, ['global', head], value);
    } else if (head === 'profile' && rest.length === 0) {
      // The profile selects installed components; it does not change injection.
    } else {
      issues.push({
        path: at,
        message: `unsupported path ${JSON.stringify(flag.slice(0, eq))}: use values.*, meshConfig.*, components.cni.enabled, revision, hub or tag`,
      });
    }
  });
  return { values, mesh, issues };
}

interface OperatorOverlays {
  values?: JsonObject;
  mesh?: JsonObject;
}

function parseIstioOperator(text: string | undefined, issues: ConfigIssue[]): OperatorOverlays {
  const doc = parseYamlMap(text, 'istioOperator', issues);
  if (doc === undefined) return {};
  const kind = doc['kind'];
  if (kind !== undefined && kind !== 'IstioOperator') {
    issues.push({
      path: 'istioOperator.kind',
      message: `expected IstioOperator, got ${JSON.stringify(kind)}`,
    });
    return {};
  }
  const spec = doc['spec'];
  if (spec === undefined || spec === null) return {};
  if (!isJsonObject(spec)) {
    issues.push({ path: 'istioOperator.spec', message: 'expected a map' });
    return {};
  }
  const result: OperatorOverlays = {};
  const values = spec['values'];
  if (values !== undefined && values !== null) {
    if (isJsonObject(values)) result.values = cloneJson(values);
    else issues.push({ path: 'istioOperator.spec.values', message: 'expected a map' });
  }
  const overlay = result.values ?? {};
  for (const key of ['revision', 'hub', 'tag'] as const) {
    const v = spec[key];
    if (v === undefined || v === null) continue;
    if (key === 'revision') overlay['revision'] = v;
    else {
      const global = isJsonObject(overlay['global']) ? overlay['global'] : (overlay['global'] = {});
      global[key] = v;
    }
    result.values = overlay;
  }
  const cniEnabled = isJsonObject(spec['components']) ? spec['components']['cni'] : undefined;
  if (isJsonObject(cniEnabled) && cniEnabled['enabled'] !== undefined) {
    setPathValue(overlay, ['pilot', 'cni', 'enabled'], cniEnabled['enabled'] ?? null);
    result.values = overlay;
  }
  const meshConfig = spec['meshConfig'];
  if (meshConfig !== undefined && meshConfig !== null) {
    if (isJsonObject(meshConfig)) result.mesh = cloneJson(meshConfig);
    else issues.push({ path: 'istioOperator.spec.meshConfig', message: 'expected a map' });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Derivations the istiod chart performs.

function str0(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** The mesh the chart's `istio` ConfigMap would hold for these values (spec §8.2). */
function chartMesh(values: JsonObject): JsonObject {
  const namespace = str0(getPath(values, 'global.istioNamespace')) || 'istio-system';
  const revision = str0(getPath(values, 'revision'));
  const istiod = revision === '' ? 'istiod' : `istiod-${revision}`;
  const defaultConfig: JsonObject = { discoveryAddress: `${istiod}.${namespace}.svc:15012` };
  const meshID = str0(getPath(values, 'global.meshID'));
  if (meshID !== '') defaultConfig['meshId'] = meshID;
  const variant =
    str0(getPath(values, 'global.proxy.variant')) || str0(getPath(values, 'global.variant'));
  if (variant !== '') defaultConfig['image'] = { imageType: variant };
  const tracer = str0(getPath(values, 'global.proxy.tracer'));
  if (tracer === 'zipkin') {
    defaultConfig['tracing'] = { zipkin: { address: `zipkin.${namespace}:9411` } };
  }
  const mesh: JsonObject = { rootNamespace: namespace, defaultConfig };
  const trustDomain = str0(getPath(values, 'global.trustDomain'));
  if (trustDomain !== '') mesh['trustDomain'] = trustDomain;
  const meshConfig = getPath(values, 'meshConfig');
  return isJsonObject(meshConfig) ? mergeMeshObjects(mesh, meshConfig) : mesh;
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
    if (list === undefined) continue;
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
  // The chart writes the built-in templates' Go text into `templates`; those names stay built-in.
  const customTemplates: Record<string, string> = {};
  for (const [name, text] of Object.entries(stringMapOf(configDoc['templates']))) {
    if (!BUILTIN_TEMPLATE_NAMES.includes(name)) customTemplates[name] = text;
  }
  const defaults = stringListOf(configDoc['defaultTemplates']);
  const policy = configDoc['policy'];
  return {
    policy: typeof policy === 'string' ? policy : DEFAULT_INJECTOR_CONFIG.policy,
    defaultTemplates: defaults.length > 0 ? defaults : ['sidecar'],
    aliases: checkAliases(configDoc, issues),
    neverInjectSelector: selectorsOf(configDoc['neverInjectSelector']),
    alwaysInjectSelector: selectorsOf(configDoc['alwaysInjectSelector']),
    injectedAnnotations: stringMapOf(configDoc['injectedAnnotations']),
    customTemplates: { ...customTemplates, ...valueTemplates },
  };
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
  const operator = parseIstioOperator(sources.istioOperator, issues);
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
  const injector = buildInjectorConfig(configDoc, values, issues);

  if (issues.length > 0) return { ok: false, issues: dedupe(issues) };

  const revision = options.revision || str0(values['revision']) || 'default';
  const config: InjectionConfig = {
    injector,
    values: values,
    mesh: mesh as MeshConfig,
    revision,
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

export const VALUES_FIELD_RULES = VALUES_RULES;
