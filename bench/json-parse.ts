/**
 * `npx tsx bench/json-parse.ts`: the request-body parser (src/core/json-parse.ts) against
 * secure-json-parse (fastify's default, `error`/`error`) and bare `JSON.parse`, on the payload
 * corpus and on hostile bodies up to the 6 MiB limit. Prints the median time per parse and, for
 * the hostile bodies, how long one parse blocks the event loop.
 * Flags: --rounds <n> (default 30), --payloads <dir>.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { parseJsonBody } from '../src/core/json-parse.js';

const require = createRequire(import.meta.url);
// fastify's own dependency: the parser the server used before.
const sjson = require('secure-json-parse') as {
  parse: (text: string, reviver: null, options: object) => unknown;
};

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const rounds = Number(flag('rounds', '30'));
const payloadDir = flag(
  'payloads',
  new URL('../../shared/perf/payloads/', import.meta.url).pathname.replace(/\/dist\//, '/'),
);

const LIMIT = 6 * 1024 * 1024;
const bodies: [string, string][] = [];
for (const file of readdirSync(payloadDir).filter(
  (f) => f.endsWith('.json') && f !== 'index.json',
)) {
  bodies.push([file, readFileSync(join(payloadDir, file), 'utf8')]);
}
// A ~5.5 MiB realistic pod: the large payload's containers repeated.
const large = bodies.find(([name]) => name.startsWith('large'))?.[1];
if (large) {
  const review = JSON.parse(large) as { request: { object: { spec: { containers: unknown[] } } } };
  const base = review.request.object.spec.containers;
  const containers: unknown[] = [];
  while (JSON.stringify(containers).length < 5.5 * 1024 * 1024) containers.push(...base);
  review.request.object.spec.containers = containers.map((c, i) => ({
    ...(c as object),
    name: `c${i}`,
  }));
  bodies.push(['5.5MiB-pod', JSON.stringify(review)]);
}

const hostile: [string, string][] = [
  ['deep-array-1e6', '['.repeat(1_000_000) + ']'.repeat(1_000_000)],
  ['deep-array-3e6', '['.repeat(3_000_000) + ']'.repeat(3_000_000)],
  ['deep-object-6MiB', '{"a":'.repeat(LIMIT / 6) + '1' + '}'.repeat(LIMIT / 6)],
  [
    'wide-empty-objects',
    `[${Array(Math.floor(LIMIT / 3))
      .fill('{}')
      .join(',')}]`,
  ],
  [
    'wide-zeros',
    `[${Array(Math.floor(LIMIT / 2))
      .fill('0')
      .join(',')}]`,
  ],
  [
    'wide-short-strings',
    `[${Array(Math.floor(LIMIT / 4))
      .fill('""')
      .join(',')}]`,
  ],
  ['many-keys', `{${Array.from({ length: LIMIT / 12 }, (_, i) => `"k${i}":0`).join(',')}}`],
  ['long-escapes', `["${'\\u0041'.repeat(LIMIT / 6 - 1)}"]`],
];

type Parser = (text: string) => unknown;
const parsers: [string, Parser][] = [
  ['ours', (t) => parseJsonBody(t)],
  [
    'secure-json-parse',
    (t) => sjson.parse(t, null, { protoAction: 'error', constructorAction: 'error' }),
  ],
  ['JSON.parse', (t) => JSON.parse(t) as unknown],
];

function timeOnce(parse: Parser, text: string): { ms: number; outcome: string } {
  const start = performance.now();
  let outcome = 'ok';
  try {
    parse(text);
  } catch (error) {
    outcome = error instanceof Error ? error.message.slice(0, 60) : 'error';
  }
  return { ms: performance.now() - start, outcome };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function run(label: string, set: [string, string][], n: number): void {
  console.log(`\n${label} (median of ${n}, ms)`);
  console.log(['body', 'KiB', ...parsers.map(([name]) => name), 'ours outcome'].join('\t'));
  for (const [name, text] of set) {
    const cells: string[] = [];
    let outcome = '';
    for (const [parserName, parse] of parsers) {
      for (let w = 0; w < 3; w++) timeOnce(parse, text);
      const times: number[] = [];
      for (let r = 0; r < n; r++) {
        const t = timeOnce(parse, text);
        times.push(t.ms);
        if (parserName === 'ours') outcome = t.outcome;
      }
      cells.push(median(times).toFixed(3));
    }
    console.log([name, (text.length / 1024).toFixed(0), ...cells, outcome].join('\t'));
  }
}

run('payload corpus', bodies, rounds);
run('hostile bodies (6 MiB limit)', hostile, Math.max(3, Math.floor(rounds / 5)));
