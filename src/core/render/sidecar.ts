/**
 * The `sidecar` template: the partial Pod Istio's default injection template renders, built
 * natively. It carries the `istio-proxy` container (an init container with
 * `restartPolicy: Always` in native-sidecar mode, see
 * https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/), the iptables init
 * container, the proxy's volumes, image pull secrets and the injected labels/annotations.
 */
import type { RenderContext, RenderedTemplate } from '../contracts.js';
import type { Container, EnvVar, PodSpec, StringMap } from '../pod-types.js';
import type { JsonObject } from '../json.js';
import {
  agentContainer,
  agentMounts,
  envoyEnv,
  envoyVolumes,
  setImagePullSecrets,
} from './agent.js';
import { datadogEnv, proxyMetadataEnv } from './env.js';
import { namedEntries, podAnnotations, podLabels } from './pod-annotations.js';
import {
  PROXY_HEALTH_PORT,
  imagePullPolicy,
  proxyReadinessProbe,
  proxyResources,
} from './proxy-container.js';
import { crlVolume, volumeMount } from './volumes.js';
import { proxyInitImage } from './images.js';
import { interceptionModeOf, iptablesArgs, statusPortText, trafficSettings } from './iptables.js';
import {
  canonicalLabels,
  canonicalName,
  defaultContainerName,
  otelResourceAttributes,
  otelSemanticConventions,
} from './metadata.js';
import { ANNOTATION_MULTUS_NETWORKS, appendMultusNetwork } from './multus.js';
import {
  hasKey,
  valueIsTrue,
  valueNumber,
  valueSet,
  valueSetObject,
  valueString,
} from './values.js';
import { KEY, LABEL } from '../annotations/keys.js';

const GKE_CA_NAME = 'GkeWorkloadCertificate';

/**
 * The template's native-sidecar decision: any annotation value but `false` means native, an
 * empty or absent one the global decision (the chart's `ne (... | default (printf "%t"
 * .NativeSidecars)) "false"`). Moving a user `istio-proxy` follows `nativeSidecarsForPod`.
 */
export function nativeSidecarFor(ctx: RenderContext): boolean {
  const value = podAnnotations(ctx)[KEY.nativeSidecar];
  if (value === undefined || value === '') return ctx.nativeSidecars;
  return value !== 'false';
}

/** Hold-application flag as the template sees it: proxy config or values. */
function holdApplication(ctx: RenderContext): boolean {
  return (
    ctx.proxyConfig.holdApplicationUntilProxyStarts === true ||
    valueIsTrue(ctx.values, 'global.proxy.holdApplicationUntilProxyStarts')
  );
}

function capNetBindService(ctx: RenderContext, annotations: StringMap): boolean {
  if (hasKey(annotations, KEY.capNetBindService)) {
    return annotations[KEY.capNetBindService] === 'true';
  }
  return valueIsTrue(ctx.values, 'global.proxy.capNetBindService');
}

function seccompProfile(ctx: RenderContext): JsonObject {
  const profile = valueSetObject(ctx.values, 'global.proxy.seccompProfile');
  return profile === undefined ? {} : { seccompProfile: profile };
}

function proxySecurityContext(
  ctx: RenderContext,
  mode: string,
  annotations: StringMap,
): JsonObject {
  if (ctx.proxyConfig.proxyMetadata?.IPTABLES_TRACE_LOGGING === 'true') {
    // iptables trace logging needs a privileged root proxy.
    return {
      allowPrivilegeEscalation: true,
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      privileged: true,
      readOnlyRootFilesystem: true,
      runAsGroup: ctx.proxyGID,
      runAsNonRoot: false,
      runAsUser: 0,
    };
  }
  const privileged = valueIsTrue(ctx.values, 'global.proxy.privileged');
  const tproxy = mode === 'TPROXY';
  const bindService = capNetBindService(ctx, annotations);
  const add: string[] = [];
  if (tproxy) add.push('NET_ADMIN');
  if (bindService) add.push('NET_BIND_SERVICE');
  const root = tproxy || bindService;
  return {
    allowPrivilegeEscalation: privileged,
    capabilities: add.length > 0 ? { add, drop: ['ALL'] } : { drop: ['ALL'] },
    privileged,
    readOnlyRootFilesystem: true,
    runAsGroup: root ? 1337 : ctx.proxyGID,
    runAsNonRoot: !root,
    runAsUser: root ? 0 : ctx.proxyUID,
    ...seccompProfile(ctx),
  };
}

function initSecurityContext(ctx: RenderContext, mode: string, cni: boolean): JsonObject {
  const privileged = valueIsTrue(ctx.values, 'global.proxy.privileged');
  if (cni) {
    // The CNI plugin set up the rules already; validation runs unprivileged as the proxy user.
    const tproxy = mode === 'TPROXY';
    return {
      allowPrivilegeEscalation: privileged,
      capabilities: { drop: ['ALL'] },
      privileged,
      readOnlyRootFilesystem: true,
      runAsGroup: tproxy ? 1337 : ctx.proxyGID,
      runAsNonRoot: true,
      runAsUser: tproxy ? 1337 : ctx.proxyUID,
      ...seccompProfile(ctx),
    };
  }
  return {
    allowPrivilegeEscalation: privileged,
    capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    privileged,
    readOnlyRootFilesystem: false,
    runAsGroup: 0,
    runAsNonRoot: false,
    runAsUser: 0,
    ...seccompProfile(ctx),
  };
}

function proxyLifecycle(ctx: RenderContext, native: boolean, statusPort: string) {
  const configured = valueSetObject(ctx.values, 'global.proxy.lifecycle');
  if (configured !== undefined) return configured;
  if (holdApplication(ctx) && !native) {
    return { postStart: { exec: { command: ['pilot-agent', 'wait'] } } };
  }
  if (native) {
    return {
      preStop: {
        exec: {
          command: ['pilot-agent', 'request', `--debug-port=${statusPort}`, 'POST', 'drain'],
        },
      },
    };
  }
  return undefined;
}

function proxyEnv(ctx: RenderContext, mode: string, annotations: StringMap): EnvVar[] {
  const { values, pod } = ctx;
  const env: EnvVar[] = [];
  if (ctx.mesh.inboundTrafficPolicy?.mode === 'LOCALHOST') {
    env.push({ name: 'REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION', value: 'true' });
  }
  env.push(...envoyEnv(ctx, annotations, mode, 'sidecar'), ...datadogEnv(values, annotations));
  if (otelSemanticConventions(ctx.mesh)) {
    env.push({
      name: 'OTEL_RESOURCE_ATTRIBUTES',
      value: otelResourceAttributes(pod, ctx.deploymentMeta.namespace),
    });
  }
  env.push(...proxyMetadataEnv(ctx.proxyConfig.proxyMetadata));
  return env;
}

function lightstepCaDirectory(ctx: RenderContext): string | undefined {
  if (valueString(ctx.values, 'global.proxy.tracer') !== 'lightstep') return undefined;
  const tracing = ctx.proxyConfig.tracing;
  const tls = tracing?.tlsSettings;
  if (tls === undefined || tls === null || typeof tls !== 'object' || Array.isArray(tls)) {
    return undefined;
  }
  const ca = typeof tls.caCertificates === 'string' ? tls.caCertificates : '';
  // Directory of the CA file, as Go's path.Dir prints it.
  const slash = ca.lastIndexOf('/');
  if (slash === -1) return '.';
  return slash === 0 ? '/' : ca.slice(0, slash);
}

function proxyVolumeMounts(ctx: RenderContext, annotations: StringMap): JsonObject[] {
  const { values } = ctx;
  const gke = valueString(values, 'global.caName') === GKE_CA_NAME;
  const mounts = agentMounts(ctx, [
    'workload-socket',
    'credential-socket',
    !gke && 'workload-certs',
  ]);
  if (gke) {
    mounts.push(
      volumeMount('gke-workload-certificate', '/var/run/secrets/workload-spiffe-credentials', true),
    );
  }
  mounts.push(
    ...agentMounts(ctx, [
      'istiod-ca-cert',
      'istio-ca-crl',
      'istio-data',
      'custom-bootstrap-volume',
      'istio-envoy',
      'istio-token',
    ]),
  );
  if (valueSet(values, 'global.mountMtlsCerts')) {
    mounts.push(volumeMount('istio-certs', '/etc/certs/', true));
  }
  mounts.push(...agentMounts(ctx, ['istio-podinfo']));
  const lightstep = lightstepCaDirectory(ctx);
  if (lightstep !== undefined) mounts.push(volumeMount('lightstep-certs', lightstep, true));
  mounts.push(...namedEntries(annotations, KEY.userVolumeMount));
  return mounts;
}

function podVolumes(ctx: RenderContext, annotations: StringMap): JsonObject[] {
  const { values } = ctx;
  // `emptyDir: null` mirrors the template: the key is cleared, and the API server defaults the
  // source to an emptyDir.
  const volumes = envoyVolumes(ctx, [
    { name: 'workload-socket', emptyDir: null },
    { name: 'credential-socket', emptyDir: null },
    valueString(values, 'global.caName') === GKE_CA_NAME
      ? {
          name: 'gke-workload-certificate',
          csi: { driver: 'workloadcertificates.security.cloud.google.com' },
        }
      : { name: 'workload-certs', emptyDir: null },
  ]);
  // The chart's sidecar template mounts the CRL only with istiod certificates (see agentMounts)
  // but declares its (optional) volume whatever the certificate provider.
  volumes.push(crlVolume(values));
  if (valueSet(values, 'global.mountMtlsCerts')) {
    const account = ctx.pod.spec?.serviceAccountName;
    volumes.push({
      name: 'istio-certs',
      secret: {
        optional: true,
        secretName: `istio.${account === undefined || account === '' ? 'default' : account}`,
      },
    });
  }
  volumes.push(...namedEntries(annotations, KEY.userVolume));
  if (lightstepCaDirectory(ctx) !== undefined) {
    volumes.push({
      name: 'lightstep-certs',
      secret: { optional: true, secretName: 'lightstep.cacert' },
    });
  }
  return volumes;
}

function proxyContainer(ctx: RenderContext, mode: string, native: boolean): Container {
  const annotations = podAnnotations(ctx);
  const statusPort = statusPortText(annotations, ctx.values);
  const container = agentContainer(ctx, 'sidecar');
  const lifecycle = proxyLifecycle(ctx, native, statusPort);
  if (lifecycle !== undefined) container.lifecycle = lifecycle;
  container.env = proxyEnv(ctx, mode, annotations);
  container.resources = proxyResources(ctx.values, annotations);
  container.volumeMounts = proxyVolumeMounts(ctx, annotations);
  container.securityContext = proxySecurityContext(ctx, mode, annotations);
  if (statusPort !== '0') {
    if (valueIsTrue(ctx.values, 'global.proxy.startupProbe.enabled')) {
      container.startupProbe = {
        httpGet: { path: '/healthz/ready', port: PROXY_HEALTH_PORT },
        periodSeconds: 1,
        timeoutSeconds: 3,
        failureThreshold: valueNumber(
          ctx.values,
          'global.proxy.startupProbe.failureThreshold',
          600,
        ),
      };
    }
    container.readinessProbe = proxyReadinessProbe(ctx.values, annotations);
  }
  if (native) container.restartPolicy = 'Always';
  return container;
}

function iptablesContainer(ctx: RenderContext, mode: string, cni: boolean): Container {
  const annotations = podAnnotations(ctx);
  const container: Container = {
    name: cni ? 'istio-validation' : 'istio-init',
    image: proxyInitImage({ values: ctx.values, annotations }),
    ...imagePullPolicy(ctx.values),
    args: iptablesArgs({
      annotations,
      values: ctx.values,
      mesh: ctx.mesh,
      interceptionMode: mode,
      proxyUID: ctx.proxyUID,
      cni,
    }),
  };
  const metadataEnv = proxyMetadataEnv(ctx.proxyConfig.proxyMetadata);
  if (metadataEnv.length > 0) container.env = metadataEnv;
  container.resources = proxyResources(ctx.values, annotations);
  container.securityContext = initSecurityContext(ctx, mode, cni);
  return container;
}

/** Annotations the CNI plugin reads instead of the init container's arguments. */
function cniAnnotations(ctx: RenderContext, mode: string, annotations: StringMap): StringMap {
  const traffic = trafficSettings(annotations, ctx.values);
  const out: StringMap = {};
  if (valueString(ctx.values, 'pilot.cni.provider') === 'multus') {
    out[ANNOTATION_MULTUS_NETWORKS] = appendMultusNetwork(
      annotations[ANNOTATION_MULTUS_NETWORKS] ?? '',
      'default/istio-cni',
    );
  }
  out[KEY.interceptionMode] = mode;
  if (traffic.includeIPRanges !== '') out[KEY.includeOutboundIPRanges] = traffic.includeIPRanges;
  if (traffic.excludeIPRanges !== '') out[KEY.excludeOutboundIPRanges] = traffic.excludeIPRanges;
  out[KEY.includeInboundPorts] = traffic.includeInboundPorts;
  out[KEY.excludeInboundPorts] = traffic.excludeInboundPorts;
  if (traffic.includeOutboundPorts !== undefined) {
    out[KEY.includeOutboundPorts] = traffic.includeOutboundPorts;
  }
  if (traffic.excludeOutboundPorts !== undefined) {
    out[KEY.excludeOutboundPorts] = traffic.excludeOutboundPorts;
  }
  for (const key of [KEY.kubevirtInterfaces, KEY.rerouteVirtualInterfaces, KEY.excludeInterfaces]) {
    if (hasKey(annotations, key)) out[key] = annotations[key] ?? '';
  }
  return out;
}

function sidecarLabels(ctx: RenderContext): StringMap {
  const labels = podLabels(ctx);
  const out: StringMap = {
    [LABEL.tlsMode]: labels[LABEL.tlsMode] || 'istio',
  };
  if (ctx.proxyConfig.proxyMetadata?.ISTIO_META_ENABLE_HBONE === 'true') {
    out[LABEL.tunnel] = labels[LABEL.tunnel] || 'http';
  }
  return { ...out, ...canonicalLabels(labels, canonicalName(labels, ctx.deploymentMeta.name)) };
}

/** `istio.io/rev` and the kubectl default-container annotations (only when absent). */
export function revisionAndDefaultContainer(ctx: RenderContext): StringMap {
  const annotations = podAnnotations(ctx);
  const out: StringMap = { [KEY.rev]: ctx.revision === '' ? 'default' : ctx.revision };
  const first = defaultContainerName(ctx.pod.spec?.containers ?? []);
  if (first !== undefined) {
    if (!hasKey(annotations, KEY.defaultLogsContainer)) {
      out[KEY.defaultLogsContainer] = first;
    }
    if (!hasKey(annotations, KEY.defaultContainer)) out[KEY.defaultContainer] = first;
  }
  return out;
}

/** Renders the `sidecar` template for one pod. */
export function renderSidecar(ctx: RenderContext): RenderedTemplate {
  const annotations = podAnnotations(ctx);
  const mode = interceptionModeOf(annotations, ctx.proxyConfig.interceptionMode);
  const native = nativeSidecarFor(ctx);
  const cni = valueIsTrue(ctx.values, 'pilot.cni.enabled');

  const renderedAnnotations = revisionAndDefaultContainer(ctx);
  if (cni) Object.assign(renderedAnnotations, cniAnnotations(ctx, mode, annotations));

  const initContainers: Container[] = [];
  if (mode !== 'NONE') initContainers.push(iptablesContainer(ctx, mode, cni));
  const proxy = proxyContainer(ctx, mode, native);
  if (native) initContainers.push(proxy);

  const spec: PodSpec = { initContainers };
  if (!native) spec.containers = [proxy];
  spec.volumes = podVolumes(ctx, annotations);
  setImagePullSecrets(spec, ctx.values);

  return {
    metadata: { labels: sidecarLabels(ctx), annotations: renderedAnnotations },
    spec,
  };
}
