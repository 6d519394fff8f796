/**
 * The proxy container's pieces shared by the built-in templates: agent args, resources, readiness
 * probe, image pull settings.
 */
import { canonicalQuantity, canonicalQuantityValue } from '../quantity.js';
import { getPath, isJsonObject, type JsonObject } from '../json.js';
import type { StringMap } from '../pod-types.js';
import type { Values } from '../config/types.js';
import {
  annotationOr,
  hasKey,
  omitNil,
  valueNumber,
  valueObject,
  valueSet,
  valueString,
} from './values.js';
import { KEY } from '../annotations/keys.js';
import { goPlainValue } from '../yaml-fast.js';

export const PROXY_HEALTH_PORT = 15021;
export const CUSTOM_BOOTSTRAP_DIR = '/etc/istio/custom-bootstrap';

/** `--proxyLogLevel`, `--proxyComponentLogLevel`, `--log_output_level` and the optional flags. */
export function proxyAgentArgs(mode: 'sidecar' | 'router', values: Values, annotations: StringMap) {
  const args = [
    'proxy',
    mode,
    '--domain',
    `$(POD_NAMESPACE).svc.${valueString(values, 'global.proxy.clusterDomain')}`,
    `--proxyLogLevel=${annotationOr(annotations, KEY.logLevel, valueString(values, 'global.proxy.logLevel'))}`,
    `--proxyComponentLogLevel=${annotationOr(annotations, KEY.componentLogLevel, valueString(values, 'global.proxy.componentLogLevel'))}`,
    `--log_output_level=${annotationOr(annotations, KEY.agentLogLevel, valueString(values, 'global.logging.level'))}`,
  ];
  if (valueSet(values, 'global.sts.servicePort')) {
    args.push(`--stsPort=${valueString(values, 'global.sts.servicePort')}`);
  }
  if (valueSet(values, 'global.logAsJson')) args.push('--log_as_json');
  if (valueSet(values, 'global.proxy.outlierLogPath')) {
    args.push(`--outlierLogPath=${valueString(values, 'global.proxy.outlierLogPath')}`);
  }
  return args;
}

function quantityMap(source: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [name, quantity] of Object.entries(source)) {
    if (quantity !== undefined && quantity !== null) out[name] = canonicalQuantityValue(quantity);
  }
  return out;
}

/** Resources from the four proxy resource annotations, when any of them is present. */
export function annotationResources(annotations: StringMap): JsonObject | undefined {
  const has = (key: string) => hasKey(annotations, key);
  if (
    !has(KEY.proxyCPU) &&
    !has(KEY.proxyMemory) &&
    !has(KEY.proxyCPULimit) &&
    !has(KEY.proxyMemoryLimit)
  ) {
    return undefined;
  }
  const pick = (cpuKey: string, memoryKey: string): JsonObject | undefined => {
    if (!has(cpuKey) && !has(memoryKey)) return undefined;
    const out: JsonObject = {};
    if (has(cpuKey)) out.cpu = canonicalQuantity(annotations[cpuKey] ?? '');
    if (has(memoryKey)) out.memory = canonicalQuantity(annotations[memoryKey] ?? '');
    return out;
  };
  const resources: JsonObject = {};
  const requests = pick(KEY.proxyCPU, KEY.proxyMemory);
  const limits = pick(KEY.proxyCPULimit, KEY.proxyMemoryLimit);
  if (requests !== undefined) resources.requests = requests;
  if (limits !== undefined) resources.limits = limits;
  return resources;
}

/**
 * Proxy resources: the annotations if any is present, else `global.proxy.resources` with null
 * entries dropped. Quantities are canonical (`2000m` -> `"2"`, `1024Mi` -> `1Gi`).
 */
export function proxyResources(values: Values, annotations: StringMap): JsonObject {
  const fromAnnotations = annotationResources(annotations);
  if (fromAnnotations !== undefined) return fromAnnotations;
  const configured = valueObject(values, 'global.proxy.resources');
  if (configured === undefined) return {};
  const out: JsonObject = {};
  for (const [section, entries] of Object.entries(omitNil(configured))) {
    out[section] = isJsonObject(entries) ? quantityMap(entries) : (entries ?? null);
  }
  return out;
}

/** Readiness probe of the proxy on Envoy's health port, timings from annotations or values. */
export function proxyReadinessProbe(values: Values, annotations: StringMap): JsonObject {
  const timing = (key: string, path: string, fallback: number) => {
    const text = annotationOr(annotations, key, '');
    // The template prints the annotation unquoted and istiod reads it as YAML 1.1: `010` is 8.
    const read = hasKey(annotations, key) ? goPlainValue(text.trim()) : undefined;
    const fromAnnotation = typeof read === 'number' ? read : Number.NaN;
    return Number.isFinite(fromAnnotation) ? fromAnnotation : valueNumber(values, path, fallback);
  };
  const probe: JsonObject = {
    httpGet: { path: '/healthz/ready', port: PROXY_HEALTH_PORT },
  };
  const initialDelay = timing(
    KEY.readinessInitialDelay,
    'global.proxy.readinessInitialDelaySeconds',
    0,
  );
  const period = timing(KEY.readinessPeriod, 'global.proxy.readinessPeriodSeconds', 15);
  const failures = timing(
    KEY.readinessFailureThreshold,
    'global.proxy.readinessFailureThreshold',
    4,
  );
  // Zero-valued probe fields are left out, as the API server's serialisation does.
  if (initialDelay !== 0) probe.initialDelaySeconds = initialDelay;
  if (period !== 0) probe.periodSeconds = period;
  probe.timeoutSeconds = 3;
  if (failures !== 0) probe.failureThreshold = failures;
  return probe;
}

/** `imagePullPolicy` when `global.imagePullPolicy` is set. */
export function imagePullPolicy(values: Values): { imagePullPolicy?: string } {
  const policy = valueString(values, 'global.imagePullPolicy');
  return policy === '' ? {} : { imagePullPolicy: policy };
}

/** `global.imagePullSecrets` as `{name}` entries (Helm lists names; objects are accepted too). */
export function imagePullSecrets(values: Values): JsonObject[] {
  const found = getPath(values, 'global.imagePullSecrets');
  const configured = Array.isArray(found) ? found : [];
  const out: JsonObject[] = [];
  for (const entry of configured) {
    if (typeof entry === 'string' && entry !== '') out.push({ name: entry });
    else if (isJsonObject(entry) && typeof entry.name === 'string') out.push({ name: entry.name });
  }
  return out;
}
