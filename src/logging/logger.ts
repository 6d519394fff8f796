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
   * Where lines go. Default: `logDestination(1)` (stdout, buffered and asynchronous). Tests pass
   * an in-memory stream.
   */
  destination?: DestinationStream;
}

/** Bytes buffered before a write; the review line is ~350 bytes, so ~12 reviews per write. */
export const LOG_BUFFER_BYTES = 4096;
/** The longest a line waits in the buffer when the server is quiet. */
export const LOG_FLUSH_MS = 250;
/**
 * Bound on lines waiting to be written: when the reader of stdout stalls (a blocked container log
 * pipe), lines past this are dropped rather than held in memory without limit. At ~350 bytes a
 * review, 8 MiB is ~24 000 reviews, a minute and more of full load.
 */
export const LOG_MAX_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * The production destination: lines are buffered and written asynchronously once
 * `LOG_BUFFER_BYTES` have gathered (or every `LOG_FLUSH_MS`). An asynchronous write per line
 * handed every review to libuv's thread pool (~1.9 wake-ups per request, pre-empting the main
 * thread); a blocking write would stall the event loop whenever the log pipe is slow. pino
 * flushes what is left synchronously at exit (its on-exit hook for `pino.destination`). The
 * buffer is bounded by `LOG_MAX_BUFFER_BYTES`.
 */
export function logDestination(dest: number | string): DestinationStream {
  return pino.destination({
    dest,
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    maxLength: LOG_MAX_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_MS,
  });
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'sidecar-injector' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? logDestination(1),
  );
}
