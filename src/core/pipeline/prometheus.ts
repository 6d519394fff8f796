/**
 * Prometheus metrics merge (Istio's "metrics merging",
 * https://istio.io/latest/docs/ops/integrations/prometheus/#option-1-metrics-merging): the pod's
 * scrape annotations are handed to the agent in `ISTIO_PROMETHEUS_ANNOTATIONS` and replaced by
 * annotations pointing at the agent's merged endpoint. Annotation keys are compared after
 * sanitising (every character outside `[A-Za-z0-9_]` becomes `_`), as Prometheus does.
 */
import { InjectorError } from '../../errors.js';
import type { MeshConfig } from '../config/types.js';
import type { Pod, StringMap } from '../pod-types.js';
import { findSidecar } from './containers.js';
import { parseGoBool } from '../annotations/value-formats.js';
import { KEY } from '../annotations/keys.js';

export const SCRAPE_ENV = 'ISTIO_PROMETHEUS_ANNOTATIONS';
const SECURE_MERGED_PORT_ENV = 'ENVOY_SECURE_MERGED_METRICS_PORT';
const AGENT_PATH = '/stats/prometheus';
const DEFAULT_TARGET_PATH = '/metrics';

/** Ports owned by the proxy or the agent (https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio). */
export const RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [15000, 'Envoy admin'],
  [15001, 'outbound capture'],
  [15004, 'pilot debug'],
  [15006, 'inbound capture'],
  [15008, 'HBONE'],
  [15020, 'agent / merged metrics'],
  [15021, 'Envoy health'],
  [15053, 'DNS proxy'],
  [15090, 'Envoy Prometheus'],
]);

export function sanitizeKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, '_');
}

/** `sanitizeKey(key) === wanted`; sanitising keeps the length, so most keys are ruled out by it. */
function sameSanitized(key: string, wanted: string): boolean {
  return key.length === wanted.length && sanitizeKey(key) === wanted;
}

function findAnnotation(annotations: StringMap | undefined, canonical: string): string | undefined {
  if (!annotations) return undefined;
  const wanted = sanitizeKey(canonical);
  for (const [key, value] of Object.entries(annotations)) {
    if (sameSanitized(key, wanted)) return value;
  }
  return undefined;
}

function deleteAnnotation(annotations: StringMap, canonical: string): void {
  const wanted = sanitizeKey(canonical);
  for (const key of Object.keys(annotations))
    if (sameSanitized(key, wanted)) delete annotations[key];
}

export function prometheusPort(annotations: StringMap | undefined): string | undefined {
  return findAnnotation(annotations, KEY.prometheusPort);
}

/** Removes every spelling of the scrape, port and path annotations. */
export function clearPrometheusAnnotations(annotations: StringMap): void {
  for (const key of [KEY.prometheusScrape, KEY.prometheusPort, KEY.prometheusPath])
    deleteAnnotation(annotations, key);
}

/** Whether the merge applies: annotation `KEY.mergeMetrics`, else mesh, else true. */
export function prometheusMergeEnabled(
  mesh: Pick<MeshConfig, 'enablePrometheusMerge'>,
  annotations: StringMap | undefined,
): boolean {
  const value = annotations?.[KEY.mergeMetrics];
  if (value !== undefined) {
    const parsed = parseGoBool(value);
    if (parsed !== undefined) return parsed;
  }
  return mesh.enablePrometheusMerge ?? true;
}

function scrapeWanted(annotations: StringMap | undefined): boolean {
  const value = findAnnotation(annotations, KEY.prometheusScrape);
  if (value === undefined) return true;
  return parseGoBool(value) ?? true;
}

export interface ScrapeTarget {
  port: string;
  path: string;
}

export interface ScrapeConfiguration {
  scrape: string;
  path: string;
  port: string;
  targets?: ScrapeTarget[];
}

/** Parses `KEY.scrapeTargets` (`port:path,...`); undefined when absent or malformed. */
export function parseScrapeTargets(value: string | undefined): ScrapeTarget[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const targets: ScrapeTarget[] = [];
  for (const entry of value.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const colon = trimmed.indexOf(':');
    const port = (colon < 0 ? trimmed : trimmed.slice(0, colon)).trim();
    const path = colon < 0 ? '' : trimmed.slice(colon + 1).trim();
    if (port === '') return undefined;
    targets.push({ port, path: path === '' ? DEFAULT_TARGET_PATH : path });
  }
  return targets.length === 0 ? undefined : targets;
}

/** The scrape settings found on the pod: legacy scrape/path/port plus multi-target entries. */
export function scrapeConfiguration(annotations: StringMap | undefined): ScrapeConfiguration {
  const config: ScrapeConfiguration = {
    scrape: findAnnotation(annotations, KEY.prometheusScrape) ?? '',
    path: findAnnotation(annotations, KEY.prometheusPath) ?? '',
    port: findAnnotation(annotations, KEY.prometheusPort) ?? '',
  };
  const targets = parseScrapeTargets(annotations?.[KEY.scrapeTargets]);
  if (targets) {
    config.targets = targets;
  }
  return config;
}

function checkPort(port: string, agentPort: number): void {
  const fail = (why: string): never => {
    throw new InjectorError(
      'INJ_ERR_PROMETHEUS_CONFIG',
      `failed to process pod: invalid prometheus scrape configuration: ${why}`,
      {
        details: [{ field: 'metadata.annotations[prometheus.io/port]', value: port, reason: why }],
      },
    );
  };
  if (!/^\d+$/.test(port)) fail(`port "${port}" is not a number between 1 and 65535`);
  const n = Number(port);
  if (n < 1 || n > 65535) fail(`port ${port} is out of range 1-65535`);
  if (n === agentPort)
    fail(`port ${port} is the Istio agent port, which already serves the merged metrics`);
  const reserved = RESERVED_PORTS.get(n);
  if (reserved !== undefined)
    fail(`port ${port} is reserved for Istio (${reserved}) and cannot be scraped`);
}

/**
 * Applies the merge to `pod` in place. Throws INJ_ERR_PROMETHEUS_CONFIG for a target on a port
 * Istio owns. `agentPort` is the mesh default status port (not the per-pod annotation).
 */
export function applyPrometheusMerge(
  pod: Pod,
  mesh: Pick<MeshConfig, 'enablePrometheusMerge'>,
  agentPort: number,
  warnings: string[] = [],
): void {
  const annotations = (pod.metadata ??= {}).annotations ?? {};
  if (!scrapeWanted(annotations) || !prometheusMergeEnabled(mesh, annotations)) return;
  const target = String(agentPort);
  // Already pointing at the agent: a re-injection, or the user chose it.
  if (prometheusPort(annotations) === target) return;

  const scrape = scrapeConfiguration(annotations);
  checkScrapeTargets(scrape, annotations, agentPort, warnings);
  addScrapeEnv(pod, scrape);
  pod.metadata.annotations = agentScrapeAnnotations(annotations, target);
}

/**
 * Validates the user's scrape ports (throws for one Istio owns) and makes the first target the
 * scrape port and path; warns about a targets annotation with no usable entry.
 */
function checkScrapeTargets(
  scrape: ScrapeConfiguration,
  annotations: StringMap,
  agentPort: number,
  warnings: string[],
): void {
  const rawTargets = annotations[KEY.scrapeTargets];
  if (rawTargets !== undefined && rawTargets.trim() !== '' && !scrape.targets) {
    warnings.push(`ignored ${KEY.scrapeTargets}: every entry needs a port (port:path,...)`);
  }
  if (scrape.targets) {
    const first = scrape.targets[0] as ScrapeTarget;
    scrape.port = first.port;
    scrape.path = first.path;
    for (const t of scrape.targets) checkPort(t.port, agentPort);
  } else if (scrape.port !== '') {
    checkPort(scrape.port, agentPort);
  }
}

/** Hands the user's scrape configuration to the agent in the sidecar's env, when there is one. */
function addScrapeEnv(pod: Pod, scrape: ScrapeConfiguration): void {
  const sidecar = findSidecar(pod);
  const empty = scrape.scrape === '' && scrape.path === '' && scrape.port === '' && !scrape.targets;
  if (!sidecar || empty) return;
  const value: ScrapeConfiguration = {
    scrape: scrape.scrape,
    path: scrape.path,
    port: scrape.port,
  };
  if (scrape.targets) value.targets = scrape.targets.map((t) => ({ port: t.port, path: t.path }));
  sidecar.env = [...(sidecar.env ?? []), { name: SCRAPE_ENV, value: JSON.stringify(value) }];
}

/** The pod's annotations with the scrape annotations pointing at the agent's merged endpoint. */
function agentScrapeAnnotations(annotations: StringMap, target: string): StringMap {
  const out: StringMap = { ...annotations };
  for (const key of [
    KEY.prometheusScrape,
    KEY.prometheusPort,
    KEY.prometheusPath,
    KEY.scrapeTargets,
  ])
    deleteAnnotation(out, key);
  out[KEY.prometheusPort] = target;
  out[KEY.prometheusPath] = AGENT_PATH;
  out[KEY.prometheusScrape] = 'true';
  return out;
}

/** Sets `KEY.securePort` from the proxy env unless the user set one (any spelling). */
export function applySecurePrometheusAnnotation(pod: Pod): void {
  const annotations = pod.metadata?.annotations;
  if (findAnnotation(annotations, KEY.securePort) !== undefined) return;
  const sidecar = findSidecar(pod);
  const env = sidecar?.env?.find((e) => e.name === SECURE_MERGED_PORT_ENV);
  const value = env?.value;
  if (value === undefined || value === '' || value === '0') return;
  const meta = (pod.metadata ??= {});
  meta.annotations = { ...(meta.annotations ?? {}), [KEY.securePort]: value };
}
