/**
 * The type rules for every configuration field the injection reads (spec §6-§8): values, mesh
 * and the injector `config` key, as `path:checker` in the order the checks run. Data only;
 * `load.ts` applies them with `checks.ts`.
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
  type Checker,
  type FieldRule,
} from './checks.js';
import { fieldRules } from './field-rules.js';

const tcpPortList = stringFormat((v) => portListError(v));
const inboundPorts = stringFormat((v) => (v === '*' ? undefined : portListError(v)));
const includeRanges = stringFormat((v) => (v === '*' ? undefined : cidrListError(v)));
const excludeRanges = stringFormat((v) => cidrListError(v));
const resourceList = quantityMap((text) =>
  isQuantityError(parseQuantity(text))
    ? 'expected a resource quantity such as "100m" or "1Gi"'
    : undefined,
);

/** The checkers the tables below name. */
const CHECKS: Readonly<Record<string, Checker>> = {
  str,
  bool,
  optionalBool,
  port,
  uint32,
  stringOrNumber,
  stringList,
  stringMap,
  scalarMap,
  object,
  objectList,
  labelSelectorList,
  resourceList,
  tcpPortList,
  inboundPorts,
  includeRanges,
  excludeRanges,
  pullPolicy: oneOf(['', 'Always', 'IfNotPresent', 'Never']),
  reinvocationPolicy: oneOf(['Never', 'IfNeeded']),
  trafficPolicyMode: oneOf(['PASSTHROUGH', 'LOCALHOST']),
};

export const VALUES_RULES: readonly FieldRule[] = fieldRules(
  'values',
  CHECKS,
  `
    global.hub:str
    global.tag:stringOrNumber
    global.variant:str
    global.istioNamespace:str
    global.imagePullPolicy:pullPolicy
    global.imagePullSecrets:stringList
    global.caAddress:str
    global.caName:str
    global.pilotCertProvider:str
    global.trustBundleName:str
    global.trustDomain:str
    global.meshID:str
    global.network:str
    global.multiCluster.clusterName:str
    global.logging.level:str
    global.logAsJson:bool
    global.nativeNftables:bool
    global.mountMtlsCerts:bool
    global.sds.token.aud:str
    global.sts.servicePort:port
    global.proxy.image:str
    global.proxy.autoInject:str
    global.proxy.clusterDomain:str
    global.proxy.logLevel:str
    global.proxy.componentLogLevel:str
    global.proxy.includeIPRanges:includeRanges
    global.proxy.excludeIPRanges:excludeRanges
    global.proxy.includeInboundPorts:inboundPorts
    global.proxy.excludeInboundPorts:tcpPortList
    global.proxy.includeOutboundPorts:tcpPortList
    global.proxy.excludeOutboundPorts:tcpPortList
    global.proxy.statusPort:port
    global.proxy.readinessInitialDelaySeconds:uint32
    global.proxy.readinessPeriodSeconds:uint32
    global.proxy.readinessFailureThreshold:uint32
    global.proxy.startupProbe.enabled:bool
    global.proxy.startupProbe.failureThreshold:uint32
    global.proxy.resources:object
    global.proxy.resources.requests:resourceList
    global.proxy.resources.limits:resourceList
    global.proxy.privileged:bool
    global.proxy.seccompProfile:object
    global.proxy.lifecycle:object
    global.proxy.holdApplicationUntilProxyStarts:bool
    global.proxy.capNetBindService:bool
    global.proxy.outlierLogPath:str
    global.proxy.tracer:str
    global.proxy_init.image:str
    global.proxy_init.forceApplyIptables:bool
    sidecarInjectorWebhook.rewriteAppHTTPProbe:bool
    sidecarInjectorWebhook.enableNamespacesByDefault:bool
    sidecarInjectorWebhook.reinvocationPolicy:reinvocationPolicy
    sidecarInjectorWebhook.neverInjectSelector:labelSelectorList
    sidecarInjectorWebhook.alwaysInjectSelector:labelSelectorList
    sidecarInjectorWebhook.injectedAnnotations:stringMap
    sidecarInjectorWebhook.defaultTemplates:stringList
    sidecarInjectorWebhook.templates:stringMap
    revision:str
    pilot.cni.enabled:bool
    pilot.cni.provider:str
    pilot.env:scalarMap
    pilot.crlConfigMapName:str
    gateways.securityContext:object
    gateways.seccompProfile:object
    meshConfig:object
    meshConfig.enablePrometheusMerge:optionalBool
  `,
);

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

export const MESH_RULES: readonly FieldRule[] = fieldRules(
  'mesh',
  CHECKS,
  `
    trustDomain:str
    rootNamespace:str
    proxyListenPort:port
    proxyInboundListenPort:port
    enablePrometheusMerge:optionalBool
    inboundTrafficPolicy:object
    inboundTrafficPolicy.mode:trafficPolicyMode
    extensionProviders:objectList
    defaultConfig:object
  `,
);

export const INJECTOR_RULES: readonly FieldRule[] = fieldRules(
  'config',
  CHECKS,
  `
    policy:str
    defaultTemplates:stringList
    neverInjectSelector:labelSelectorList
    alwaysInjectSelector:labelSelectorList
    injectedAnnotations:stringMap
    templates:stringMap
    aliases:object
  `,
);
