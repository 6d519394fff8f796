/**
 * The API server appends `?timeout=<Go duration>` to every webhook call (e.g. `/inject?timeout=10s`,
 * from the webhook's `timeoutSeconds`); past it, the API server has given up and applies the
 * failurePolicy, so work beyond it is wasted.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go `time.Duration` string (`10s`, `1m30s`, `1.5s`, `500ms`) into milliseconds. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const pattern = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    index = pattern.lastIndex;
  }
  return index === 0 || !Number.isFinite(total) ? undefined : total;
}

/** Used when the request carries no usable timeout: the largest `timeoutSeconds` Kubernetes allows. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The budget for our own work: answer a little before the API server stops waiting, so it still
 * receives our (denying) answer rather than a timeout.
 */
export function budgetMs(timeoutMs: number): number {
  const margin = Math.min(250, timeoutMs / 10);
  return Math.max(0, timeoutMs - margin);
}
