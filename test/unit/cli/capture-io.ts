/** An in-memory CliIO for running the commands without a process. */
import type { CliIO } from '../../../src/cli/io.js';

export interface CapturedIO extends CliIO {
  out: () => string;
  err: () => string;
}

export function captureIO(cwd: string, stdin = ''): CapturedIO {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (text) => {
      out.push(text);
    },
    stderr: (text) => {
      err.push(text);
    },
    readStdin: () => Promise.resolve(stdin),
    env: {},
    cwd,
    out: () => out.join(''),
    err: () => err.join(''),
  };
}
