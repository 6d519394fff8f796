import { describe, expect, it } from 'vitest';
import { budgetMs, parseGoDuration } from '../../../src/http/timeout.js';

describe('parseGoDuration (the API server sends ?timeout=<Go duration>)', () => {
  it.each([
    ['10s', 10_000],
    ['30s', 30_000],
    ['1m0s', 60_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    ['500ms', 500],
    ['250us', 0.25],
    ['250µs', 0.25],
    ['1h', 3_600_000],
    ['0', 0],
    ['.5s', 500],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each(['', '10', 's', '10x', '-1s', '10 s', 'abc', '1s2'])('%j is rejected', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('budgetMs keeps a margin so the denial reaches the API server in time', () => {
  it.each([
    [10_000, 9_750],
    [1_000, 900],
    [100, 90],
    [0, 0],
  ])('%d ms -> %d ms', (timeout, budget) => {
    expect(budgetMs(timeout)).toBe(budget);
  });
});
