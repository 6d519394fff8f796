/**
 * `sidecar-injector serve`: flags, their environment equivalents, and validation into ServeOptions.
 * Starting the server is src/server.ts's job.
 */
import { LOG_LEVELS } from '../logging/logger.js';
import { first, formatFlagHelp, parseFlags, type FlagSpec } from './flags.js';
import type { LevelWithSilent } from 'pino';

export type NativeSidecarMode = 'auto' | 'enabled' | 'disabled';
export type ClusterMode = 'offline' | 'in-cluster' | 'kubeconfig';

export interface ServeOptions {
  port: number;
  host: string;
  /** Both or neither; neither means development certificates under certs/dev/. */
  tlsCert?: string;
  tlsKey?: string;
  kubeconfig?: string;
  /** `kubeconfig` with --kubeconfig, `in-cluster` when KUBERNETES_SERVICE_HOST is set, else `offline`. */
  clusterMode: ClusterMode;
  configDir?: string;
  istioNamespace: string;
  revision: string;
  nativeSidecars: NativeSidecarMode;
  /** `openshift`: proxy UID/GID from the namespace's SCC annotations (istiod's PLATFORM). */
  platform: 'kubernetes' | 'openshift';
  /** istiod's COMPLIANCE_POLICY (e.g. `fips-140-3`); empty when unset. */
  compliancePolicy: string;
  logLevel: LevelWithSilent;
  /** Optional plain-HTTP listener serving only /metrics. */
  metricsPort?: number;
  drainSeconds: number;
  /** Cluster mode: the pod audit and webhook self-check (docs/audit.md). */
  audit: boolean;
  auditIntervalSeconds: number;
  auditEvents: boolean;
  /** Cluster mode: Events on the owners of skipped and denied pods. */
  events: boolean;
  webhookConfig: string;
  /** Our Service, `<namespace>/<name>`. */
  service: { namespace: string; name: string };
}

export const SERVE_FLAGS: readonly FlagSpec[] = [
  { name: 'port', env: 'INJECTOR_PORT', kind: 'port', default: '9443', description: 'TLS port' },
  {
    name: 'host',
    env: 'INJECTOR_HOST',
    kind: 'string',
    // Loopback unless asked: the chart, the kustomize tree and the image pass 0.0.0.0 explicitly.
    default: '127.0.0.1',
    metavar: 'ADDR',
    description: 'address to listen on',
  },
  {
    name: 'tls-cert',
    env: 'INJECTOR_TLS_CERT',
    kind: 'string',
    metavar: 'PATH',
    description: 'serving certificate (PEM), reloaded when it changes',
  },
  {
    name: 'tls-key',
    env: 'INJECTOR_TLS_KEY',
    kind: 'string',
    metavar: 'PATH',
    description: 'serving key (PEM); without both, dev certificates in certs/dev/',
  },
  {
    name: 'kubeconfig',
    env: 'INJECTOR_KUBECONFIG',
    kind: 'string',
    metavar: 'PATH',
    description:
      'kubeconfig file; else in-cluster when KUBERNETES_SERVICE_HOST is set, else offline',
  },
  {
    name: 'config-dir',
    env: 'INJECTOR_CONFIG_DIR',
    kind: 'string',
    metavar: 'DIR',
    description: 'directory with Istio-format files config, values, mesh',
  },
  {
    name: 'istio-namespace',
    env: 'INJECTOR_ISTIO_NAMESPACE',
    kind: 'string',
    default: 'istio-system',
    metavar: 'NS',
    description: 'namespace of the Istio ConfigMaps',
  },
  {
    name: 'revision',
    env: 'INJECTOR_REVISION',
    kind: 'string',
    default: 'default',
    metavar: 'REV',
    description: 'Istio revision served',
  },
  {
    name: 'native-sidecars',
    env: 'INJECTOR_NATIVE_SIDECARS',
    kind: 'enum',
    choices: ['auto', 'enabled', 'disabled'],
    default: 'auto',
    metavar: 'MODE',
    description: 'native sidecar containers (auto: every node kubelet >= 1.33)',
  },
  {
    name: 'platform',
    env: 'INJECTOR_PLATFORM',
    kind: 'enum',
    choices: ['kubernetes', 'openshift'],
    default: 'kubernetes',
    metavar: 'NAME',
    description: 'openshift: proxy UID/GID from the namespace uid-range annotations',
  },
  {
    name: 'compliance-policy',
    env: 'INJECTOR_COMPLIANCE_POLICY',
    kind: 'enum',
    choices: ['fips-140-2', 'fips-140-3', 'pqc'],
    metavar: 'POLICY',
    description: 'TLS compliance policy passed to the proxy (COMPLIANCE_POLICY); none by default',
  },
  {
    name: 'log-level',
    env: 'INJECTOR_LOG_LEVEL',
    kind: 'enum',
    choices: LOG_LEVELS,
    default: 'info',
    metavar: 'LEVEL',
    description: 'log level',
  },
  {
    name: 'metrics-port',
    env: 'INJECTOR_METRICS_PORT',
    kind: 'port',
    description: 'also serve /metrics over plain HTTP on this port',
  },
  {
    name: 'drain-seconds',
    env: 'INJECTOR_DRAIN_SECONDS',
    kind: 'integer',
    min: 0,
    default: '5',
    metavar: 'N',
    description: 'on SIGTERM keep answering this long, then close',
  },
  {
    name: 'audit',
    env: 'INJECTOR_AUDIT',
    kind: 'enum',
    choices: ['on', 'off'],
    default: 'on',
    metavar: 'on|off',
    description: 'cluster mode: report uninjected/stale pods and webhook problems (docs/audit.md)',
  },
  {
    name: 'audit-interval',
    env: 'INJECTOR_AUDIT_INTERVAL',
    kind: 'integer',
    min: 5,
    default: '15',
    metavar: 'SECONDS',
    description: 'time between pod audit runs',
  },
  {
    name: 'events',
    env: 'INJECTOR_EVENTS',
    kind: 'enum',
    choices: ['on', 'off'],
    default: 'on',
    metavar: 'on|off',
    description:
      'cluster mode: Events on the owners of skipped and denied pods, batched and rate-limited (needs create and patch on events)',
  },
  {
    name: 'audit-events',
    env: 'INJECTOR_AUDIT_EVENTS',
    kind: 'boolean',
    description: 'also create Events on workloads with reported pods (needs create on events)',
  },
  {
    name: 'webhook-config',
    env: 'INJECTOR_WEBHOOK_CONFIG',
    kind: 'string',
    default: 'sidecar-injector',
    metavar: 'NAME',
    description: 'our MutatingWebhookConfiguration, for the webhook self-check',
  },
  {
    name: 'service',
    env: 'INJECTOR_SERVICE',
    kind: 'string',
    default: 'sidecar-injector/sidecar-injector',
    metavar: 'NS/NAME',
    description: 'our Service; other webhook entries calling it are stale copies',
    check: (value) =>
      /^[a-z0-9-]+\/[a-z0-9-]+$/.test(value) ? undefined : `expected <ns>/<name>, got "${value}"`,
  },
];

export const SERVE_HELP = `Usage: sidecar-injector serve [flags]

Runs the mutating admission webhook: POST /inject (and /inject/<path params>) over TLS
(HTTP/2 and HTTP/1.1 on one port), GET /healthz, /readyz and /metrics.

Flags (every flag can also be set through its environment variable; the flag wins):
${formatFlagHelp(SERVE_FLAGS)}
`;

export type ServeParse =
  | { ok: true; options: ServeOptions }
  | { ok: false; help: true }
  | { ok: false; help: false; problems: string[] };

/** Validates flags and environment; every problem is reported at once. */
export function parseServeOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ServeParse {
  const parsed = parseFlags(argv, env, SERVE_FLAGS);
  if (parsed.help) return { ok: false, help: true };
  const get = (name: string) => first(parsed, name);
  const problems = [...parsed.problems, ...pairProblems(get)];
  if (problems.length > 0) return { ok: false, help: false, problems };
  return { ok: true, options: toServeOptions(get, env) };
}

type Get = (name: string) => string | undefined;

/** Flags that are valid alone but not together. */
function pairProblems(get: Get): string[] {
  const problems: string[] = [];
  if ((get('tls-cert') === undefined) !== (get('tls-key') === undefined)) {
    problems.push('--tls-cert and --tls-key must be given together');
  }
  const metricsPort = optionalNumber(get('metrics-port'));
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === Number(get('port'))) {
    problems.push(`--metrics-port ${metricsPort} must differ from --port`);
  }
  return problems;
}

function optionalNumber(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

function clusterModeOf(kubeconfig: string | undefined, env: Get): ServeOptions['clusterMode'] {
  if (kubeconfig !== undefined) return 'kubeconfig';
  return (env('KUBERNETES_SERVICE_HOST') ?? '') !== '' ? 'in-cluster' : 'offline';
}

/** The options from flags already validated one by one and together. */
function toServeOptions(get: Get, env: Readonly<Record<string, string | undefined>>): ServeOptions {
  const tlsCert = get('tls-cert');
  const tlsKey = get('tls-key');
  const kubeconfig = get('kubeconfig');
  const configDir = get('config-dir');
  const metricsPort = optionalNumber(get('metrics-port'));
  return {
    port: Number(get('port')),
    host: get('host') ?? '127.0.0.1',
    clusterMode: clusterModeOf(kubeconfig, (name) => env[name]),
    istioNamespace: get('istio-namespace') ?? 'istio-system',
    revision: get('revision') ?? 'default',
    nativeSidecars: (get('native-sidecars') ?? 'auto') as NativeSidecarMode,
    platform: get('platform') === 'openshift' ? 'openshift' : 'kubernetes',
    compliancePolicy: get('compliance-policy') ?? '',
    logLevel: (get('log-level') ?? 'info') as LevelWithSilent,
    drainSeconds: Number(get('drain-seconds') ?? '5'),
    audit: get('audit') !== 'off',
    auditIntervalSeconds: Number(get('audit-interval') ?? '15'),
    auditEvents: get('audit-events') === 'true',
    events: get('events') !== 'off',
    webhookConfig: get('webhook-config') ?? 'sidecar-injector',
    service: serviceOf(get('service') ?? 'sidecar-injector/sidecar-injector'),
    ...(tlsCert !== undefined && tlsKey !== undefined ? { tlsCert, tlsKey } : {}),
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(configDir !== undefined ? { configDir } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
  };
}

function serviceOf(text: string): { namespace: string; name: string } {
  const [namespace = '', name = ''] = text.split('/');
  return { namespace, name };
}
