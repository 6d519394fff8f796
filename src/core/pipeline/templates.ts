/**
 * Which templates run for a pod: the `KEY.templates` annotation (comma list) or the
 * configured defaults, with aliases expanded one level.
 */
import { InjectorError } from '../../errors.js';
import type { InjectorConfig } from '../config/types.js';
import type { StringMap } from '../pod-types.js';
import { KEY } from '../annotations/keys.js';
import type { InjectionTemplate, TemplateSet } from './template-set.js';

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
 * The template each selected name runs, in order; a name the configuration does not have fails
 * with istiod's wording (RunTemplate: `requested template %q not found; have ...`).
 */
export function resolveTemplates(
  names: readonly string[],
  templates: TemplateSet,
): { name: string; template: InjectionTemplate }[] {
  const field = `metadata.annotations[${KEY.templates}]`;
  return names.map((name) => {
    const template = templates.get(name);
    if (template !== undefined) return { name, template };
    throw new InjectorError(
      'INJ_ERR_TEMPLATE_NOT_FOUND',
      `failed to run injection template: requested template "${name}" not found; have ${[...templates.keys()].sort().join(', ')}`,
      { details: [{ field, value: name, reason: 'no such template' }] },
    );
  });
}
