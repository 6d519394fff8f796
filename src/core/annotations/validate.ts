/**
 * Validation of the pod annotations the injector reads (spec §4.2), before anything is rendered,
 * with the validators of the registry (./registry.ts).
 * Every invalid annotation is reported; any report refuses the injection. The reason texts carry
 * the wording Istio uses (e.g. `includeIPRanges invalid: failed parsing cidr 'bad': ...`).
 */
import { InjectorError, type ErrorDetail } from '../../errors.js';
import type { StringMap } from '../pod-types.js';
import { ANNOTATION_VALIDATORS } from './registry.js';

const FIELD_RE = /^metadata\.annotations\[(.*)\]$/;

/** Validates every known annotation present; details are sorted by annotation name. */
export function validateAnnotations(annotations: StringMap): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const name of Object.keys(annotations).sort()) {
    const validate = ANNOTATION_VALIDATORS.get(name);
    const value = annotations[name];
    if (validate === undefined || value === undefined) continue;
    // Pod JSON is user input: annotation values are strings in Kubernetes, but check anyway.
    const reason =
      typeof value === 'string' ? validate(value) : 'annotation values must be strings';
    if (reason !== undefined)
      details.push({ field: `metadata.annotations[${name}]`, value: String(value), reason });
  }
  return details;
}

/** One detail in Istio's wording: `invalid value '<v>' for annotation '<name>': <reason>`. */
export function formatAnnotationError(detail: ErrorDetail): string {
  const name = FIELD_RE.exec(detail.field)?.[1] ?? detail.field;
  return `invalid value '${detail.value ?? ''}' for annotation '${name}': ${detail.reason}`;
}

/** One invalid annotation as an INJ_ERR_INVALID_ANNOTATION error, in the same wording. */
export function invalidAnnotationError(name: string, value: string, reason: string): InjectorError {
  const detail: ErrorDetail = { field: `metadata.annotations[${name}]`, value, reason };
  return new InjectorError('INJ_ERR_INVALID_ANNOTATION', formatAnnotationError(detail), {
    details: [detail],
  });
}

/** Several details as one multi-error text (`2 errors occurred:\n\t* ...\n\t* ...\n\n`). */
export function formatAnnotationErrors(details: readonly ErrorDetail[]): string {
  if (details.length === 0) return '';
  const heading = details.length === 1 ? '1 error occurred:' : `${details.length} errors occurred:`;
  return `${heading}\n${details.map((d) => `\t* ${formatAnnotationError(d)}`).join('\n')}\n\n`;
}
