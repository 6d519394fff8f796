/**
 * The `gateway` template: turns a pod's `istio-proxy` container (usually `image: auto`) into an
 * Envoy gateway (`proxy router`). Never native, no iptables init container, no tlsMode label,
 * and the pod may bind privileged ports through the unprivileged-port sysctl
 * (https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/#safe-and-unsafe-sysctls).
 */
import type { RenderContext, RenderedTemplate } from '../contracts.js';
import type { Container, EnvVar, PodSpec, StringMap } from '../k8s.js';
import type { JsonObject } from '../json.js';
import {
  ANNOTATIONS,
  CUSTOM_BOOTSTRAP_DIR,
  annotationResources,
  caAddress,
  caCertVolume,
  clusterId,
  fieldRefEnv,
  imagePullPolicy,
  imagePullSecrets,
  meshIdentityEnv,
  podAnnotations,
  podIdentityEnv,
  podInfoVolume,
  podLabels,
  proxyAgentArgs,
  proxyMetadataEnv,
  proxyReadinessProbe,
  resourceFieldEnv,
  tokenVolume,
  volumeMount,
} from './common.js';
import { proxyImage } from './images.js';
import { interceptionModeOf, statusPortText } from './iptables.js';
import {
  PROXY_CONTAINER,
  appContainerNames,
  canonicalRevision,
  ownerUri,
  podPortsEnvValue,
  rawCanonicalName,
  workloadName,
} from './metadata.js';
import { proxyConfigEnvValue } from './proxy-config-json.js';
import { revisionAndDefaultContainer } from './sidecar.js';
import { hasKey, valueObject, valueString } from './values.js';

function gatewayEnv(ctx: RenderContext, annotations: StringMap): EnvVar[] {
  const { values, pod } = ctx;
  const containers = pod.spec?.containers ?? [];
  const env: EnvVar[] = [
    { name: 'PILOT_CERT_PROVIDER', value: valueString(values, 'global.pilotCertProvider') },
    { name: 'CA_ADDR', value: caAddress(values) },
    ...podIdentityEnv(),
    resourceFieldEnv('ISTIO_CPU_LIMIT', 'limits.cpu'),
    { name: 'PROXY_CONFIG', value: proxyConfigEnvValue(ctx.proxyConfig) },
    { name: 'ISTIO_META_POD_PORTS', value: podPortsEnvValue(containers) },
    resourceFieldEnv('GOMEMLIMIT', 'limits.memory'),
  ];
  const appContainers = appContainerNames(containers);
  env.push(
    appContainers === ''
      ? { name: 'ISTIO_META_APP_CONTAINERS' }
      : { name: 'ISTIO_META_APP_CONTAINERS', value: appContainers },
  );
  if (ctx.compliancePolicy !== '') {
    env.push({ name: 'COMPLIANCE_POLICY', value: ctx.compliancePolicy });
    if (ctx.compliancePolicy === 'fips-140-3') env.push({ name: 'GODEBUG', value: 'fips140=only' });
  }
  env.push(
    { name: 'ISTIO_META_CLUSTER_ID', value: clusterId(values) },
    fieldRefEnv('ISTIO_META_NODE_NAME', 'spec.nodeName'),
    {
      name: 'ISTIO_META_INTERCEPTION_MODE',
      value: interceptionModeOf(annotations, ctx.proxyConfig.interceptionMode),
    },
  );
  const network = valueString(values, 'global.network');
  if (network !== '') env.push({ name: 'ISTIO_META_NETWORK', value: network });
  const workload = workloadName(podLabels(ctx), ctx.deploymentMeta.name);
  if (workload !== '') env.push({ name: 'ISTIO_META_WORKLOAD_NAME', value: workload });
  const owner = ownerUri(ctx);
  if (owner !== undefined) env.push({ name: 'ISTIO_META_OWNER', value: owner });
  if (hasKey(annotations, ANNOTATIONS.bootstrapOverride)) {
    env.push({
      name: 'ISTIO_BOOTSTRAP_OVERRIDE',
      value: `${CUSTOM_BOOTSTRAP_DIR}/custom_bootstrap.json`,
    });
  }
  env.push(...meshIdentityEnv(ctx), ...proxyMetadataEnv(ctx.proxyConfig.proxyMetadata));
  return env;
}

function gatewayPodSecurityContext(ctx: RenderContext): JsonObject {
  const configured = valueObject(ctx.values, 'gateways.securityContext');
  if (configured !== undefined && Object.keys(configured).length > 0) return configured;
  const context: JsonObject = {
    sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
  };
  const seccomp = valueObject(ctx.values, 'gateways.seccompProfile');
  if (seccomp !== undefined && Object.keys(seccomp).length > 0) context.seccompProfile = seccomp;
  return context;
}

/** Renders the `gateway` template for one pod. */
export function renderGateway(ctx: RenderContext): RenderedTemplate {
  const annotations = podAnnotations(ctx);
  const labels = podLabels(ctx);
  const { values } = ctx;
  const istiod = valueString(values, 'global.pilotCertProvider') === 'istiod';

  const proxy: Container = {
    name: PROXY_CONTAINER,
    image: proxyImage({ values, proxyConfig: ctx.proxyConfig, annotations }),
    ...imagePullPolicy(values),
    ports: [{ containerPort: 15090, protocol: 'TCP', name: 'http-envoy-prom' }],
    args: proxyAgentArgs('router', values, annotations),
  };
  const lifecycle = valueObject(values, 'global.proxy.lifecycle');
  if (lifecycle !== undefined && Object.keys(lifecycle).length > 0) proxy.lifecycle = lifecycle;
  proxy.securityContext = { runAsUser: ctx.proxyUID, runAsGroup: ctx.proxyGID };
  proxy.env = gatewayEnv(ctx, annotations);
  if (statusPortText(annotations, values) !== '0') {
    proxy.readinessProbe = proxyReadinessProbe(values, annotations);
  }
  // Gateway deployments size the proxy themselves; only the resource annotations apply here.
  const resources = annotationResources(annotations);
  if (resources !== undefined) proxy.resources = resources;
  const mounts: JsonObject[] = [
    volumeMount('workload-socket', '/var/run/secrets/workload-spiffe-uds'),
    volumeMount('credential-socket', '/var/run/secrets/credential-uds'),
    volumeMount('workload-certs', '/var/run/secrets/workload-spiffe-credentials'),
  ];
  if (istiod) mounts.push(volumeMount('istiod-ca-cert', '/var/run/secrets/istio'));
  mounts.push(volumeMount('istio-data', '/var/lib/istio/data'));
  if (hasKey(annotations, ANNOTATIONS.bootstrapOverride)) {
    mounts.push(volumeMount('custom-bootstrap-volume', CUSTOM_BOOTSTRAP_DIR));
  }
  mounts.push(
    volumeMount('istio-envoy', '/etc/istio/proxy'),
    volumeMount('istio-token', '/var/run/secrets/tokens'),
    volumeMount('istio-podinfo', '/etc/istio/pod'),
  );
  proxy.volumeMounts = mounts;

  const volumes: JsonObject[] = [
    { name: 'workload-socket', emptyDir: null },
    { name: 'credential-socket', emptyDir: {} },
    { name: 'workload-certs', emptyDir: {} },
  ];
  if (hasKey(annotations, ANNOTATIONS.bootstrapOverride)) {
    volumes.push({
      name: 'custom-bootstrap-volume',
      configMap: { name: annotations[ANNOTATIONS.bootstrapOverride] ?? '' },
    });
  }
  volumes.push(
    { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
    { name: 'istio-data', emptyDir: {} },
    podInfoVolume(),
    tokenVolume(values),
  );
  if (istiod) volumes.push(caCertVolume(values));

  const spec: PodSpec = {
    securityContext: gatewayPodSecurityContext(ctx),
    containers: [proxy],
    volumes,
  };
  const secrets = imagePullSecrets(values);
  if (secrets.length > 0) spec.imagePullSecrets = secrets;
  return {
    metadata: {
      labels: {
        'service.istio.io/canonical-name': rawCanonicalName(labels, ctx.deploymentMeta.name),
        'service.istio.io/canonical-revision': canonicalRevision(labels),
      },
      annotations: revisionAndDefaultContainer(ctx),
    },
    spec,
  };
}
