/**
 * The env blocks shared by the built-in templates: pod identity, mesh identity, CA address, proxy
 * metadata, Datadog.
 */
import { type JsonValue } from '../json.js';
import type { EnvVar, StringMap } from '../pod-types.js';
import type { RenderContext } from '../contracts.js';
import type { Values } from '../config/types.js';
import { valueOr, valueString } from './values.js';
import { KEY } from '../annotations/keys.js';
import { jsonObjectAnnotation } from './pod-annotations.js';

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
