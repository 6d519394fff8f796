/**
 * Application probe rewrite (https://istio.io/latest/docs/ops/configuration/mesh/app-health-check/):
 * kubelet probes and lifecycle hooks of application containers are redirected to the agent's
 * status port under `/app-health/<container>/...` and `/app-lifecycle/<container>/...`; the
 * original handlers are handed to the agent in `ISTIO_KUBE_APP_PROBERS`.
 */
import type { JsonObject, JsonValue } from '../json.js';
import { isJsonObject } from '../json.js';
import type { Container, EnvVar, Pod } from '../pod-types.js';
import { PROXY_CONTAINER } from './containers.js';
import { orderedJson } from './container-json.js';

export const PROBERS_ENV = 'ISTIO_KUBE_APP_PROBERS';

type ProbeField = 'readinessProbe' | 'livenessProbe' | 'startupProbe';
const PROBES: readonly [ProbeField, string][] = [
  ['readinessProbe', 'readyz'],
  ['livenessProbe', 'livez'],
  ['startupProbe', 'startupz'],
];
const HOOKS: readonly ['preStop' | 'postStart', string][] = [
  ['preStop', 'prestopz'],
  ['postStart', 'poststartz'],
];

export function proberPath(container: string, kind: string): string {
  const group = kind === 'prestopz' || kind === 'poststartz' ? 'app-lifecycle' : 'app-health';
  return `/${group}/${container}/${kind}`;
}

function resolvePort(
  port: JsonValue | undefined,
  container: Container,
  statusPort: number,
): JsonValue | undefined {
  if (typeof port === 'string') {
    // Istio's DumpAppProbers maps every named port in order, so a repeated name resolves to
    // its last port; an unnamed port is never a match.
    const named = port === '' ? undefined : container.ports?.findLast((p) => p.name === port);
    return named ? named.containerPort : undefined;
  }
  if (port === statusPort) return undefined;
  return port;
}

/** The agent-side prober for one handler, or undefined when it is not rewritable. */
function toProber(
  handler: JsonObject | undefined,
  container: Container,
  statusPort: number,
  isProbe: boolean,
): JsonObject | undefined {
  if (!handler) return undefined;
  const prober: JsonObject = {};
  if (isJsonObject(handler.httpGet)) {
    const port = resolvePort(handler.httpGet.port, container, statusPort);
    if (port === undefined) return undefined;
    prober.httpGet = { ...handler.httpGet, port };
  } else if (isJsonObject(handler.tcpSocket)) {
    const port = resolvePort(handler.tcpSocket.port, container, statusPort);
    if (port === undefined) return undefined;
    prober.tcpSocket = { ...handler.tcpSocket, port };
  } else if (isProbe && isJsonObject(handler.grpc)) {
    prober.grpc = handler.grpc;
  } else {
    return undefined;
  }
  if (isProbe && typeof handler.timeoutSeconds === 'number' && handler.timeoutSeconds !== 0) {
    prober.timeoutSeconds = handler.timeoutSeconds;
  }
  return prober;
}

function proberJson(probers: Record<string, JsonValue>): string {
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(probers).sort())
    out[key] = orderedJson('Prober', probers[key] as JsonValue);
  return JSON.stringify(out);
}

/** Collects the probers of every application container; '' when there is none. */
export function dumpAppProbers(pod: Pod, statusPort: number): string {
  const probers: Record<string, JsonValue> = {};
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of all) {
    if (c.name === PROXY_CONTAINER) continue;
    for (const [field, kind] of PROBES) {
      const p = toProber(c[field], c, statusPort, true);
      if (p) probers[proberPath(c.name, kind)] = p;
    }
    const lifecycle = c.lifecycle;
    if (isJsonObject(lifecycle)) {
      for (const [hook, kind] of HOOKS) {
        const h = lifecycle[hook];
        const p = toProber(isJsonObject(h) ? h : undefined, c, statusPort, false);
        if (p) probers[proberPath(c.name, kind)] = p;
      }
    }
  }
  return Object.keys(probers).length === 0 ? '' : proberJson(probers);
}

/**
 * Adds the probers env: appended for a new pod; for a re-injected pod an existing entry is
 * replaced in place by the union (existing entries win), else appended.
 */
export function mergeOrAppendProbers(
  previouslyInjected: boolean,
  env: EnvVar[],
  probers: string,
): EnvVar[] {
  const fresh: EnvVar = { name: PROBERS_ENV, value: probers };
  if (!previouslyInjected) return [...env, fresh];
  const index = env.findIndex((e) => e.name === PROBERS_ENV);
  if (index < 0) return [...env, fresh];
  let existing: unknown;
  let incoming: unknown;
  try {
    existing = JSON.parse(env[index]?.value ?? '');
    incoming = JSON.parse(probers);
  } catch {
    return env;
  }
  if (!isJsonObject(existing) || !isJsonObject(incoming)) return env;
  const union = { ...incoming, ...existing } as Record<string, JsonValue>;
  const out = [...env];
  out[index] = { name: PROBERS_ENV, value: proberJson(union) };
  return out;
}

function rewriteHandler(
  handler: JsonValue | undefined,
  path: string,
  port: number,
  isProbe: boolean,
): JsonObject | undefined {
  if (!isJsonObject(handler)) return undefined;
  if (isJsonObject(handler.httpGet)) {
    const httpGet: JsonObject = { ...handler.httpGet, path, port };
    if (httpGet.scheme === 'HTTPS') httpGet.scheme = 'HTTP';
    return { ...handler, httpGet };
  }
  if (isJsonObject(handler.tcpSocket) || (isProbe && isJsonObject(handler.grpc))) {
    const out: JsonObject = { ...handler, httpGet: { path, port } };
    delete out.tcpSocket;
    delete out.grpc;
    return out;
  }
  return undefined;
}

/**
 * The port istiod rewrites probes to for a `KEY.statusPort` annotation text: Go's strconv.Atoi,
 * which yields 0 for any text it cannot read, surrounding spaces included (the annotation's
 * validation trims them, the rewrite does not: istio/pkg/kube/inject/app_probe.go
 * patchRewriteProbe).
 */
export function probeRewritePort(text: string | undefined, statusPort: number): number {
  if (text === undefined) return statusPort;
  return /^[+-]?\d+$/.test(text) ? Number(text) : 0;
}

/** The probes and hooks `rewriteAppProbes` would rewrite, as `<container>.<field>` names. */
export function rewritableHandlers(pod: Pod): string[] {
  const found: string[] = [];
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of all) {
    if (c.name === PROXY_CONTAINER) continue;
    for (const [field] of PROBES)
      if (rewriteHandler(c[field], '', 0, true)) found.push(`${c.name}.${field}`);
    if (isJsonObject(c.lifecycle)) {
      for (const [hook] of HOOKS)
        if (rewriteHandler(c.lifecycle[hook], '', 0, false))
          found.push(`${c.name}.lifecycle.${hook}`);
    }
  }
  return found;
}

/** Rewrites the probes and lifecycle hooks of every application container to the agent port. */
export function rewriteAppProbes(pod: Pod, port: number): void {
  const rewrite = (c: Container): Container => {
    if (c.name === PROXY_CONTAINER) return c;
    let out: Container = c;
    for (const [field, kind] of PROBES) {
      const p = rewriteHandler(c[field], proberPath(c.name, kind), port, true);
      if (p) out = { ...out, [field]: p };
    }
    if (isJsonObject(c.lifecycle)) {
      let lifecycle: JsonObject = c.lifecycle;
      for (const [hook, kind] of HOOKS) {
        const h = rewriteHandler(lifecycle[hook], proberPath(c.name, kind), port, false);
        if (h) lifecycle = { ...lifecycle, [hook]: h };
      }
      if (lifecycle !== c.lifecycle) out = { ...out, lifecycle };
    }
    return out;
  };
  const spec = pod.spec;
  if (!spec) return;
  if (spec.containers) spec.containers = spec.containers.map(rewrite);
  if (spec.initContainers) spec.initContainers = spec.initContainers.map(rewrite);
}
