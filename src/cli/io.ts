/**
 * What a CLI command may touch, passed in by src/cli.ts so commands are testable without a process.
 * Commands return their exit code; only src/cli.ts calls process.exit.
 */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input (for `-f -`). */
  readStdin: () => Promise<string>;
  /** The process environment (read-only view). */
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/** Documented exit codes shared by every subcommand. */
export const EXIT = {
  OK: 0,
  /** A runtime failure: injection error, unreadable input, unreachable cluster. */
  FAILURE: 1,
  /** Invalid flags, environment variables or configuration. */
  USAGE: 2,
} as const;

export type CliCommand = (argv: readonly string[], io: CliIO) => Promise<number>;
