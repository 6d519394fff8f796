/**
 * Pieces shared by the built-in templates: proxy args, the common env block, resources, probes,
 * volumes and their mounts, and the pod-annotation JSON readers.
 */
import { invalidAnnotationError } from '../annotations/validate.js';
import { canonicalQuantity, canonicalQuantityValue } from '../quantity.js';
import { getPath, isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import type { EnvVar, StringMap } from '../pod-types.js';
import type { RenderContext } from '../contracts.js';
import type { Values } from '../config/types.js';
import {
  annotationOr,
  hasKey,
  omitNil,
  valueNumber,
  valueObject,
  valueOr,
  valueSet,
  valueString,
} from './values.js';
import { KEY } from '../annotations/keys.js';

export const PROXY_HEALTH_PORT = 15021;
export const CUSTOM_BOOTSTRAP_DIR = '/etc/istio/custom-bootstrap';

export function podAnnotations(ctx: RenderContext): StringMap {
  return ctx.pod.metadata?.annotations ?? {};
}

export function podLabels(ctx: RenderContext): StringMap {
  return ctx.pod.metadata?.labels ?? {};
}

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

export function fieldRefEnv(name: string, fieldPath: string): EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

export function resourceFieldEnv(name: string, resource: string): EnvVar {
  return { name, valueFrom: { resourceFieldRef: { divisor: '1', resource } } };
}

/** `CA_ADDR`: `global.caAddress`, else istiod of this revision in the Istio namespace. */
export function caAddress(values: Values): string {
  const configured = valueString(values, 'global.caAddress');
  if (configured !== '') return configured;
  const revision = valueString(values, 'revision');
  const service = revision === '' ? 'istiod' : `istiod-${revision}`;
  return `${service}.${valueString(values, 'global.istioNamespace')}.svc:15012`;
}

/** The pod identity env every proxy gets: POD_NAME ... HOST_IP. */
export function podIdentityEnv(): EnvVar[] {
  return [
    fieldRefEnv('POD_NAME', 'metadata.name'),
    fieldRefEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldRefEnv('INSTANCE_IP', 'status.podIP'),
    fieldRefEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    fieldRefEnv('HOST_IP', 'status.hostIP'),
  ];
}

/** `ISTIO_META_CLUSTER_ID`: the multicluster cluster name, `Kubernetes` by default. */
export function clusterId(values: Values): string {
  return valueOr(values, 'global.multiCluster.clusterName', 'Kubernetes');
}

/** Trust domain: mesh `trustDomain`, else `global.trustDomain`. */
export function trustDomain(ctx: RenderContext): string {
  return ctx.mesh.trustDomain !== '' && ctx.mesh.trustDomain !== undefined
    ? ctx.mesh.trustDomain
    : valueString(ctx.values, 'global.trustDomain');
}

/** `ISTIO_META_MESH_ID`, then `TRUST_DOMAIN`, each only when non-empty. */
export function meshIdentityEnv(ctx: RenderContext): EnvVar[] {
  const env: EnvVar[] = [];
  const domain = trustDomain(ctx);
  const meshId = valueString(ctx.values, 'global.meshID');
  if (meshId !== '') env.push({ name: 'ISTIO_META_MESH_ID', value: meshId });
  else if (domain !== '') env.push({ name: 'ISTIO_META_MESH_ID', value: domain });
  if (domain !== '') env.push({ name: 'TRUST_DOMAIN', value: domain });
  return env;
}

/** One env entry per proxy-config `proxyMetadata` key, sorted by key. */
export function proxyMetadataEnv(proxyMetadata: StringMap | undefined): EnvVar[] {
  if (proxyMetadata === undefined) return [];
  return Object.keys(proxyMetadata)
    .sort()
    .map((name) => ({ name, value: proxyMetadata[name] ?? '' }));
}

/** Parses an annotation that must hold a JSON object; bad JSON is reported, never ignored. */
export function jsonObjectAnnotation(annotations: StringMap, key: string): JsonObject | undefined {
  if (!hasKey(annotations, key)) return undefined;
  const text = annotations[key] ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidAnnotationError(key, text, `not valid JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(parsed)) throw invalidAnnotationError(key, text, 'expected a JSON object');
  return parsed;
}

/** `{name: fields}` annotation entries as named objects, e.g. user volumes and their mounts. */
export function namedEntries(annotations: StringMap, key: string): JsonObject[] {
  const parsed = jsonObjectAnnotation(annotations, key);
  if (parsed === undefined) return [];
  const out: JsonObject[] = [];
  for (const [name, fields] of Object.entries(parsed)) {
    if (!isJsonObject(fields)) {
      throw invalidAnnotationError(
        key,
        annotations[key] ?? '',
        `entry '${name}' must be a JSON object`,
      );
    }
    // A VolumeMount needs its path (k8s.io/api/core/v1 VolumeMount.mountPath): without it the
    // patched pod fails validation.
    if (key === KEY.userVolumeMount && typeof fields['mountPath'] !== 'string') {
      throw invalidAnnotationError(
        key,
        annotations[key] ?? '',
        `entry '${name}' needs a string mountPath`,
      );
    }
    out.push({ name, ...fields });
  }
  return out;
}

/** Datadog APM env (`apm.datadoghq.com/env`), keys sorted, when the tracer is datadog. */
export function datadogEnv(values: Values, annotations: StringMap): EnvVar[] {
  if (valueString(values, 'global.proxy.tracer') !== 'datadog') return [];
  const parsed = jsonObjectAnnotation(annotations, KEY.datadogEnv);
  if (parsed === undefined) return [];
  return Object.keys(parsed)
    .sort()
    .map((name) => ({ name, value: printEnvValue(parsed[name]) }));
}

function printEnvValue(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
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
    const fromAnnotation = hasKey(annotations, key) ? Number(text.trim()) : Number.NaN;
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

export function volumeMount(name: string, mountPath: string, readOnly = false): JsonObject {
  return readOnly ? { name, mountPath, readOnly: true } : { name, mountPath };
}

export function podInfoVolume(): JsonObject {
  return {
    name: 'istio-podinfo',
    downwardAPI: {
      items: [
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
      ],
    },
  };
}

export function tokenVolume(values: Values): JsonObject {
  return {
    name: 'istio-token',
    projected: {
      sources: [
        {
          serviceAccountToken: {
            path: 'istio-token',
            expirationSeconds: 43200,
            audience: valueString(values, 'global.sds.token.aud'),
          },
        },
      ],
    },
  };
}

/** The CA root volume: a ConfigMap, or a ClusterTrustBundle projection when that API is enabled. */
export function caCertVolume(values: Values): JsonObject {
  const bundle = valueString(values, 'global.trustBundleName');
  const env = valueObject(values, 'pilot.env');
  const trustBundles = env?.ENABLE_CLUSTER_TRUST_BUNDLE_API;
  if (trustBundles === true || trustBundles === 'true') {
    return {
      name: 'istiod-ca-cert',
      projected: {
        sources: [
          {
            clusterTrustBundle: {
              name: `istio.io:istiod-ca:${bundle === '' ? 'root-cert' : bundle}`,
              path: 'root-cert.pem',
            },
          },
        ],
      },
    };
  }
  return {
    name: 'istiod-ca-cert',
    configMap: { name: bundle === '' ? 'istio-ca-root-cert' : bundle },
  };
}

export function crlVolume(values: Values): JsonObject {
  return {
    name: 'istio-ca-crl',
    configMap: { name: valueOr(values, 'pilot.crlConfigMapName', 'istio-ca-crl'), optional: true },
  };
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
