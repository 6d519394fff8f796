import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, InjectorError, isInjectorError, type ErrorCode } from '../../src/errors.js';

const README = new URL('../../README.md', import.meta.url);

/** Rows of the README's "Error codes" table: `| \`INJ_ERR_X\` | 400 | meaning |`. */
async function documentedCodes(): Promise<Map<string, number>> {
  const text = await readFile(README, 'utf8');
  const section = text.split(/^## Error codes$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, number>();
  for (const match of section.matchAll(/^\|\s*`(INJ_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) {
    rows.set(match[1] ?? '', Number(match[2]));
  }
  return rows;
}

describe('error codes', () => {
  it('every code in the table is documented in the README with its HTTP status', async () => {
    const documented = await documentedCodes();
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(documented.get(code), `${code} missing from README "Error codes"`).toBe(
        entry.httpStatus,
      );
    }
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

  it('InjectorError prefixes the message with its code and keeps details and cause', () => {
    const cause = new Error('root');
    const err = new InjectorError('INJ_ERR_INVALID_ANNOTATION', "invalid value 'x'", {
      cause,
      details: [{ field: 'metadata.annotations[a]', value: 'x', reason: 'bad' }],
    });
    expect(err.message).toBe("INJ_ERR_INVALID_ANNOTATION: invalid value 'x'");
    expect(err.httpStatus).toBe(400);
    expect(err.details).toHaveLength(1);
    expect(err.cause).toBe(cause);
    expect(isInjectorError(err)).toBe(true);
    expect(isInjectorError(new Error('plain'))).toBe(false);
  });
});
