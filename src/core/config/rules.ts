/**
 * The type rules for every configuration field the injection reads (spec §6-§8): values, mesh
 * and the injector `config` key. Data only; `load.ts` applies them with `checks.ts`.
 */
import { cidrListError, portListError } from '../annotations/value-formats.js';
import { isQuantityError, parseQuantity } from '../quantity.js';
import {
  bool,
  labelSelectorList,
  object,
  objectList,
  oneOf,
  optionalBool,
  port,
  quantityMap,
  scalarMap,
  str,
  stringFormat,
  stringList,
  stringMap,
  stringOrNumber,
  uint32,
  type FieldRule,
} from './checks.js';

const tcpPortList = stringFormat((v) => portListError(v));
const inboundPorts = stringFormat((v) => (v === '*' ? undefined : portListError(v)));
const includeRanges = stringFormat((v) => (v === '*' ? undefined : cidrListError(v)));
const excludeRanges = stringFormat((v) => cidrListError(v));
const resourceList = quantityMap((text) =>
  isQuantityError(parseQuantity(text))
    ? 'expected a resource quantity such as "100m" or "1Gi"'
    : undefined,
);

export const VALUES_RULES: readonly FieldRule[] = [
  { path: 'global.hub', check: str },
  { path: 'global.tag', check: stringOrNumber },
  { path: 'global.variant', check: str },
  { path: 'global.istioNamespace', check: str },
  { path: 'global.imagePullPolicy', check: oneOf(['', 'Always', 'IfNotPresent', 'Never']) },
  { path: 'global.imagePullSecrets', check: stringList },
  { path: 'global.caAddress', check: str },
  { path: 'global.caName', check: str },
  { path: 'global.pilotCertProvider', check: str },
  { path: 'global.trustBundleName', check: str },
  { path: 'global.trustDomain', check: str },
  { path: 'global.meshID', check: str },
  { path: 'global.network', check: str },
  { path: 'global.multiCluster.clusterName', check: str },
  { path: 'global.logging.level', check: str },
  { path: 'global.logAsJson', check: bool },
  { path: 'global.nativeNftables', check: bool },
  { path: 'global.mountMtlsCerts', check: bool },
  { path: 'global.sds.token.aud', check: str },
  { path: 'global.sts.servicePort', check: port },
  { path: 'global.proxy.image', check: str },
  { path: 'global.proxy.autoInject', check: str },
  { path: 'global.proxy.clusterDomain', check: str },
  { path: 'global.proxy.logLevel', check: str },
  { path: 'global.proxy.componentLogLevel', check: str },
  { path: 'global.proxy.includeIPRanges', check: includeRanges },
  { path: 'global.proxy.excludeIPRanges', check: excludeRanges },
  { path: 'global.proxy.includeInboundPorts', check: inboundPorts },
  { path: 'global.proxy.excludeInboundPorts', check: tcpPortList },
  { path: 'global.proxy.includeOutboundPorts', check: tcpPortList },
  { path: 'global.proxy.excludeOutboundPorts', check: tcpPortList },
  { path: 'global.proxy.statusPort', check: port },
  { path: 'global.proxy.readinessInitialDelaySeconds', check: uint32 },
  { path: 'global.proxy.readinessPeriodSeconds', check: uint32 },
  { path: 'global.proxy.readinessFailureThreshold', check: uint32 },
  { path: 'global.proxy.startupProbe.enabled', check: bool },
  { path: 'global.proxy.startupProbe.failureThreshold', check: uint32 },
  { path: 'global.proxy.resources', check: object },
  { path: 'global.proxy.resources.requests', check: resourceList },
  { path: 'global.proxy.resources.limits', check: resourceList },
  { path: 'global.proxy.privileged', check: bool },
  { path: 'global.proxy.seccompProfile', check: object },
  { path: 'global.proxy.lifecycle', check: object },
  { path: 'global.proxy.holdApplicationUntilProxyStarts', check: bool },
  { path: 'global.proxy.capNetBindService', check: bool },
  { path: 'global.proxy.outlierLogPath', check: str },
  { path: 'global.proxy.tracer', check: str },
  { path: 'global.proxy_init.image', check: str },
  { path: 'global.proxy_init.forceApplyIptables', check: bool },
  { path: 'sidecarInjectorWebhook.rewriteAppHTTPProbe', check: bool },
  { path: 'sidecarInjectorWebhook.enableNamespacesByDefault', check: bool },
  { path: 'sidecarInjectorWebhook.reinvocationPolicy', check: oneOf(['Never', 'IfNeeded']) },
  { path: 'sidecarInjectorWebhook.neverInjectSelector', check: labelSelectorList },
  { path: 'sidecarInjectorWebhook.alwaysInjectSelector', check: labelSelectorList },
  { path: 'sidecarInjectorWebhook.injectedAnnotations', check: stringMap },
  { path: 'sidecarInjectorWebhook.defaultTemplates', check: stringList },
  { path: 'sidecarInjectorWebhook.templates', check: stringMap },
  { path: 'revision', check: str },
  { path: 'pilot.cni.enabled', check: bool },
  { path: 'pilot.cni.provider', check: str },
  { path: 'pilot.env', check: scalarMap },
  { path: 'pilot.crlConfigMapName', check: str },
  { path: 'gateways.securityContext', check: object },
  { path: 'gateways.seccompProfile', check: object },
  { path: 'meshConfig', check: object },
  { path: 'meshConfig.enablePrometheusMerge', check: optionalBool },
];

/** Containers of the rules above: each must be a map when present. */
export const VALUES_MAPS = [
  'global.proxy.startupProbe',
  'global.proxy_init',
  'global.logging',
  'global.multiCluster',
  'global.sds.token',
  'global.sts',
  'sidecarInjectorWebhook',
  'pilot.cni',
];

export const MESH_RULES: readonly FieldRule[] = [
  { path: 'trustDomain', check: str },
  { path: 'rootNamespace', check: str },
  { path: 'proxyListenPort', check: port },
  { path: 'proxyInboundListenPort', check: port },
  { path: 'enablePrometheusMerge', check: optionalBool },
  { path: 'inboundTrafficPolicy', check: object },
  { path: 'inboundTrafficPolicy.mode', check: oneOf(['PASSTHROUGH', 'LOCALHOST']) },
  { path: 'extensionProviders', check: objectList },
  { path: 'defaultConfig', check: object },
];

export const INJECTOR_RULES: readonly FieldRule[] = [
  { path: 'policy', check: str },
  { path: 'defaultTemplates', check: stringList },
  { path: 'neverInjectSelector', check: labelSelectorList },
  { path: 'alwaysInjectSelector', check: labelSelectorList },
  { path: 'injectedAnnotations', check: stringMap },
  { path: 'templates', check: stringMap },
  { path: 'aliases', check: object },
];
