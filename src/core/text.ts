/**
 * Short user-facing texts: warnings and the values quoted in them.
 */

/** Kubernetes asks for warnings of at most 120 characters (admission/v1 `AdmissionResponse.warnings`). */
export const MAX_WARNING_LENGTH = 120;

/**
 * `text` cut to `max` characters, ending in `...` when cut. Pod JSON is user input: a value that
 * is not even a string is shown as JSON.
 */
export function clip(text: unknown, max: number): string {
  const str = typeof text === 'string' ? text : (JSON.stringify(text) ?? String(text));
  return str.length <= max ? str : `${str.slice(0, max - 3)}...`;
}

/** One warning line, never longer than MAX_WARNING_LENGTH. */
export function clipWarning(text: string): string {
  return clip(text, MAX_WARNING_LENGTH);
}
