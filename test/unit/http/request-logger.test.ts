import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger } from '../../../src/http/request-logger.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

function capture(level = 'trace') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const root = pino({ level, base: null, timestamp: false }, stream);
  return { root, lines };
}

describe('lazyChildLogger', () => {
  it('writes each level as a child with the bindings would, every argument kept', () => {
    const { root, lines } = capture();
    const log = lazyChildLogger(root, { reqId: 'r-1' }, {});
    for (const level of LEVELS) log[level]({ n: 1 }, '%s at %d', level, 7);
    const { root: eager, lines: expected } = capture();
    const child = eager.child({ reqId: 'r-1' });
    for (const level of LEVELS) child[level]({ n: 1 }, '%s at %d', level, 7);
    expect(lines).toHaveLength(LEVELS.length);
    expect(lines).toEqual(expected);
    expect(lines.map((l) => l['msg'])).toEqual(LEVELS.map((l) => `${l} at 7`));
  });

  it('makes the child on first use only', () => {
    const { root } = capture();
    let made = 0;
    const counting = new Proxy(root, {
      get(target, key, receiver) {
        if (key === 'child') made++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const log = lazyChildLogger(counting, { reqId: 'r-2' }, {});
    expect(log.level).toBe('trace');
    expect(made).toBe(0);
    log.info('one');
    log.warn('two');
    expect(made).toBe(1);
  });

  it('honours the levels of the parent and of the options', () => {
    const { root, lines } = capture('warn');
    const log: FastifyBaseLogger = lazyChildLogger(root, { reqId: 'r-3' }, {});
    log.info('dropped');
    log.error('kept');
    const quiet = lazyChildLogger(root, { reqId: 'r-4' }, { level: 'fatal' });
    expect(quiet.level).toBe('fatal');
    quiet.error('dropped too');
    expect(lines.map((l) => l['msg'])).toEqual(['kept']);
  });

  it('has the level methods as methods: on the prototype, not enumerable', () => {
    const { root } = capture();
    const log = lazyChildLogger(root, {}, {});
    expect(Object.keys(log)).toEqual([]);
    for (const level of LEVELS) expect(typeof log[level]).toBe('function');
  });
});
