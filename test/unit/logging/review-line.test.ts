import fc from 'fast-check';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logging/logger.js';
import {
  REVIEW_MESSAGE,
  reviewLineWriter,
  type ReviewLineFields,
} from '../../../src/logging/review-line.js';

function memory(): { destination: Writable; text: () => string } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  return { destination, text: () => text };
}

const awkward = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('"', '\\', '\u2028', '\ud800x', 'ü', '\n', 'a'.repeat(50)),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const fields: fc.Arbitrary<ReviewLineFields> = fc.record({
  reqId: awkward,
  uid: awkward,
  namespace: awkward,
  name: maybe(awkward),
  podName: maybe(awkward),
  generateName: maybe(awkward),
  operation: awkward,
  decision: fc.constantFrom('injected', 'skipped', 'denied', 'ignored'),
  reason: maybe(awkward),
  ops: fc.nat(),
  code: maybe(awkward),
  namespaceSource: maybe(fc.constantFrom('cache', 'lookup', 'unavailable')),
  dryRun: maybe(fc.constant(true as const)),
  detail: maybe(awkward),
  durationMs: fc.oneof(
    fc.double({ min: 0, max: 1e6, noNaN: true }),
    fc.constantFrom(0, 0.001, 12.345, Number.POSITIVE_INFINITY),
  ),
});

/** The `time` field is the clock's; both writers read it, so it is compared by shape. */
const TIME = /,"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"/;
function withoutTime(text: string): string {
  return text
    .replace(new RegExp(TIME.source, 'g'), ',"time":"T"')
    .replace(/,"time":\d+/g, ',"time":0');
}

type Setup = (destination: Writable) => Logger;
const setups: [string, Setup][] = [
  ['the production logger', (destination) => createLogger({ level: 'info', destination })],
  [
    'a child with bindings',
    (destination) => createLogger({ level: 'info', destination }).child({ pod: 'x', replica: 2 }),
  ],
  ['epoch time, no base', (destination) => pino({ base: null }, destination)],
  [
    'a level formatter and a mixin (pino writes it)',
    (destination) =>
      pino(
        {
          formatters: { level: (label) => ({ severity: label.toUpperCase() }) },
          mixin: () => ({ extra: 1 }),
        },
        destination,
      ),
  ],
  [
    'a serializer for one of the keys (pino writes it)',
    (destination) => pino({ serializers: { uid: () => 'hidden' } }, destination),
  ],
];

describe('reviewLineWriter', () => {
  it.each(setups)('writes what logger.info writes: %s (generated fields)', (_label, setup) => {
    const ours = memory();
    const theirs = memory();
    const write = reviewLineWriter(setup(ours.destination));
    const logger = setup(theirs.destination);
    fc.assert(
      fc.property(fields, (f) => {
        write(f);
        logger.info({ ...f }, REVIEW_MESSAGE);
      }),
      { numRuns: 400 },
    );
    const lines = ours.text().split('\n');
    expect(lines.length).toBeGreaterThan(400);
    expect(withoutTime(ours.text())).toBe(withoutTime(theirs.text()));
  });

  it('writes the line itself for the production logger and a child; pino writes the others', () => {
    const used = setups.map(([label, setup]) => {
      const logger = setup(memory().destination);
      const info = vi.spyOn(logger, 'info');
      reviewLineWriter(logger)(fc.sample(fields, 1)[0] as ReviewLineFields);
      return [label, info.mock.calls.length === 0];
    });
    expect(used).toEqual([
      ['the production logger', true],
      ['a child with bindings', true],
      ['epoch time, no base', true],
      ['a level formatter and a mixin (pino writes it)', false],
      ['a serializer for one of the keys (pino writes it)', false],
    ]);
  });

  it('writes the time of the line, to the millisecond', () => {
    const ours = memory();
    const write = reviewLineWriter(createLogger({ level: 'info', destination: ours.destination }));
    const sample = fc.sample(fields, 1)[0] as ReviewLineFields;
    for (let i = 0; i < 50; i++) {
      const before = Date.now();
      write(sample);
      const after = Date.now();
      const line = ours.text().trimEnd().split('\n').at(-1) ?? '';
      const at = Date.parse(TIME.exec(line)?.[1] ?? '');
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
    }
  });

  it('writes nothing below the logger level, and follows a level change', () => {
    const ours = memory();
    const logger = createLogger({ level: 'warn', destination: ours.destination });
    const write = reviewLineWriter(logger);
    const sample = fc.sample(fields, 1)[0] as ReviewLineFields;
    write(sample);
    expect(ours.text()).toBe('');
    logger.level = 'info';
    write(sample);
    expect(ours.text().split('\n').filter(Boolean)).toHaveLength(1);
  });
});
