/**
 * Pieces of the `istio-proxy` agent container that the sidecar, gateway and grpc-agent templates
 * have in common: the container's head, runs of its env, its volumes and their mounts. Each
 * template lists its own env, mounts and volumes in the order Istio renders them, and calls these
 * for the runs it shares with the others.
 */
import type { RenderContext } from '../contracts.js';
import type { JsonObject } from '../json.js';
import type { Container, ContainerPort, EnvVar, PodSpec, StringMap } from '../pod-types.js';
import type { Values } from '../config/types.js';
import {
  caAddress,
  clusterId,
  fieldRefEnv,
  meshIdentityEnv,
  podIdentityEnv,
  resourceFieldEnv,
} from './env.js';
import { podAnnotations, podLabels } from './pod-annotations.js';
import {
  CUSTOM_BOOTSTRAP_DIR,
  imagePullPolicy,
  imagePullSecrets,
  proxyAgentArgs,
} from './proxy-container.js';
import { caCertVolume, podInfoVolume, tokenVolume, volumeMount } from './volumes.js';
import { proxyImage } from './images.js';
import {
  PROXY_CONTAINER,
  appContainerNames,
  ownerUri,
  podPortsEnvValue,
  workloadName,
} from './metadata.js';
import { proxyConfigEnvValue } from './proxy-config-json.js';
import { hasKey, valueString } from './values.js';
import { KEY } from '../annotations/keys.js';

/** Envoy's Prometheus port, published by the sidecar and gateway proxies. */
const ENVOY_PROMETHEUS_PORT: ContainerPort = {
  containerPort: 15090,
  protocol: 'TCP',
  name: 'http-envoy-prom',
};

/**
 * `name`, `image`, `imagePullPolicy`, `ports` and `args` of the `istio-proxy` container. The
 * sidecar and gateway proxies publish Envoy's Prometheus port; the grpc agent its own.
 */
export function agentContainer(
  ctx: RenderContext,
  mode: 'sidecar' | 'router',
  port: ContainerPort = ENVOY_PROMETHEUS_PORT,
): Container {
  const { values } = ctx;
  const annotations = podAnnotations(ctx);
  return {
    name: PROXY_CONTAINER,
    image: proxyImage({ values, proxyConfig: ctx.proxyConfig, annotations }),
    ...imagePullPolicy(values),
    ports: [{ ...port }],
    args: proxyAgentArgs(mode, values, annotations),
  };
}

/** Whether istiod issues the workload certificates, so the pod mounts its CA root. */
export function istiodCertificates(values: Values): boolean {
  return valueString(values, 'global.pilotCertProvider') === 'istiod';
}

/** `PILOT_CERT_PROVIDER`, `CA_ADDR`, then the pod identity (`POD_NAME` ... `HOST_IP`). */
export function caAndPodEnv(values: Values): EnvVar[] {
  return [
    { name: 'PILOT_CERT_PROVIDER', value: valueString(values, 'global.pilotCertProvider') },
    { name: 'CA_ADDR', value: caAddress(values) },
    ...podIdentityEnv(),
  ];
}

/** `PROXY_CONFIG` and `ISTIO_META_POD_PORTS`. */
export function proxyConfigEnv(ctx: RenderContext): EnvVar[] {
  return [
    { name: 'PROXY_CONFIG', value: proxyConfigEnvValue(ctx.proxyConfig) },
    { name: 'ISTIO_META_POD_PORTS', value: podPortsEnvValue(ctx.pod.spec?.containers ?? []) },
  ];
}

/** `ISTIO_META_APP_CONTAINERS`, with no value at all when the pod has no other container. */
export function appContainersEnv(ctx: RenderContext): EnvVar {
  const names = appContainerNames(ctx.pod.spec?.containers ?? []);
  return names === ''
    ? { name: 'ISTIO_META_APP_CONTAINERS' }
    : { name: 'ISTIO_META_APP_CONTAINERS', value: names };
}

/** `COMPLIANCE_POLICY`, and `GODEBUG=fips140=only` under FIPS 140-3, when a policy is set. */
export function complianceEnv(ctx: RenderContext): EnvVar[] {
  if (ctx.compliancePolicy === '') return [];
  const env: EnvVar[] = [{ name: 'COMPLIANCE_POLICY', value: ctx.compliancePolicy }];
  if (ctx.compliancePolicy === 'fips-140-3') env.push({ name: 'GODEBUG', value: 'fips140=only' });
  return env;
}

/** `ISTIO_META_CLUSTER_ID` and `ISTIO_META_NODE_NAME`. */
export function clusterAndNodeEnv(values: Values): EnvVar[] {
  return [
    { name: 'ISTIO_META_CLUSTER_ID', value: clusterId(values) },
    fieldRefEnv('ISTIO_META_NODE_NAME', 'spec.nodeName'),
  ];
}

/** `ISTIO_META_NETWORK`, `ISTIO_META_WORKLOAD_NAME` and `ISTIO_META_OWNER`, each when known. */
export function workloadMetaEnv(ctx: RenderContext): EnvVar[] {
  const env: EnvVar[] = [];
  const network = valueString(ctx.values, 'global.network');
  if (network !== '') env.push({ name: 'ISTIO_META_NETWORK', value: network });
  const workload = workloadName(podLabels(ctx), ctx.deploymentMeta.name);
  if (workload !== '') env.push({ name: 'ISTIO_META_WORKLOAD_NAME', value: workload });
  const owner = ownerUri(ctx);
  if (owner !== undefined) env.push({ name: 'ISTIO_META_OWNER', value: owner });
  return env;
}

/**
 * The env an Envoy proxy (sidecar or gateway) carries from `PILOT_CERT_PROVIDER` to
 * `TRUST_DOMAIN`, in Istio's order. The two templates differ in one place: the gateway's lists
 * `GOMEMLIMIT` before `ISTIO_META_APP_CONTAINERS`, the sidecar's after.
 */
export function envoyEnv(
  ctx: RenderContext,
  annotations: StringMap,
  interceptionMode: string,
  template: 'sidecar' | 'gateway',
): EnvVar[] {
  const memoryLimit = resourceFieldEnv('GOMEMLIMIT', 'limits.memory');
  const appContainers = appContainersEnv(ctx);
  return [
    ...caAndPodEnv(ctx.values),
    resourceFieldEnv('ISTIO_CPU_LIMIT', 'limits.cpu'),
    ...proxyConfigEnv(ctx),
    ...(template === 'gateway' ? [memoryLimit, appContainers] : [appContainers, memoryLimit]),
    ...complianceEnv(ctx),
    ...clusterAndNodeEnv(ctx.values),
    { name: 'ISTIO_META_INTERCEPTION_MODE', value: interceptionMode },
    ...workloadMetaEnv(ctx),
    ...bootstrapOverrideEnv(annotations),
    ...meshIdentityEnv(ctx),
  ];
}

/** `ISTIO_BOOTSTRAP_OVERRIDE` when the pod names a custom bootstrap ConfigMap. */
export function bootstrapOverrideEnv(annotations: StringMap): EnvVar[] {
  return hasBootstrapOverride(annotations)
    ? [{ name: 'ISTIO_BOOTSTRAP_OVERRIDE', value: `${CUSTOM_BOOTSTRAP_DIR}/custom_bootstrap.json` }]
    : [];
}

/** Where the agent's own volumes are mounted (the same paths in every template). */
const AGENT_MOUNT_PATHS = {
  'workload-socket': '/var/run/secrets/workload-spiffe-uds',
  'credential-socket': '/var/run/secrets/credential-uds',
  'workload-certs': '/var/run/secrets/workload-spiffe-credentials',
  'istiod-ca-cert': '/var/run/secrets/istio',
  'istio-ca-crl': '/var/run/secrets/istio/crl',
  'istio-data': '/var/lib/istio/data',
  'custom-bootstrap-volume': CUSTOM_BOOTSTRAP_DIR,
  'istio-envoy': '/etc/istio/proxy',
  'istio-xds': '/etc/istio/proxy',
  'istio-token': '/var/run/secrets/tokens',
  'istio-podinfo': '/etc/istio/pod',
} as const;

export type AgentVolumeName = keyof typeof AGENT_MOUNT_PATHS;

/**
 * The agent volumes mounted only under a condition, as the chart's templates guard them: a
 * template lists their mounts always, and agentMounts leaves out those whose condition fails.
 */
const MOUNTED_WHEN: Partial<Record<AgentVolumeName, (ctx: RenderContext) => boolean>> = {
  'istiod-ca-cert': (ctx) => istiodCertificates(ctx.values),
  'istio-ca-crl': (ctx) => istiodCertificates(ctx.values),
  'custom-bootstrap-volume': (ctx) => hasBootstrapOverride(podAnnotations(ctx)),
};

/**
 * Read-write mounts of the named agent volumes, in the order given; `false` entries, and the
 * volumes of MOUNTED_WHEN this pod does not have, are skipped.
 */
export function agentMounts(
  ctx: RenderContext,
  names: readonly (AgentVolumeName | false)[],
): JsonObject[] {
  return names
    .filter((name): name is AgentVolumeName => name !== false)
    .filter((name) => MOUNTED_WHEN[name]?.(ctx) ?? true)
    .map((name) => volumeMount(name, AGENT_MOUNT_PATHS[name]));
}

/** Whether the pod names a custom bootstrap ConfigMap (`KEY.bootstrapOverride`). */
export function hasBootstrapOverride(annotations: StringMap): boolean {
  return hasKey(annotations, KEY.bootstrapOverride);
}

/** The custom bootstrap ConfigMap volume, when the pod names one. */
export function bootstrapOverrideVolume(annotations: StringMap): JsonObject[] {
  return hasBootstrapOverride(annotations)
    ? [
        {
          name: 'custom-bootstrap-volume',
          configMap: { name: annotations[KEY.bootstrapOverride] ?? '' },
        },
      ]
    : [];
}

/**
 * The agent's working volumes: its config directory (`istio-envoy`, or `istio-xds` without
 * Envoy) in memory, `istio-data`, the pod info, the istio-token projection and, when istiod
 * issues the certificates, its CA root.
 */
export function agentStateVolumes(
  values: Values,
  configVolume: 'istio-envoy' | 'istio-xds',
): JsonObject[] {
  const volumes: JsonObject[] = [
    { name: configVolume, emptyDir: { medium: 'Memory' } },
    { name: 'istio-data', emptyDir: {} },
    podInfoVolume(),
    tokenVolume(values),
  ];
  if (istiodCertificates(values)) volumes.push(caCertVolume(values));
  return volumes;
}

/**
 * The volumes of an Envoy proxy (sidecar or gateway): the template's own `sockets` (the SPIFFE
 * sockets and certificates, whose sources differ), the custom bootstrap, the agent's state.
 */
export function envoyVolumes(ctx: RenderContext, sockets: readonly JsonObject[]): JsonObject[] {
  return [
    ...sockets,
    ...bootstrapOverrideVolume(podAnnotations(ctx)),
    ...agentStateVolumes(ctx.values, 'istio-envoy'),
  ];
}

/** Sets `imagePullSecrets` on a rendered spec when `global.imagePullSecrets` names any. */
export function setImagePullSecrets(spec: PodSpec, values: Values): void {
  const secrets = imagePullSecrets(values);
  if (secrets.length > 0) spec.imagePullSecrets = secrets;
}
