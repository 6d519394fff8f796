/**
 * The one line per review, written as `logger.info(fields, 'admission review')` would write it,
 * byte for byte (test/unit/logging/review-line.test.ts compares the two over generated fields),
 * without pino's per-line work: the log-method dispatch, the message formatter, a walk of the
 * object with a serializer and a stringifier lookup per key, and a Date per line. Under load that
 * work was ~8 % of the server's CPU (docs/performance.md). The line's prefix (level, bindings), its
 * end and its stream are the logger's own, read once through `pino.symbols`; a logger configured
 * in a way this writer does not reproduce (a mixin, a log formatter, hooks, a nested key, a
 * message prefix, a stream that wants metadata) gets its lines from pino itself.
 */
import { pino, type Logger } from 'pino';

/** The review line's fields, in the order they are written; undefined ones are left out. */
export interface ReviewLineFields {
  reqId: string;
  uid: string;
  namespace: string;
  name: string | undefined;
  podName: string | undefined;
  generateName: string | undefined;
  operation: string;
  decision: string;
  reason: string | undefined;
  ops: number;
  code: string | undefined;
  namespaceSource: string | undefined;
  dryRun: true | undefined;
  detail: string | undefined;
  durationMs: number;
}

export const REVIEW_MESSAGE = 'admission review';

const FIELD_NAMES: readonly (keyof ReviewLineFields | 'msg')[] = [
  'reqId',
  'uid',
  'namespace',
  'name',
  'podName',
  'generateName',
  'operation',
  'decision',
  'reason',
  'ops',
  'code',
  'namespaceSource',
  'dryRun',
  'detail',
  'durationMs',
  'msg',
];

type Internals = Record<symbol, unknown>;

/**
 * A string as pino writes it (its `asString`): JSON text for a long string or one with a control
 * character; otherwise only `"` and `\\` are escaped, and other characters, a lone surrogate too,
 * are written as they are.
 */
function pinoString(value: string): string {
  if (value.length > 100) return JSON.stringify(value);
  let escaped: string | undefined;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 32) return JSON.stringify(value);
    if (code === 0x22 || code === 0x5c) {
      escaped = (escaped ?? '') + value.slice(from, i) + '\\';
      from = i;
    }
  }
  return `"${escaped === undefined ? value : escaped + value.slice(from)}"`;
}

/** `,"key":value` for a string field, or nothing for an undefined one. */
function str(key: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${key}":${pinoString(value)}`;
}

/** A number as pino writes it: its text, or null when not finite. */
function num(key: string, value: number): string {
  return `,"${key}":${Number.isFinite(value) ? String(value) : 'null'}`;
}

/** The writer for `logger`'s review lines (make once per logger). */
export function reviewLineWriter(logger: Logger): (fields: ReviewLineFields) => void {
  const { symbols } = pino;
  const internals = logger as unknown as Internals;
  const stream = internals[symbols.streamSym] as
    { write(line: string): unknown; [key: symbol]: unknown } | undefined;
  const formatters = internals[symbols.formattersSym] as { log?: unknown } | undefined;
  const hooks = internals[symbols.hooksSym] as { streamWrite?: unknown } | undefined;
  const time = internals[symbols.timeSym] as (() => string) | undefined;
  // A serializer or a redaction stringifier for one of the line's keys changes what is written.
  const serializers: object = (internals[symbols.serializersSym] as object | undefined) ?? {};
  const stringifiers = (internals[symbols.stringifiersSym] ?? {}) as Record<symbol, unknown>;
  const keysPlain =
    stringifiers[symbols.wildcardFirstSym] === undefined &&
    FIELD_NAMES.every((key) => !(key in serializers) && !(key in stringifiers));
  const reproducible =
    keysPlain &&
    stream !== undefined &&
    typeof stream.write === 'function' &&
    stream[symbols.needsMetadataGsym] !== true &&
    internals[symbols.mixinSym] === undefined &&
    formatters?.log === undefined &&
    hooks?.streamWrite === undefined &&
    !internals[symbols.nestedKeySym] &&
    internals[symbols.messageKeySym] === 'msg' &&
    // msgPrefixSym is exported by pino at run time, not in its type declarations.
    internals[(symbols as unknown as Record<string, symbol>)['msgPrefixSym'] as symbol] ===
      undefined &&
    typeof time === 'function';
  if (!reproducible) {
    return (fields) => logger.info({ ...fields }, REVIEW_MESSAGE);
  }
  const end = internals[symbols.endSym] as string;
  const message = `,"msg":${JSON.stringify(REVIEW_MESSAGE)}`;
  // pino's ISO time changes once a millisecond; a busy server writes several lines in one.
  const iso = time === pino.stdTimeFunctions.isoTime;
  let lastMs = -1;
  let lastTime = '';
  const timeText = (): string => {
    if (!iso) return time();
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastTime = `,"time":"${new Date(ms).toISOString()}"`;
    }
    return lastTime;
  };
  return (fields) => {
    if (!logger.isLevelEnabled('info')) return;
    // Read per line: a child's bindings or the level's label may be changed on the logger.
    const prefix = (internals[symbols.lsCacheSym] as Record<number, string>)[
      logger.levels.values.info ?? 30
    ];
    const chindings = internals[symbols.chindingsSym] as string;
    stream.write(
      prefix +
        timeText() +
        chindings +
        str('reqId', fields.reqId) +
        str('uid', fields.uid) +
        str('namespace', fields.namespace) +
        str('name', fields.name) +
        str('podName', fields.podName) +
        str('generateName', fields.generateName) +
        str('operation', fields.operation) +
        str('decision', fields.decision) +
        str('reason', fields.reason) +
        num('ops', fields.ops) +
        str('code', fields.code) +
        str('namespaceSource', fields.namespaceSource) +
        (fields.dryRun === true ? ',"dryRun":true' : '') +
        str('detail', fields.detail) +
        num('durationMs', fields.durationMs) +
        message +
        end,
    );
  };
}
