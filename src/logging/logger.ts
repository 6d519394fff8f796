/**
 * The process logger: JSON lines on stdout (pino). Pods can carry secrets in env values, so the
 * server never logs a pod; the redaction paths are a second line of defence if one slips in.
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

/** Paths censored wherever they appear one or two levels deep in a log object. */
export const REDACT_PATHS: readonly string[] = [
  'pod',
  'object',
  'env',
  '*.pod',
  '*.object',
  '*.env',
  '*.oldObject',
  'req.headers.authorization',
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Where lines go; stdout when absent. Tests pass an in-memory stream. */
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
    options.destination,
  );
}
