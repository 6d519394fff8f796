/**
 * Arguments of the iptables init container (`istio-init`, or `istio-validation` under the CNI
 * plugin), flag by flag. Flags: https://istio.io/latest/docs/reference/commands/pilot-agent/#pilot-agent-istio-iptables
 * Annotation presence, not emptiness, selects the annotation over the values default.
 */
import type { MeshConfig, Values } from '../config/types.js';
import type { StringMap } from '../pod-types.js';
import { annotationOr, hasKey, valueIsTrue, valueString } from './values.js';
import { KEY } from '../annotations/keys.js';

/** Ports always excluded from inbound capture: Envoy Prometheus (15090) and health (15021). */
const ALWAYS_EXCLUDED_INBOUND = '15090,15021';

/**
 * Adds the status port to an exclude-inbound port list unless it is `0`/empty or already listed.
 * An already-listed port (compared untrimmed) or a zero port returns the list unchanged; otherwise
 * the rebuilt list drops empty elements and trims the others.
 */
export function excludeInboundPort(port: string, excludedPorts: string): string {
  const portText = port.trim();
  if (portText === '' || portText === '0') return excludedPorts;
  const kept: string[] = [];
  for (const raw of excludedPorts === '' ? [] : excludedPorts.split(',')) {
    if (raw === portText) return excludedPorts;
    const trimmed = raw.trim();
    if (trimmed !== '') kept.push(trimmed);
  }
  kept.push(portText);
  return kept.join(',');
}

/** Status port text: annotation `KEY.statusPort`, else `global.proxy.statusPort`. */
export function statusPortText(annotations: StringMap, values: Values): string {
  return annotationOr(annotations, KEY.statusPort, valueString(values, 'global.proxy.statusPort'));
}

/** Effective interception mode: the pod annotation, else the proxy config (REDIRECT when unset). */
export function interceptionModeOf(
  annotations: StringMap,
  proxyConfigMode: string | undefined,
): string {
  return annotationOr(annotations, KEY.interceptionMode, proxyConfigMode ?? 'REDIRECT');
}

export interface TrafficSettings {
  includeIPRanges: string;
  excludeIPRanges: string;
  includeInboundPorts: string;
  /** Exclude-inbound list with the status port appended (the `X` of `-d 15090,15021,X`). */
  excludeInboundPorts: string;
  /** `undefined` when neither the annotation is present nor the values entry is non-empty. */
  includeOutboundPorts: string | undefined;
  excludeOutboundPorts: string | undefined;
  /** `-k`: reroute-virtual-interfaces wins over kubevirtInterfaces; `undefined` when neither is present. */
  virtualInterfaces: string | undefined;
  excludeInterfaces: string | undefined;
}

function optionalPorts(annotations: StringMap, key: string, values: Values, path: string) {
  const configured = valueString(values, path);
  if (hasKey(annotations, key)) return annotations[key] ?? '';
  return configured === '' ? undefined : configured;
}

export function trafficSettings(annotations: StringMap, values: Values): TrafficSettings {
  const excludeList = annotationOr(
    annotations,
    KEY.excludeInboundPorts,
    valueString(values, 'global.proxy.excludeInboundPorts'),
  );
  let virtualInterfaces: string | undefined;
  if (hasKey(annotations, KEY.rerouteVirtualInterfaces)) {
    virtualInterfaces = annotations[KEY.rerouteVirtualInterfaces];
  } else if (hasKey(annotations, KEY.kubevirtInterfaces)) {
    virtualInterfaces = annotations[KEY.kubevirtInterfaces];
  }
  return {
    includeIPRanges: annotationOr(
      annotations,
      KEY.includeOutboundIPRanges,
      valueString(values, 'global.proxy.includeIPRanges'),
    ),
    excludeIPRanges: annotationOr(
      annotations,
      KEY.excludeOutboundIPRanges,
      valueString(values, 'global.proxy.excludeIPRanges'),
    ),
    includeInboundPorts: annotationOr(
      annotations,
      KEY.includeInboundPorts,
      valueString(values, 'global.proxy.includeInboundPorts'),
    ),
    excludeInboundPorts: excludeInboundPort(statusPortText(annotations, values), excludeList),
    includeOutboundPorts: optionalPorts(
      annotations,
      KEY.includeOutboundPorts,
      values,
      'global.proxy.includeOutboundPorts',
    ),
    excludeOutboundPorts: optionalPorts(
      annotations,
      KEY.excludeOutboundPorts,
      values,
      'global.proxy.excludeOutboundPorts',
    ),
    virtualInterfaces,
    excludeInterfaces: hasKey(annotations, KEY.excludeInterfaces)
      ? annotations[KEY.excludeInterfaces]
      : undefined,
  };
}

export interface IptablesInputs {
  annotations: StringMap;
  values: Values;
  mesh: Pick<MeshConfig, 'proxyListenPort' | 'proxyInboundListenPort'>;
  /** Effective interception mode (annotation or proxy config). */
  interceptionMode: string;
  proxyUID: number;
  /** CNI mode (`pilot.cni.enabled`): validation only, no rule application. */
  cni: boolean;
}

/** The full argument list of the iptables init container (spec §7, rows 1-17). */
export function iptablesArgs(input: IptablesInputs): string[] {
  const { annotations, values, mesh, interceptionMode, cni } = input;
  const traffic = trafficSettings(annotations, values);
  const uid = interceptionMode === 'TPROXY' ? 1337 : input.proxyUID;
  const args = [
    'istio-iptables',
    '-p',
    String(mesh.proxyListenPort || 15001),
    '-z',
    String(mesh.proxyInboundListenPort || 15006),
    '-u',
    String(uid),
    '-m',
    interceptionMode,
    '-i',
    traffic.includeIPRanges,
    '-x',
    traffic.excludeIPRanges,
    '-b',
    traffic.includeInboundPorts,
    '-d',
    traffic.excludeInboundPorts === ''
      ? ALWAYS_EXCLUDED_INBOUND
      : `${ALWAYS_EXCLUDED_INBOUND},${traffic.excludeInboundPorts}`,
  ];
  if (traffic.includeOutboundPorts !== undefined) args.push('-q', traffic.includeOutboundPorts);
  if (traffic.excludeOutboundPorts !== undefined) args.push('-o', traffic.excludeOutboundPorts);
  if (traffic.virtualInterfaces !== undefined) args.push('-k', traffic.virtualInterfaces);
  if (traffic.excludeInterfaces !== undefined) args.push('-c', traffic.excludeInterfaces);
  args.push(
    `--log_output_level=${annotationOr(annotations, KEY.agentLogLevel, valueString(values, 'global.logging.level'))}`,
  );
  if (valueIsTrue(values, 'global.logAsJson')) args.push('--log_as_json');
  if (cni) {
    args.push('--run-validation', '--skip-rule-apply');
  } else if (valueIsTrue(values, 'global.proxy_init.forceApplyIptables')) {
    args.push('--force-apply');
  }
  if (valueIsTrue(values, 'global.nativeNftables')) args.push('--native-nftables');
  return args;
}
