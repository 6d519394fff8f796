/**
 * Pod-derived strings the templates print: canonical service name and revision, workload name,
 * owner URI, the container-port list and the OpenTelemetry resource attributes.
 * Canonical labels: https://istio.io/latest/docs/ops/configuration/telemetry/monitoring-multicluster-prometheus/#canonical-service
 */
import type { Container, ContainerPort, Pod, StringMap } from '../pod-types.js';
import type { JsonObject } from '../json.js';
import type { MeshConfig } from '../config/types.js';
import type { RenderContext } from '../contracts.js';
import { LABEL } from '../annotations/keys.js';

export const PROXY_CONTAINER = 'istio-proxy';

export const LABEL_CANONICAL_NAME = LABEL.canonicalName;
export const LABEL_CANONICAL_REVISION = LABEL.canonicalRevision;
export const LABEL_WORKLOAD_NAME = LABEL.workloadName;

/** Kubernetes label values are at most 63 characters. */
const LABEL_VALUE_MAX = 63;
const LABEL_EDGE_CHARS = new Set(['-', '_', '.']);

function firstNonEmpty(labels: StringMap, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = labels[key];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** Cuts a label value to 63 characters, then trims `-`, `_` and `.` from both ends. */
export function truncateLabelValue(value: string): string {
  let text = value.length > LABEL_VALUE_MAX ? value.slice(0, LABEL_VALUE_MAX) : value;
  let start = 0;
  let end = text.length;
  while (start < end && LABEL_EDGE_CHARS.has(text.charAt(start))) start += 1;
  while (end > start && LABEL_EDGE_CHARS.has(text.charAt(end - 1))) end -= 1;
  text = text.slice(start, end);
  return text;
}

/** Untruncated canonical service name: labels, then the workload (deployment) name. */
export function rawCanonicalName(labels: StringMap, workloadName: string): string {
  return (
    firstNonEmpty(labels, [LABEL_CANONICAL_NAME, 'app.kubernetes.io/name', 'app']) ?? workloadName
  );
}

export function canonicalName(labels: StringMap, workloadName: string): string {
  return truncateLabelValue(rawCanonicalName(labels, workloadName));
}

export function canonicalRevision(labels: StringMap): string {
  return (
    firstNonEmpty(labels, [LABEL_CANONICAL_REVISION, 'app.kubernetes.io/version', 'version']) ??
    'latest'
  );
}

/** The canonical-service labels of a rendered pod: `name`, and the revision from its labels. */
export function canonicalLabels(labels: StringMap, name: string): StringMap {
  return { [LABEL_CANONICAL_NAME]: name, [LABEL_CANONICAL_REVISION]: canonicalRevision(labels) };
}

/** `ISTIO_META_WORKLOAD_NAME`: the workload-name label, else the deployment name. */
export function workloadName(labels: StringMap, deploymentName: string): string {
  const fromLabel = labels[LABEL_WORKLOAD_NAME];
  return fromLabel !== undefined && fromLabel !== '' ? fromLabel : deploymentName;
}

/** `kubernetes://apis/<apiVersion>/namespaces/<ns>/<kind>s/<name>`, or undefined when unknown. */
export function ownerUri(
  ctx: Pick<RenderContext, 'typeMeta' | 'deploymentMeta'>,
): string | undefined {
  const { apiVersion, kind } = ctx.typeMeta;
  const { name } = ctx.deploymentMeta;
  if (apiVersion === '' || name === '') return undefined;
  const namespace = ctx.deploymentMeta.namespace === '' ? 'default' : ctx.deploymentMeta.namespace;
  return `kubernetes://apis/${apiVersion}/namespaces/${namespace}/${kind.toLowerCase()}s/${name}`;
}

/** Go field order of core/v1 ContainerPort, zero values omitted. */
function containerPortJson(port: ContainerPort): string {
  const out: JsonObject = {};
  if (port.name !== undefined && port.name !== '') out.name = port.name;
  if (port.hostPort !== undefined && port.hostPort !== 0) out.hostPort = port.hostPort;
  if (port.containerPort !== undefined && port.containerPort !== 0) {
    out.containerPort = port.containerPort;
  }
  if (port.protocol !== undefined && port.protocol !== '') out.protocol = port.protocol;
  if (port.hostIP !== undefined && port.hostIP !== '') out.hostIP = port.hostIP;
  return JSON.stringify(out);
}

/**
 * `ISTIO_META_POD_PORTS`: every port of every container, one JSON object per line with a
 * leading comma from the second line on, e.g. `[\n    {"containerPort":80}\n    ,{...}\n]`.
 */
export function podPortsEnvValue(containers: readonly Container[]): string {
  const lines = ['['];
  let first = true;
  for (const container of containers) {
    for (const port of container.ports ?? []) {
      lines.push(`    ${first ? '' : ','}${containerPortJson(port)}`);
      first = false;
    }
  }
  lines.push(']');
  return lines.join('\n');
}

/** Names of the application containers (everything but `istio-proxy`), comma-joined. */
export function appContainerNames(containers: readonly Container[]): string {
  const names: string[] = [];
  for (const container of containers) {
    if (container.name !== PROXY_CONTAINER) names.push(container.name);
  }
  return names.join(',');
}

/** First container that is not `istio-proxy`: the default for `kubectl logs/exec`. */
export function defaultContainerName(containers: readonly Container[]): string | undefined {
  for (const container of containers) {
    if (container.name !== PROXY_CONTAINER) return container.name;
  }
  return undefined;
}

export const OTEL_ANNOTATIONS = {
  namespace: 'resource.opentelemetry.io/service.namespace',
  version: 'resource.opentelemetry.io/service.version',
  instanceId: 'resource.opentelemetry.io/service.instance.id',
} as const;

/** True when a mesh OpenTelemetry provider asks for semantic-convention resource attributes. */
export function otelSemanticConventions(mesh: MeshConfig): boolean {
  for (const provider of mesh.extensionProviders ?? []) {
    const otel = provider.opentelemetry;
    if (
      typeof otel === 'object' &&
      otel !== null &&
      !Array.isArray(otel) &&
      otel.serviceAttributeEnrichment === 'OTEL_SEMANTIC_CONVENTIONS'
    ) {
      return true;
    }
  }
  return false;
}

/** `tag`, `digest` or `tag@digest` of an image reference; empty when it has neither. */
export function imageVersion(image: string): string {
  const at = image.indexOf('@');
  const digest = at === -1 ? '' : image.slice(at + 1);
  const named = at === -1 ? image : image.slice(0, at);
  const colon = named.lastIndexOf(':');
  const tag = colon > named.lastIndexOf('/') ? named.slice(colon + 1) : '';
  if (tag !== '' && digest !== '') return `${tag}@${digest}`;
  return tag !== '' ? tag : digest;
}

/** `OTEL_RESOURCE_ATTRIBUTES` (https://opentelemetry.io/docs/specs/semconv/resource/#service). */
export function otelResourceAttributes(pod: Pod, deploymentNamespace: string): string {
  const annotations = pod.metadata?.annotations ?? {};
  const labels = pod.metadata?.labels ?? {};
  const containers = pod.spec?.containers ?? [];
  const namespace = deploymentNamespace === '' ? 'default' : deploymentNamespace;
  const parts = [`service.namespace=${annotations[OTEL_ANNOTATIONS.namespace] ?? namespace}`];
  let version = annotations[OTEL_ANNOTATIONS.version] ?? labels['app.kubernetes.io/version'];
  if (version === undefined && containers.length === 1) {
    version = imageVersion(containers[0]?.image ?? '');
  }
  if (version !== undefined && version !== '') parts.push(`service.version=${version}`);
  const firstContainer = containers[0]?.name ?? '';
  parts.push(
    `service.instance.id=${annotations[OTEL_ANNOTATIONS.instanceId] ?? `${namespace}.$(POD_NAME).${firstContainer}`}`,
  );
  return parts.join(',');
}
