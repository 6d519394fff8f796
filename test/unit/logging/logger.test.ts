import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';

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
