/**
 * The process logger: JSON lines on stdout (pino). Pods can carry secrets in env values, so the
 * server never logs a pod: the per-review line is a flat summary of scalars. The redaction paths
 * are a second line of defence for a pod, object or env slipped in at the top level of a log call;
 * they are top-level only because wildcard paths make pino walk every log object (measured at
 * about twice the cost of the whole line).
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export const LOG_LEVELS: readonly LevelWithSilent[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/** Top-level keys of a log object that are always censored. */
export const REDACT_PATHS: readonly string[] = [
  'pod',
  'object',
  'oldObject',
  'env',
  'req.headers.authorization',
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /**
   * Where lines go. Default: stdout, written asynchronously (a blocking write per review would
   * stall the event loop whenever the log pipe is slow); pino flushes what is left at exit.
   * Tests pass an in-memory stream.
   */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'sidecar-injector' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
