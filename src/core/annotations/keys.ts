/**
 * Every annotation and label key the injector reads or writes on a pod, by name. The only file
 * that spells these keys; src/core/annotations/registry.ts adds each read key's validator, warning
 * and documentation line. A leaf module (no imports), so any file may read it without a cycle.
 * Key list: https://istio.io/latest/docs/reference/config/annotations/ and .../labels/
 */
export const KEY = {
  // Whether and how to inject.
  inject: 'sidecar.istio.io/inject',
  status: 'sidecar.istio.io/status',
  templates: 'inject.istio.io/templates',
  rev: 'istio.io/rev',
  // Proxy configuration.
  proxyConfig: 'proxy.istio.io/config',
  overrides: 'proxy.istio.io/overrides',
  nativeSidecar: 'sidecar.istio.io/nativeSidecar',
  proxyCPU: 'sidecar.istio.io/proxyCPU',
  proxyMemory: 'sidecar.istio.io/proxyMemory',
  proxyCPULimit: 'sidecar.istio.io/proxyCPULimit',
  proxyMemoryLimit: 'sidecar.istio.io/proxyMemoryLimit',
  logLevel: 'sidecar.istio.io/logLevel',
  componentLogLevel: 'sidecar.istio.io/componentLogLevel',
  agentLogLevel: 'sidecar.istio.io/agentLogLevel',
  capNetBindService: 'sidecar.istio.io/capNetBindService',
  bootstrapOverride: 'sidecar.istio.io/bootstrapOverride',
  userVolume: 'sidecar.istio.io/userVolume',
  userVolumeMount: 'sidecar.istio.io/userVolumeMount',
  rewriteAppHTTPProbers: 'sidecar.istio.io/rewriteAppHTTPProbers',
  // Status port and proxy readiness.
  statusPort: 'status.sidecar.istio.io/port',
  readinessInitialDelay: 'readiness.status.sidecar.istio.io/initialDelaySeconds',
  readinessPeriod: 'readiness.status.sidecar.istio.io/periodSeconds',
  readinessFailureThreshold: 'readiness.status.sidecar.istio.io/failureThreshold',
  // Traffic capture (iptables arguments).
  interceptionMode: 'sidecar.istio.io/interceptionMode',
  includeOutboundIPRanges: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  excludeOutboundIPRanges: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  includeInboundPorts: 'traffic.sidecar.istio.io/includeInboundPorts',
  excludeInboundPorts: 'traffic.sidecar.istio.io/excludeInboundPorts',
  includeOutboundPorts: 'traffic.sidecar.istio.io/includeOutboundPorts',
  excludeOutboundPorts: 'traffic.sidecar.istio.io/excludeOutboundPorts',
  kubevirtInterfaces: 'traffic.sidecar.istio.io/kubevirtInterfaces',
  rerouteVirtualInterfaces: 'istio.io/reroute-virtual-interfaces',
  excludeInterfaces: 'traffic.sidecar.istio.io/excludeInterfaces',
  // Prometheus metrics merging.
  prometheusScrape: 'prometheus.io/scrape',
  prometheusPort: 'prometheus.io/port',
  prometheusPath: 'prometheus.io/path',
  scrapeTargets: 'prometheus.istio.io/scrape-targets',
  mergeMetrics: 'prometheus.istio.io/merge-metrics',
  securePort: 'prometheus.istio.io/secure-port',
  // Images.
  proxyImage: 'sidecar.istio.io/proxyImage',
  proxyImageType: 'sidecar.istio.io/proxyImageType',
  // Read or written for other tools.
  datadogEnv: 'apm.datadoghq.com/env',
  defaultContainer: 'kubectl.kubernetes.io/default-container',
  defaultLogsContainer: 'kubectl.kubernetes.io/default-logs-container',
} as const;

export type KeyName = keyof typeof KEY;

/**
 * Labels that are not pod annotations with a validator: the webhook configuration and namespace
 * labels the selectors read, and the labels the sidecar template writes on the pod.
 */
export const LABEL = {
  tag: 'istio.io/tag',
  namespaceInjection: 'istio-injection',
  network: 'topology.istio.io/network',
  tlsMode: 'security.istio.io/tlsMode',
  tunnel: 'networking.istio.io/tunnel',
  canonicalName: 'service.istio.io/canonical-name',
  canonicalRevision: 'service.istio.io/canonical-revision',
  workloadName: 'service.istio.io/workload-name',
} as const;
