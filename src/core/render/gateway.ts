/**
 * The `gateway` template: turns a pod's `istio-proxy` container (usually `image: auto`) into an
 * Envoy gateway (`proxy router`). Never native, no iptables init container, no tlsMode label,
 * and the pod may bind privileged ports through the unprivileged-port sysctl
 * (https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/#safe-and-unsafe-sysctls).
 */
import type { RenderContext, RenderedTemplate } from '../contracts.js';
import type { EnvVar, PodSpec, StringMap } from '../pod-types.js';
import type { JsonObject } from '../json.js';
import {
  agentContainer,
  agentMounts,
  envoyEnv,
  envoyVolumes,
  setImagePullSecrets,
} from './agent.js';
import { proxyMetadataEnv } from './env.js';
import { podAnnotations, podLabels } from './pod-annotations.js';
import { annotationResources, proxyReadinessProbe } from './proxy-container.js';
import { interceptionModeOf, statusPortText } from './iptables.js';
import { canonicalLabels, rawCanonicalName } from './metadata.js';
import { revisionAndDefaultContainer } from './sidecar.js';
import { valueSetObject } from './values.js';

function gatewayEnv(ctx: RenderContext, annotations: StringMap): EnvVar[] {
  const mode = interceptionModeOf(annotations, ctx.proxyConfig.interceptionMode);
  return [
    ...envoyEnv(ctx, annotations, mode, 'gateway'),
    ...proxyMetadataEnv(ctx.proxyConfig.proxyMetadata),
  ];
}

function gatewayPodSecurityContext(ctx: RenderContext): JsonObject {
  const configured = valueSetObject(ctx.values, 'gateways.securityContext');
  if (configured !== undefined) return configured;
  const context: JsonObject = {
    sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
  };
  const seccomp = valueSetObject(ctx.values, 'gateways.seccompProfile');
  if (seccomp !== undefined) context.seccompProfile = seccomp;
  return context;
}

/** Renders the `gateway` template for one pod. */
export function renderGateway(ctx: RenderContext): RenderedTemplate {
  const annotations = podAnnotations(ctx);
  const labels = podLabels(ctx);
  const { values } = ctx;

  const proxy = agentContainer(ctx, 'router');
  const lifecycle = valueSetObject(values, 'global.proxy.lifecycle');
  if (lifecycle !== undefined) proxy.lifecycle = lifecycle;
  proxy.securityContext = { runAsUser: ctx.proxyUID, runAsGroup: ctx.proxyGID };
  proxy.env = gatewayEnv(ctx, annotations);
  if (statusPortText(annotations, values) !== '0') {
    proxy.readinessProbe = proxyReadinessProbe(values, annotations);
  }
  // Gateway deployments size the proxy themselves; only the resource annotations apply here.
  const resources = annotationResources(annotations);
  if (resources !== undefined) proxy.resources = resources;
  proxy.volumeMounts = agentMounts(ctx, [
    'workload-socket',
    'credential-socket',
    'workload-certs',
    'istiod-ca-cert',
    'istio-data',
    'custom-bootstrap-volume',
    'istio-envoy',
    'istio-token',
    'istio-podinfo',
  ]);

  const spec: PodSpec = {
    securityContext: gatewayPodSecurityContext(ctx),
    containers: [proxy],
    volumes: envoyVolumes(ctx, [
      { name: 'workload-socket', emptyDir: null },
      { name: 'credential-socket', emptyDir: {} },
      { name: 'workload-certs', emptyDir: {} },
    ]),
  };
  setImagePullSecrets(spec, values);
  return {
    metadata: {
      labels: canonicalLabels(labels, rawCanonicalName(labels, ctx.deploymentMeta.name)),
      annotations: revisionAndDefaultContainer(ctx),
    },
    spec,
  };
}
