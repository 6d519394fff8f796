/**
 * The overlays an IstioOperator document contributes: `spec.values`, `spec.meshConfig`,
 * `spec.revision` / `hub` / `tag` and `spec.components.cni.enabled`.
 */
import { isJsonObject, type JsonObject } from '../json.js';
import { cloneJson } from './merge.js';
import { setPathValue } from './set-flags.js';
import type { ConfigIssue } from './types.js';

/** Overlays of one IstioOperator document (already parsed as a YAML map). */
export interface OperatorOverlays {
  values?: JsonObject;
  mesh?: JsonObject;
}

export function istioOperatorOverlays(
  doc: JsonObject | undefined,
  issues: ConfigIssue[],
): OperatorOverlays {
  const spec = operatorSpec(doc, issues);
  if (spec === undefined) return {};
  const result: OperatorOverlays = {};
  const values = clonedMap(spec, 'values', issues);
  const overlay = values ?? {};
  if (applyShortcuts(spec, overlay) || values !== undefined) result.values = overlay;
  const mesh = clonedMap(spec, 'meshConfig', issues);
  if (mesh !== undefined) result.mesh = mesh;
  return result;
}

/** The document's `spec` map; undefined (with an issue when malformed) when there is none. */
function operatorSpec(doc: JsonObject | undefined, issues: ConfigIssue[]): JsonObject | undefined {
  if (doc === undefined) return undefined;
  const kind = doc['kind'];
  if (kind !== undefined && kind !== 'IstioOperator') {
    issues.push({
      path: 'istioOperator.kind',
      message: `expected IstioOperator, got ${JSON.stringify(kind)}`,
    });
    return undefined;
  }
  const spec = doc['spec'];
  if (spec === undefined || spec === null) return undefined;
  if (!isJsonObject(spec)) {
    issues.push({ path: 'istioOperator.spec', message: 'expected a map' });
    return undefined;
  }
  return spec;
}

/** A copy of the map `spec[key]`; undefined when absent, or with an issue when not a map. */
function clonedMap(
  spec: JsonObject,
  key: 'values' | 'meshConfig',
  issues: ConfigIssue[],
): JsonObject | undefined {
  const value = spec[key];
  if (value === undefined || value === null) return undefined;
  if (isJsonObject(value)) return cloneJson(value);
  issues.push({ path: `istioOperator.spec.${key}`, message: 'expected a map' });
  return undefined;
}

/**
 * Writes `spec.revision`, `hub`, `tag` and `components.cni.enabled` into the values `overlay`;
 * true when any of them is set.
 */
function applyShortcuts(spec: JsonObject, overlay: JsonObject): boolean {
  let applied = false;
  for (const key of ['revision', 'hub', 'tag'] as const) {
    const v = spec[key];
    if (v === undefined || v === null) continue;
    if (key === 'revision') overlay['revision'] = v;
    else {
      const global = isJsonObject(overlay['global']) ? overlay['global'] : (overlay['global'] = {});
      global[key] = v;
    }
    applied = true;
  }
  const cniEnabled = isJsonObject(spec['components']) ? spec['components']['cni'] : undefined;
  if (isJsonObject(cniEnabled) && cniEnabled['enabled'] !== undefined) {
    setPathValue(overlay, ['pilot', 'cni', 'enabled'], cniEnabled['enabled'] ?? null);
    applied = true;
  }
  return applied;
}
