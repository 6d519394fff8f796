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
  if (doc === undefined) return {};
  const kind = doc['kind'];
  if (kind !== undefined && kind !== 'IstioOperator') {
    issues.push({
      path: 'istioOperator.kind',
      message: `expected IstioOperator, got ${JSON.stringify(kind)}`,
    });
    return {};
  }
  const spec = doc['spec'];
  if (spec === undefined || spec === null) return {};
  if (!isJsonObject(spec)) {
    issues.push({ path: 'istioOperator.spec', message: 'expected a map' });
    return {};
  }
  const result: OperatorOverlays = {};
  const values = spec['values'];
  if (values !== undefined && values !== null) {
    if (isJsonObject(values)) result.values = cloneJson(values);
    else issues.push({ path: 'istioOperator.spec.values', message: 'expected a map' });
  }
  const overlay = result.values ?? {};
  for (const key of ['revision', 'hub', 'tag'] as const) {
    const v = spec[key];
    if (v === undefined || v === null) continue;
    if (key === 'revision') overlay['revision'] = v;
    else {
      const global = isJsonObject(overlay['global']) ? overlay['global'] : (overlay['global'] = {});
      global[key] = v;
    }
    result.values = overlay;
  }
  const cniEnabled = isJsonObject(spec['components']) ? spec['components']['cni'] : undefined;
  if (isJsonObject(cniEnabled) && cniEnabled['enabled'] !== undefined) {
    setPathValue(overlay, ['pilot', 'cni', 'enabled'], cniEnabled['enabled'] ?? null);
    result.values = overlay;
  }
  const meshConfig = spec['meshConfig'];
  if (meshConfig !== undefined && meshConfig !== null) {
    if (isJsonObject(meshConfig)) result.mesh = cloneJson(meshConfig);
    else issues.push({ path: 'istioOperator.spec.meshConfig', message: 'expected a map' });
  }
  return result;
}
