/**
 * The `KEY.status` annotation (Istio's SidecarInjectionStatus): what a previous
 * injection added, used to strip it before re-injection, and what this injection records.
 */
import type { JsonValue } from '../json.js';
import { isJsonObject } from '../json.js';
import type { Pod } from '../pod-types.js';

export interface InjectionStatus {
  initContainers: string[];
  containers: string[];
  volumes: string[];
  imagePullSecrets: string[];
  revision: string;
}

function names(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Parses the status annotation. Missing, empty or unparseable -> undefined (the pod is treated as
 * not injected); `null` or missing lists -> empty lists.
 */
export function parseStatus(text: string | undefined): InjectionStatus | undefined {
  if (text === undefined || text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isJsonObject(parsed)) return undefined;
  const obj = parsed as Record<string, JsonValue>;
  return {
    initContainers: names(obj.initContainers),
    containers: names(obj.containers),
    volumes: names(obj.volumes),
    imagePullSecrets: names(obj.imagePullSecrets),
    revision: typeof obj.revision === 'string' ? obj.revision : '',
  };
}

/**
 * The status annotation value for what the templates produced (the accumulated template pod):
 * compact JSON, keys in Istio's order, empty lists as `null`.
 */
export function formatStatus(templatePod: Pod, revision: string): string {
  const list = (items: readonly { name?: JsonValue }[] | undefined): string[] | null => {
    const out = (items ?? []).map((i) => (typeof i.name === 'string' ? i.name : ''));
    return out.length === 0 ? null : out;
  };
  const spec = templatePod.spec;
  return JSON.stringify({
    initContainers: list(spec?.initContainers),
    containers: list(spec?.containers),
    volumes: list(spec?.volumes),
    imagePullSecrets: list(spec?.imagePullSecrets),
    revision: revision === '' ? 'default' : revision,
  });
}
