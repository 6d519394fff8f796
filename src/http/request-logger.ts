/**
 * fastify gives every request a child logger carrying its `reqId`; pino serialises a child's
 * bindings when it is made, which cost more than the rest of a review's logging (measured under
 * load: ~4 % of the server's time against ~5 % for writing the review line). Nearly no request
 * logs through it: the review line is written by the root logger with `reqId` as its first field
 * (the same bytes a child would write, see routes.ts). So the child is made on first use only.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type Level = (typeof LEVELS)[number];

// One method per log level, defined from LEVELS in the class's static block; the interface gives
// them their type.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
interface LazyChildLogger extends Record<Level, (...args: unknown[]) => void> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
class LazyChildLogger {
  readonly #parent: Logger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): Logger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.#real().child(bindings, options);
  }

  static {
    for (const level of LEVELS) {
      // As a method is defined: not enumerable.
      Object.defineProperty(LazyChildLogger.prototype, level, {
        configurable: true,
        writable: true,
        value: function (this: LazyChildLogger, ...args: unknown[]): void {
          this.#call(level, args);
        },
      });
    }
  }

  #call(method: Level, args: unknown[]): void {
    const logger = this.#real();
    // pino's methods read `this`: called on the logger itself.
    const log: (this: Logger, ...a: unknown[]) => void = logger[method];
    log.call(logger, ...args);
  }
}

/** fastify's `childLoggerFactory`: the per-request logger, made when first used. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger as Logger, bindings, options);
}
