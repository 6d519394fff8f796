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
  ENVOY_PROMETHEUS_PORT,
  agentContainer,
  agentMounts,
  agentStateVolumes,
  appContainersEnv,
  bootstrapOverrideEnv,
  bootstrapOverrideVolume,
  caAndPodEnv,
  clusterAndNodeEnv,
  complianceEnv,
  hasBootstrapOverride,
  istiodCertificates,
  proxyConfigEnv,
  setImagePullSecrets,
  workloadMetaEnv,
} from './agent.js';
import { meshIdentityEnv, proxyMetadataEnv, resourceFieldEnv } from './env.js';
import { podAnnotations, podLabels } from './pod-annotations.js';
import { annotationResources, proxyReadinessProbe } from './proxy-container.js';
import { caCertVolume } from './volumes.js';
import { interceptionModeOf, statusPortText } from './iptables.js';
import { canonicalRevision, rawCanonicalName } from './metadata.js';
import { revisionAndDefaultContainer } from './sidecar.js';
import { valueSetObject } from './values.js';
import { LABEL } from '../annotations/keys.js';

function gatewayEnv(ctx: RenderContext, annotations: StringMap): EnvVar[] {
  return [
    ...caAndPodEnv(ctx.values),
    resourceFieldEnv('ISTIO_CPU_LIMIT', 'limits.cpu'),
    ...proxyConfigEnv(ctx),
    resourceFieldEnv('GOMEMLIMIT', 'limits.memory'),
    appContainersEnv(ctx),
    ...complianceEnv(ctx),
    ...clusterAndNodeEnv(ctx.values),
    {
      name: 'ISTIO_META_INTERCEPTION_MODE',
      value: interceptionModeOf(annotations, ctx.proxyConfig.interceptionMode),
    },
    ...workloadMetaEnv(ctx),
    ...bootstrapOverrideEnv(annotations),
    ...meshIdentityEnv(ctx),
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
  const istiod = istiodCertificates(values);

  const proxy = agentContainer(ctx, 'router', ENVOY_PROMETHEUS_PORT);
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
  proxy.volumeMounts = agentMounts([
    'workload-socket',
    'credential-socket',
    'workload-certs',
    istiod && 'istiod-ca-cert',
    'istio-data',
    hasBootstrapOverride(annotations) && 'custom-bootstrap-volume',
    'istio-envoy',
    'istio-token',
    'istio-podinfo',
  ]);

  const volumes: JsonObject[] = [
    { name: 'workload-socket', emptyDir: null },
    { name: 'credential-socket', emptyDir: {} },
    { name: 'workload-certs', emptyDir: {} },
    ...bootstrapOverrideVolume(annotations),
    ...agentStateVolumes(values, 'istio-envoy'),
  ];
  if (istiod) volumes.push(caCertVolume(values));

  const spec: PodSpec = {
    securityContext: gatewayPodSecurityContext(ctx),
    containers: [proxy],
    volumes,
  };
  setImagePullSecrets(spec, values);
  return {
    metadata: {
      labels: {
        [LABEL.canonicalName]: rawCanonicalName(labels, ctx.deploymentMeta.name),
        [LABEL.canonicalRevision]: canonicalRevision(labels),
      },
      annotations: revisionAndDefaultContainer(ctx),
    },
    spec,
  };
}
