/**
 * What the cluster scenarios share: manifests rendered for the local injector, the API server's
 * audit trail (the patches it received), the prediction of a stored Pod from our patch, and
 * Prometheus histogram quantiles.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { parseAllDocuments } from 'yaml';
import type { Operation } from 'fast-json-patch';
import { applyPatchStrict } from '../../src/core/patch/apply-strict.js';
import type { Pod } from '../../src/core/pod-types.js';

export type KObject = Record<string, unknown> & {
  kind?: string;
  metadata?: { name?: string; namespace?: string; [k: string]: unknown };
};

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * The project's manifests as `kubectl kustomize manifests/` renders them, with only the webhook
 * client configuration changed: the URL of the local injector and the test CA. Entries,
 * selectors, failure policy and timeouts stay as shipped.
 */
export function pointWebhooksAt(rendered: string, url: string, caPem: string): KObject[] {
  const docs = parseAllDocuments(rendered).map((d) => d.toJS() as KObject | null);
  const objects = docs.filter((d): d is KObject => d !== null);
  const caBundle = Buffer.from(caPem).toString('base64');
  for (const o of objects) {
    if (o.kind !== 'MutatingWebhookConfiguration') continue;
    for (const w of o.webhooks as { clientConfig: Record<string, unknown> }[]) {
      const path = (w.clientConfig.service as { path?: string } | undefined)?.path ?? '/inject';
      w.clientConfig = { url: `${url}${path}`, caBundle };
    }
  }
  return objects;
}

export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number; message?: string };
  requestObject?: KObject;
  responseObject?: KObject;
  annotations?: Record<string, string>;
}

export async function readAudit(path: string): Promise<AuditEvent[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.stage === 'ResponseComplete');
}

export interface WebhookPatch {
  configuration: string;
  webhook: string;
  round: number;
  index: number;
  patch: Operation[];
}

const PATCH_PREFIX = 'patch.webhook.admission.k8s.io/round_';

/** The patches the API server applied for one request, in the order it applied them. */
export function patchesOf(event: AuditEvent): WebhookPatch[] {
  const out: WebhookPatch[] = [];
  for (const [key, value] of Object.entries(event.annotations ?? {})) {
    if (!key.startsWith(PATCH_PREFIX)) continue;
    const m = /^round_(\d+)_index_(\d+)$/.exec(key.slice('patch.webhook.admission.k8s.io/'.length));
    const v = JSON.parse(value) as {
      configuration: string;
      webhook: string;
      patch: Operation[] | string;
    };
    out.push({
      configuration: v.configuration,
      webhook: v.webhook,
      round: Number(m?.[1]),
      index: Number(m?.[2]),
      patch: typeof v.patch === 'string' ? (JSON.parse(v.patch) as Operation[]) : v.patch,
    });
  }
  return out.sort((a, b) => a.round - b.round || a.index - b.index);
}

/** Fields the registry sets after admission (name from generateName, uid, times, status). */
export function withoutServerFields(pod: Pod): Pod {
  const copy = structuredClone(pod);
  delete copy.status;
  const meta = (copy.metadata ?? {}) as Record<string, unknown>;
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields']) {
    delete meta[k];
  }
  if (meta.generateName !== undefined) delete meta.name;
  return copy;
}

export function predict(input: Pod, patch: readonly Operation[]): Pod {
  return applyPatchStrict(input, patch);
}

/** Paths (JSON pointers) where two JSON values differ; empty when equal. */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  if (Object.is(a, b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      out.push(...differences(a[i], b[i], `${path}/${i}`));
    }
    return out;
  }
  if (
    a &&
    b &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    const out: string[] = [];
    for (const k of [...keys].sort()) {
      out.push(
        ...differences(ao[k], bo[k], `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`),
      );
    }
    return out;
  }
  return [`${path}: ${JSON.stringify(a)?.slice(0, 120)} != ${JSON.stringify(b)?.slice(0, 120)}`];
}

export interface Histogram {
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/** Sums the series of a Prometheus histogram whose labels include every `match` pair. */
export function histogram(text: string, name: string, match: Record<string, string>): Histogram {
  const byLe = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} ([^ ]+)/.exec(line);
    if (!m) continue;
    const labels = parseLabels(m[2] ?? '');
    if (!Object.entries(match).every(([k, v]) => labels.get(k) === v)) continue;
    const value = Number(m[3]);
    if (m[1] === `${name}_bucket`) {
      const le = labels.get('le') === '+Inf' ? Infinity : Number(labels.get('le'));
      byLe.set(le, (byLe.get(le) ?? 0) + value);
    } else if (m[1] === `${name}_count`) count += value;
    else if (m[1] === `${name}_sum`) sum += value;
  }
  const buckets = [...byLe.entries()]
    .map(([le, c]) => ({ le, count: c }))
    .sort((a, b) => a.le - b.le);
  return { buckets, count, sum };
}

/** Sums a counter's series whose labels include every `match` pair, grouped by `by`. */
export function counter(
  text: string,
  name: string,
  match: Record<string, string>,
  by: string,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} ([^ ]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = parseLabels(m[2] ?? '');
    if (!Object.entries(match).every(([k, v]) => labels.get(k) === v)) continue;
    const key = labels.get(by) ?? '';
    out.set(key, (out.get(key) ?? 0) + Number(m[3]));
  }
  return out;
}

function parseLabels(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels.set(m[1] ?? '', m[2] ?? '');
  return labels;
}

/** histogram_quantile: linear interpolation inside the bucket holding the q-th observation. */
export function quantile(h: Histogram, q: number): number {
  if (h.count === 0 || h.buckets.length === 0) return Number.NaN;
  const rank = q * h.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
