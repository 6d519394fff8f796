/** The flag parser shared by `serve`, `inject` and `check`. */
import { describe, expect, it } from 'vitest';
import { all, first, parseFlags, usageError, type FlagSpec } from '../../../src/cli/flags.js';
import { formatError } from '../../../src/errors.js';

const SPECS: readonly FlagSpec[] = [
  { name: 'filename', short: 'f', kind: 'string', required: true },
  { name: 'output', short: 'o', kind: 'enum', choices: ['yaml', 'json'] },
  { name: 'set', kind: 'string', repeatable: true },
  { name: 'labels', kind: 'string', allowEmpty: true },
  { name: 'verbose', short: 'v', kind: 'boolean' },
  { name: 'port', kind: 'port', env: 'TEST_PORT', default: '9443' },
  { name: 'config-dir', kind: 'string', conflicts: ['kubeconfig'] },
  { name: 'kubeconfig', kind: 'string' },
  { name: 'values-file', aliases: ['valuesFile'], kind: 'string' },
  {
    name: 'pair',
    kind: 'string',
    check: (value) => (value.includes('=') ? undefined : `expected k=v, got "${value}"`),
  },
];

function parse(argv: string[], env: Record<string, string> = {}) {
  return parseFlags(argv, env, SPECS);
}

describe('flag forms', () => {
  it.each([
    [['--filename', 'a.yaml']],
    [['--filename=a.yaml']],
    [['-f', 'a.yaml']],
    [['-fa.yaml']],
    [['-f=a.yaml']],
  ])('%j gives filename a.yaml', (argv) => {
    const parsed = parse(argv);
    expect(parsed.problems).toEqual([]);
    expect(first(parsed, 'filename')).toBe('a.yaml');
  });

  it('takes "-" as a value (standard input)', () => {
    expect(first(parse(['-f', '-']), 'filename')).toBe('-');
  });

  it('keeps every value of a repeatable flag in order', () => {
    const parsed = parse(['-f', 'a', '--set', 'x=1', '--set=y=2']);
    expect(all(parsed, 'set')).toEqual(['x=1', 'y=2']);
  });

  it('reads booleans and -h/--help without values', () => {
    expect(first(parse(['-f', 'a', '-v']), 'verbose')).toBe('true');
    expect(parse(['-h']).help).toBe(true);
    expect(parse(['--help']).help).toBe(true);
    expect(parse(['-f', 'a']).help).toBe(false);
  });

  it('accepts an empty value only where it means something', () => {
    const parsed = parse(['-f', 'a', '--labels', '']);
    expect(parsed.problems).toEqual([]);
    expect(first(parsed, 'labels')).toBe('');
    expect(parse(['-f', '']).problems).toEqual(['--filename: must not be empty']);
  });
});

describe('long aliases', () => {
  it.each([[['--valuesFile', 'v']], [['--valuesFile=v']], [['--values-file', 'v']]])(
    '%j is read under the flag name',
    (argv) => {
      const parsed = parse(['-f', 'a', ...argv]);
      expect(parsed.problems).toEqual([]);
      expect(first(parsed, 'values-file')).toBe('v');
    },
  );

  it('an alias and its name together are the same flag given twice', () => {
    expect(parse(['-f', 'a', '--valuesFile', 'v', '--values-file', 'w']).problems).toEqual([
      '--values-file: given more than once',
    ]);
  });
});

describe('sources', () => {
  it.each([
    ['the flag', ['-f', 'a', '--port', '1'], { TEST_PORT: '2' }, '1', 'flag'],
    ['the environment', ['-f', 'a'], { TEST_PORT: '2' }, '2', 'env'],
    ['the default', ['-f', 'a'], {}, '9443', 'default'],
    ['the default over an empty variable', ['-f', 'a'], { TEST_PORT: '' }, '9443', 'default'],
  ])('%s', (_name, argv, env, want, origin) => {
    const parsed = parse(argv, env);
    expect(first(parsed, 'port')).toBe(want);
    expect(parsed.origin.get('port')).toBe(origin);
  });

  it('names the variable when its value is wrong', () => {
    expect(parse(['-f', 'a'], { TEST_PORT: 'x' }).problems).toEqual([
      'TEST_PORT: expected a port number 0-65535, got "x"',
    ]);
  });
});

describe('problems', () => {
  it.each([
    [['-f', 'a', '--bogus'], 'unknown flag --bogus'],
    [['-f', 'a', '--bogus=1'], 'unknown flag --bogus'],
    [['-f', 'a', '-x'], 'unknown flag -x'],
    [['-f', 'a', 'extra', '--', '--not-a-flag'], 'unexpected argument(s): extra --not-a-flag'],
    [['-f', 'a', '-o', 'xml'], '--output: expected one of yaml|json, got "xml"'],
    [['-f', 'a', '-f', 'b'], '--filename: given more than once'],
    [['-f', 'a', '--verbose=yes'], '--verbose: takes no value'],
    [['-f', 'a', '--port'], '--port: missing value'],
    [['-f', 'a', '--port', '--verbose'], '--port: missing value'],
    [['-f', 'a', '--pair', 'x'], '--pair: expected k=v, got "x"'],
    [
      ['-f', 'a', '--config-dir', 'c', '--kubeconfig', 'k'],
      'use either --config-dir or --kubeconfig, not both',
    ],
    [[], 'flag --filename is required'],
  ])('%j: %s', (argv, problem) => {
    expect(parse(argv).problems).toEqual([problem]);
  });

  it('a flag given without its value is not also reported as required', () => {
    expect(parse(['-f']).problems).toEqual(['--filename: missing value']);
  });

  it('lists every problem at once', () => {
    const parsed = parse(['--bogus', '-o', 'xml', 'extra'], { TEST_PORT: '70000' });
    expect(parsed.problems).toHaveLength(5);
    expect(parsed.problems).toEqual(
      expect.arrayContaining([
        'unknown flag --bogus',
        'unexpected argument(s): extra',
        'flag --filename is required',
        '--output: expected one of yaml|json, got "xml"',
        'TEST_PORT: expected a port number 0-65535, got "70000"',
      ]),
    );
  });

  it('usageError carries every problem, coded INJ_ERR_CLI_USAGE', () => {
    const error = usageError(['a', 'b']);
    expect(error.code).toBe('INJ_ERR_CLI_USAGE');
    expect(error.message).toBe('a; b');
    expect(formatError(error)).toBe('INJ_ERR_CLI_USAGE: a; b');
    expect(error.details.map((d) => d.reason)).toEqual(['a', 'b']);
  });
});
