import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createLogger,
  LOG_FLUSH_MS,
  LOG_MAX_BUFFER_BYTES,
  logDestination,
} from '../../../src/logging/logger.js';

function capture() {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  const lines = () =>
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, text: () => text };
}

const SECRET = 's3cr3t-value';

describe('createLogger', () => {
  it.each(['pod', 'object', 'oldObject', 'env'])(
    'a top-level %s is censored wherever it is logged, in a child logger too',
    (key) => {
      const { logger, lines, text } = capture();
      const value = { spec: { containers: [{ env: [{ name: 'PASSWORD', value: SECRET }] }] } };
      logger.info({ [key]: value }, 'direct');
      logger.child({ reqId: 'r1' }).info({ [key]: value }, 'from a child');
      expect(lines().map((line) => line[key])).toEqual(['[redacted]', '[redacted]']);
      expect(text()).not.toContain(SECRET);
    },
  );

  it('an Authorization header logged with a request is censored', () => {
    const { logger, lines } = capture();
    logger.info({ req: { method: 'POST', headers: { authorization: 'Bearer abc' } } }, 'x');
    expect(lines()[0]).toMatchObject({
      req: { method: 'POST', headers: { authorization: '[redacted]' } },
    });
  });

  it('summary fields are written as given, with the name, level and an ISO time', () => {
    const { logger, lines } = capture();
    logger.info({ uid: 'u1', decision: 'injected', ops: 17 }, 'admission review');
    const [line] = lines();
    expect(line).toMatchObject({
      level: 30,
      name: 'sidecar-injector',
      uid: 'u1',
      decision: 'injected',
      ops: 17,
      msg: 'admission review',
    });
    expect(typeof line?.time === 'string' && !Number.isNaN(Date.parse(line.time))).toBe(true);
  });
});

describe('logDestination (the production destination)', () => {
  it('writes every buffered line, by the periodic flush and at exit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'log-dest-'));
    try {
      // In process: 100 review-sized lines, then the periodic flush writes what is buffered.
      const file = join(dir, 'buffered.log');
      const destination = logDestination(file);
      const logger = createLogger({ destination });
      for (let i = 0; i < 100; i++) logger.info({ uid: `u-${i}`, pad: 'x'.repeat(250) }, 'line');
      await new Promise((resolve) => setTimeout(resolve, LOG_FLUSH_MS * 3));
      const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      expect(lines.map((l) => (JSON.parse(l) as { uid: string }).uid)).toEqual(
        Array.from({ length: 100 }, (_, i) => `u-${i}`),
      );
      // A process that logs one line to stdout (as the server does) and exits at once still
      // writes it: pino flushes the buffer at exit.
      const script = `import { createLogger, logDestination } from ${JSON.stringify(
        join(process.cwd(), 'src/logging/logger.ts'),
      )}; createLogger({ destination: logDestination(1) }).info('last words'); process.exit(0);`;
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { encoding: 'utf8', timeout: 30_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('"msg":"last words"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('holds at most LOG_MAX_BUFFER_BYTES while the reader stalls, dropping the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'log-stall-'));
    const fifo = join(dir, 'stalled');
    execFileSync('mkfifo', [fifo]);
    // A reader that never reads: the pipe fills (64 KiB) and every write after it waits.
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const destination = logDestination(fifo) as DestinationStream & {
      on(event: string, listener: (...args: unknown[]) => void): void;
      _len: number;
    };
    let dropped = 0;
    destination.on('drop', () => dropped++);
    destination.on('error', () => undefined);
    try {
      await new Promise((resolve) => destination.on('ready', resolve));
      const logger = createLogger({ destination });
      const line = 'x'.repeat(1_000);
      // Three times the bound, in slices so that the first writes reach the pipe.
      for (let i = 0; i < (3 * LOG_MAX_BUFFER_BYTES) / 1_000; i++) {
        logger.info({ i, line }, 'line');
        if (i % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      expect(dropped).toBeGreaterThan(0);
      expect(destination._len).toBeLessThanOrEqual(LOG_MAX_BUFFER_BYTES);
    } finally {
      // Closing the reader ends the writer's wait (EPIPE).
      closeSync(reader);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
