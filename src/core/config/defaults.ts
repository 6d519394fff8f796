/**
 * Embedded defaults: what the injector uses when a configuration input is absent or empty.
 *
 * - DEFAULT_VALUES: the injector-relevant part of the istiod chart's Helm values (Istio 1.32),
 *   i.e. what the chart puts in the `values` key of the `istio-sidecar-injector` ConfigMap.
 * - DEFAULT_PROXY_CONFIG: Istio's built-in ProxyConfig defaults.
 * - DEFAULT_MESH: Istio's built-in MeshConfig defaults plus what the chart's `istio` ConfigMap sets.
 * Everything is deep-frozen; copy with `cloneJson` before changing anything.
 */
import type { InjectionConfig, InjectorConfig, MeshConfig, ProxyConfig, Values } from './types.js';
import { deepFreeze } from './merge.js';

/**
 * Names of the templates the istiod chart ships (spec §4.3): a `templates` entry under one of
 * these names is the chart's own text, so the name keeps its built-in renderer.
 */
export const CHART_TEMPLATE_NAMES: readonly string[] = deepFreeze([
  'sidecar',
  'gateway',
  'grpc-simple',
  'grpc-agent',
  'waypoint',
  'kube-gateway',
  'agentgateway',
  'agentgateway-waypoint',
]);

/** Namespaces the server never injects into (spec §2.2 step 2). */
export const IGNORED_NAMESPACES: readonly string[] = deepFreeze([
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'local-path-storage',
]);

export const DEFAULT_HUB = 'docker.io/istio';
export const DEFAULT_TAG = '1.32.0';

export const DEFAULT_VALUES: Values = deepFreeze<Values>({
  global: {
    hub: DEFAULT_HUB,
    tag: DEFAULT_TAG,
    variant: '',
    istioNamespace: 'istio-system',
    imagePullPolicy: '',
    imagePullSecrets: [],
    logAsJson: false,
    nativeNftables: false,
    logging: { level: 'default:info' },
    proxy: {
      image: 'proxyv2',
      autoInject: 'enabled',
      clusterDomain: 'cluster.local',
      componentLogLevel: 'misc:error',
      excludeInboundPorts: '',
      includeInboundPorts: '*',
      includeIPRanges: '*',
      excludeIPRanges: '',
      includeOutboundPorts: '',
      excludeOutboundPorts: '',
      logLevel: 'warning',
      outlierLogPath: '',
      privileged: false,
      seccompProfile: {},
      readinessFailureThreshold: 4,
      readinessInitialDelaySeconds: 0,
      readinessPeriodSeconds: 15,
      startupProbe: { enabled: true, failureThreshold: 600 },
      resources: {
        requests: { cpu: '100m', memory: '128Mi' },
        limits: { cpu: '2000m', memory: '1024Mi' },
      },
      statusPort: 15020,
      tracer: 'none',
    },
    proxy_init: { image: 'proxyv2', forceApplyIptables: false },
    remotePilotAddress: '',
    caAddress: '',
    externalIstiod: false,
    configCluster: false,
    meshID: '',
    meshNetworks: {},
    mountMtlsCerts: false,
    multiCluster: { clusterName: '' },
    network: '',
    pilotCertProvider: 'istiod',
    sds: { token: { aud: 'istio-ca' } },
    sts: { servicePort: 0 },
    caName: '',
  },
  sidecarInjectorWebhook: {
    neverInjectSelector: [],
    alwaysInjectSelector: [],
    injectedAnnotations: {},
    enableNamespacesByDefault: false,
    reinvocationPolicy: 'Never',
    rewriteAppHTTPProbe: true,
    templates: {},
    defaultTemplates: [],
  },
  istiodRemote: { injectionPath: '/inject', injectionURL: '' },
  revision: '',
  pilot: { cni: { enabled: false, provider: 'default' }, env: {} },
  gateways: { securityContext: {}, seccompProfile: {} },
  meshConfig: { enablePrometheusMerge: true },
});

/** Istio's built-in ProxyConfig defaults (the values PROXY_CONFIG omits when unchanged). */
export const DEFAULT_PROXY_CONFIG: ProxyConfig = deepFreeze<ProxyConfig>({
  configPath: './etc/istio/proxy',
  binaryPath: '/usr/local/bin/envoy',
  serviceCluster: 'istio-proxy',
  drainDuration: '45s',
  terminationDrainDuration: '5s',
  proxyAdminPort: 15000,
  controlPlaneAuthPolicy: 'MUTUAL_TLS',
  discoveryAddress: 'istiod.istio-system.svc:15012',
  statNameLength: 189,
  statusPort: 15020,
  // The enum's zero value: Istio treats an unset interception mode as REDIRECT.
  interceptionMode: 'REDIRECT',
});

export const DEFAULT_MESH: MeshConfig = deepFreeze<MeshConfig>({
  // Built-in MeshConfig defaults.
  enableTracing: true,
  accessLogFile: '',
  accessLogEncoding: 'TEXT',
  connectTimeout: '10s',
  proxyListenPort: 15001,
  proxyInboundListenPort: 15006,
  outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
  inboundTrafficPolicy: { mode: 'PASSTHROUGH' },
  dnsRefreshRate: '60s',
  enableAutoMtls: true,
  extensionProviders: [],
  // What the chart's mesh sets with default values.
  trustDomain: 'cluster.local',
  rootNamespace: 'istio-system',
  enablePrometheusMerge: true,
  defaultConfig: { ...DEFAULT_PROXY_CONFIG },
});

export const DEFAULT_INJECTOR_CONFIG: InjectorConfig = deepFreeze<InjectorConfig>({
  policy: 'enabled',
  defaultTemplates: ['sidecar'],
  aliases: {},
  neverInjectSelector: [],
  alwaysInjectSelector: [],
  injectedAnnotations: {},
  customTemplates: {},
});

const DEFAULT_INJECTION_CONFIG: InjectionConfig = deepFreeze<InjectionConfig>({
  injector: DEFAULT_INJECTOR_CONFIG,
  values: DEFAULT_VALUES,
  mesh: DEFAULT_MESH,
  revision: 'default',
});

/** The configuration used when no input is given (frozen; shared by every caller). */
export function defaultInjectionConfig(): InjectionConfig {
  return DEFAULT_INJECTION_CONFIG;
}
