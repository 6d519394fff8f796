/**
 * Proxyless gRPC templates (https://istio.io/latest/blog/2021/proxyless-grpc/):
 * - `grpc-simple`: an init container writes a static xDS bootstrap file for the gRPC library;
 *   no proxy, no agent.
 * - `grpc-agent`: the Istio agent runs without Envoy (`DISABLE_ENVOY`), serves xDS and
 *   certificates to the application through a shared volume.
 * Both turn off the application probe rewrite (there is no Envoy to forward probes).
 */
import type { RenderContext, RenderedTemplate } from '../contracts.js';
import type { Container, EnvVar, PodSpec } from '../pod-types.js';
import type { JsonObject } from '../json.js';
import {
  agentContainer,
  agentMounts,
  agentStateVolumes,
  appContainersEnv,
  caAndPodEnv,
  clusterAndNodeEnv,
  proxyConfigEnv,
  setImagePullSecrets,
  workloadMetaEnv,
} from './agent.js';
import { fieldRefEnv, meshIdentityEnv, proxyMetadataEnv } from './env.js';
import { podAnnotations, podLabels } from './pod-annotations.js';
import { proxyReadinessProbe, proxyResources } from './proxy-container.js';
import { volumeMount } from './volumes.js';
import { statusPortText } from './iptables.js';
import { PROXY_CONTAINER, canonicalLabels, canonicalName } from './metadata.js';
import { revisionAndDefaultContainer } from './sidecar.js';
import { valueString } from './values.js';
import { KEY } from '../annotations/keys.js';

const GRPC_BOOTSTRAP_VOLUME = 'grpc-io-proxyless-bootstrap';
const GRPC_BOOTSTRAP_DIR = '/var/lib/grpc/data/';

/** Shell script writing the gRPC xDS bootstrap (https://github.com/grpc/proposal/blob/master/A27-xds-global-load-balancing.md). */
function grpcBootstrapScript(clusterDomain: string): string {
  return [
    `NODE_ID="sidecar~\${INSTANCE_IP}~\${POD_NAME}.\${POD_NAMESPACE}~${clusterDomain}"`,
    'SERVER_URI="dns:///istiod.${ISTIO_NAMESPACE}.svc:15010"',
    "echo '",
    '{',
    '  "xds_servers": [',
    '    {',
    `      "server_uri": "'\${SERVER_URI}'",`,
    '      "channel_creds": [{"type": "insecure"}],',
    '      "server_features" : ["xds_v3"]',
    '    }',
    '  ],',
    '  "node": {',
    `    "id": "'\${NODE_ID}'",`,
    '    "metadata": {',
    '      "GENERATOR": "grpc"',
    '    }',
    '  }',
    `}' > ${GRPC_BOOTSTRAP_DIR}bootstrap.json`,
  ].join('\n');
}

/** Renders the `grpc-simple` template for one pod. */
export function renderGrpcSimple(ctx: RenderContext): RenderedTemplate {
  const { values } = ctx;
  const bootstrapMount = volumeMount(GRPC_BOOTSTRAP_VOLUME, GRPC_BOOTSTRAP_DIR);
  const init: Container = {
    name: 'grpc-bootstrap-init',
    image: 'busybox:1.28',
    volumeMounts: [bootstrapMount],
    env: [
      fieldRefEnv('INSTANCE_IP', 'status.podIP'),
      fieldRefEnv('POD_NAME', 'metadata.name'),
      fieldRefEnv('POD_NAMESPACE', 'metadata.namespace'),
      // The trailing newline is part of the value Istio renders; the shell ignores it.
      { name: 'ISTIO_NAMESPACE', value: `${valueString(values, 'global.istioNamespace')}\n` },
    ],
    command: ['sh', '-c', grpcBootstrapScript(valueString(values, 'global.proxy.clusterDomain'))],
  };
  const containers: Container[] = (ctx.pod.spec?.containers ?? []).map((container) => ({
    name: container.name,
    env: [
      { name: 'GRPC_XDS_BOOTSTRAP', value: `${GRPC_BOOTSTRAP_DIR}bootstrap.json` },
      { name: 'GRPC_GO_LOG_VERBOSITY_LEVEL', value: '99' },
      { name: 'GRPC_GO_LOG_SEVERITY_LEVEL', value: 'info' },
    ],
    volumeMounts: [bootstrapMount],
  }));
  return {
    metadata: { annotations: { [KEY.rewriteAppHTTPProbers]: 'false' } },
    spec: {
      initContainers: [init],
      containers,
      volumes: [{ name: GRPC_BOOTSTRAP_VOLUME, emptyDir: {} }],
    },
  };
}

function agentEnv(ctx: RenderContext): EnvVar[] {
  return [
    { name: 'ISTIO_META_GENERATOR', value: 'grpc' },
    { name: 'OUTPUT_CERTS', value: '/var/lib/istio/data' },
    ...caAndPodEnv(ctx.values),
    ...proxyConfigEnv(ctx),
    appContainersEnv(ctx),
    ...clusterAndNodeEnv(ctx.values),
    ...workloadMetaEnv(ctx),
    ...meshIdentityEnv(ctx),
    ...proxyMetadataEnv(ctx.proxyConfig.proxyMetadata),
    // The agent serves DNS and xDS to the application itself; there is no Envoy to capture DNS.
    { name: 'ISTIO_META_DNS_CAPTURE', value: 'false' },
    { name: 'DISABLE_ENVOY', value: 'true' },
  ];
}

/** Renders the `grpc-agent` template for one pod. */
export function renderGrpcAgent(ctx: RenderContext): RenderedTemplate {
  const { values } = ctx;
  const annotations = podAnnotations(ctx);
  const labels = podLabels(ctx);
  // The annotation is validated as a port (0-65535, spaces allowed), so this is an integer. 0,
  // however written ("0", "00", " 0"), is no status port: Istio's template then writes a
  // containerPort and probe port 0, which the API server refuses (ports are 1-65535), so the
  // port, the readiness probe and the postStart wait on it are left out instead.
  const statusPort = Number(statusPortText(annotations, values).trim());
  const served = statusPort !== 0;

  const readiness = proxyReadinessProbe(values, annotations);
  // The agent itself answers readiness on the status port (there is no Envoy on 15021).
  readiness.httpGet = { path: '/healthz/ready', port: statusPort };

  const agent: Container = {
    ...agentContainer(ctx, 'sidecar', {
      containerPort: statusPort,
      protocol: 'TCP',
      name: 'mesh-metrics',
    }),
    ...(served
      ? {
          lifecycle: {
            postStart: {
              exec: {
                command: [
                  'pilot-agent',
                  'wait',
                  `--url=http://localhost:${statusPort}/healthz/ready`,
                ],
              },
            },
          },
        }
      : {}),
    env: agentEnv(ctx),
    resources: proxyResources(values, annotations),
    volumeMounts: agentMounts(ctx, [
      'workload-socket',
      'workload-certs',
      'istiod-ca-cert',
      'istio-data',
      'istio-xds',
      'istio-token',
      'istio-podinfo',
    ]),
  };
  if (served) agent.readinessProbe = readiness;
  else delete agent.ports;

  const apps: Container[] = (ctx.pod.spec?.containers ?? [])
    .filter((container) => container.name !== PROXY_CONTAINER)
    .map((container) => ({
      name: container.name,
      env: [
        { name: 'GRPC_XDS_EXPERIMENTAL_SECURITY_SUPPORT', value: 'true' },
        { name: 'GRPC_XDS_BOOTSTRAP', value: '/etc/istio/proxy/grpc-bootstrap.json' },
      ],
      volumeMounts: agentMounts(ctx, ['istio-data', 'istio-xds', 'workload-certs']),
    }));

  const volumes: JsonObject[] = [
    { name: 'workload-socket', emptyDir: null },
    { name: 'workload-certs', emptyDir: null },
    ...agentStateVolumes(values, 'istio-xds'),
  ];

  const spec: PodSpec = { containers: [agent, ...apps], volumes };
  setImagePullSecrets(spec, values);
  return {
    metadata: {
      labels: canonicalLabels(labels, canonicalName(labels, ctx.deploymentMeta.name)),
      annotations: { [KEY.rewriteAppHTTPProbers]: 'false', ...revisionAndDefaultContainer(ctx) },
    },
    spec,
  };
}
