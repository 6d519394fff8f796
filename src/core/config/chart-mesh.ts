/**
 * Derivations the istiod Helm chart performs: the mesh its `istio` ConfigMap would hold for a
 * set of values (spec §8.2), used when no mesh text is given.
 */
import { getPath, isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { mergeMeshObjects } from './merge.js';

/** A scalar as text: strings as they are, numbers printed, anything else empty. */
export function str0(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** The mesh the chart's `istio` ConfigMap would hold for these values (spec §8.2). */
export function chartMesh(values: JsonObject): JsonObject {
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
