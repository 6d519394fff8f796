import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  InjectorError,
  formatError,
  isInjectorError,
  type ErrorCode,
} from '../../src/errors.js';

const README = new URL('../../README.md', import.meta.url);

interface DocumentedCode {
  httpStatus: number;
  admissionStatus: number;
  exitCode: number;
}

/** Rows of the README's "Error codes" table: `| \`INJ_ERR_X\` | 400 | 400 | 1 | meaning |`. */
async function documentedCodes(): Promise<Map<string, DocumentedCode>> {
  const text = await readFile(README, 'utf8');
  const section = text.split(/^## Error codes$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, DocumentedCode>();
  const row = /^\|\s*`(INJ_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|\s*(\d{3})\s*\|\s*(\d)\s*\|/gm;
  for (const match of section.matchAll(row)) {
    rows.set(match[1] ?? '', {
      httpStatus: Number(match[2]),
      admissionStatus: Number(match[3]),
      exitCode: Number(match[4]),
    });
  }
  return rows;
}

describe('error codes', () => {
  it('every code in the table is documented in the README with its HTTP status, admission status and exit code', async () => {
    const documented = await documentedCodes();
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(documented.get(code), `${code} missing from README "Error codes"`).toEqual({
        httpStatus: entry.httpStatus,
        admissionStatus: entry.admissionStatus,
        exitCode: entry.exitCode,
      });
    }
  });

  it('InjectorError carries the columns of its code', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const err = new InjectorError(code, 'x');
      expect([err.httpStatus, err.admissionStatus, err.exitCode]).toEqual([
        ERROR_CODES[code].httpStatus,
        ERROR_CODES[code].admissionStatus,
        ERROR_CODES[code].exitCode,
      ]);
    }
  });

  it('only usage problems (flags, environment, configuration, certificates, a taken port) exit 2', () => {
    const usage = Object.entries(ERROR_CODES)
      .filter(([, entry]) => entry.exitCode === 2)
      .map(([code]) => code)
      .sort();
    expect(usage).toEqual([
      'INJ_ERR_CLI_USAGE',
      'INJ_ERR_CONFIG_DIR_EMPTY',
      'INJ_ERR_CONFIG_INVALID',
      'INJ_ERR_PORT_IN_USE',
      'INJ_ERR_TLS',
    ]);
  });

  it('every code documented in the README exists in the table', async () => {
    const documented = await documentedCodes();
    expect(documented.size).toBeGreaterThan(0);
    for (const code of documented.keys()) {
      expect(Object.keys(ERROR_CODES), `${code} documented but not defined`).toContain(code);
    }
  });

  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('%s follows the naming scheme', (code) => {
    expect(code).toMatch(/^INJ_ERR_[A-Z]+(_[A-Z]+)*$/);
  });

  it('InjectorError keeps the code out of the message, in the shown text, details and cause', () => {
    const cause = new Error('root');
    const err = new InjectorError('INJ_ERR_INVALID_ANNOTATION', "invalid value 'x'", {
      cause,
      details: [{ field: 'metadata.annotations[a]', value: 'x', reason: 'bad' }],
    });
    expect(err.message).toBe("invalid value 'x'");
    expect(formatError(err)).toBe("INJ_ERR_INVALID_ANNOTATION: invalid value 'x'");
    expect(String(err)).toBe("InjectorError: INJ_ERR_INVALID_ANNOTATION: invalid value 'x'");
    expect(err.httpStatus).toBe(400);
    expect(err.details).toHaveLength(1);
    expect(err.cause).toBe(cause);
    expect(isInjectorError(err)).toBe(true);
    expect(isInjectorError(new Error('plain'))).toBe(false);
  });
});
