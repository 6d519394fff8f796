#!/usr/bin/env node
// The `sidecar-injector` binary; CLI dispatch lives in main.ts, the server in server.ts.
import { runMain } from './main.js';

// `sidecar-injector inject ... | head` closes the pipe early: that is the reader's choice, not a
// failure, so stop quietly instead of dying on an unhandled EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runMain();
