/**
 * Which templates run for a pod: the `inject.istio.io/templates` annotation (comma list) or the
 * configured defaults, with aliases expanded one level.
 */
import { InjectorError } from '../../errors.js';
import type { InjectorConfig } from '../config/types.js';
import type { StringMap } from '../k8s.js';
import { KEY } from '../annotations/keys.js';

export function selectTemplates(
  annotations: StringMap | undefined,
  injector: Pick<InjectorConfig, 'defaultTemplates' | 'aliases'>,
  mode: 'webhook' | 'kube-inject',
): string[] {
  const requested = annotations?.[KEY.templates];
  const names =
    requested !== undefined
      ? requested.split(',').map((n) => n.trim())
      : mode === 'kube-inject'
        ? ['sidecar']
        : injector.defaultTemplates.length > 0
          ? injector.defaultTemplates
          : ['sidecar'];
  if (mode === 'kube-inject') return names;
  return names.flatMap((n) => injector.aliases[n] ?? [n]);
}

/**
 * Checks that every selected template can run: unknown names fail with Istio's text; user Go
 * templates and the chart's gateway-controller templates (which this engine does not evaluate)
 * fail with INJ_ERR_UNSUPPORTED_TEMPLATE.
 */
export function checkTemplates(
  names: readonly string[],
  renderable: readonly string[],
  chart: readonly string[],
  custom: Readonly<Record<string, string>>,
): void {
  const known = [...new Set([...renderable, ...chart, ...Object.keys(custom)])].sort();
  const field = `metadata.annotations[${KEY.templates}]`;
  for (const name of names) {
    if (Object.hasOwn(custom, name)) {
      throw new InjectorError(
        'INJ_ERR_UNSUPPORTED_TEMPLATE',
        `failed to run injection template: template "${name}" is a user-supplied Go template, which this injector does not render; built-in templates: ${renderable.join(', ')}`,
        { details: [{ field, value: name, reason: 'user-supplied Go template' }] },
      );
    }
    if (renderable.includes(name)) continue;
    if (chart.includes(name)) {
      throw new InjectorError(
        'INJ_ERR_UNSUPPORTED_TEMPLATE',
        `failed to run injection template: template "${name}" is used by istiod's gateway controller, not by pod injection; built-in templates: ${renderable.join(', ')}`,
        { details: [{ field, value: name, reason: 'gateway-controller template' }] },
      );
    }
    throw new InjectorError(
      'INJ_ERR_TEMPLATE_NOT_FOUND',
      `failed to run injection template: requested template "${name}" not found; have ${known.join(', ')}`,
      { details: [{ field, value: name, reason: 'no such template' }] },
    );
  }
}
