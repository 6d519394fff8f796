#!/usr/bin/env node
// The `sidecar-injector` binary; CLI dispatch lives in main.ts, the server in server.ts.
import { enableCompileCache } from 'node:module';

// Node's compile cache keeps V8's code cache of every module loaded after this call: compiling
// our and our dependencies' JavaScript is ~200 ms of the server's start-up, a cached start skips
// most of it (docs/performance.md, "Start-up"). NODE_COMPILE_CACHE picks the directory (the image
// warms one at build time); without it Node uses a directory under the OS temp dir. The cache is
// only an optimisation: a missing or read-only directory leaves start-up as it was (Node reports
// that in the returned status, it does not throw), and NODE_DISABLE_COMPILE_CACHE=1 turns it off.
// https://nodejs.org/api/module.html#module-compile-cache
try {
  enableCompileCache();
} catch {
  // never let the cache keep the binary from starting
}

// Imported after the cache is on (a static import would be compiled before this module runs).
const { runMain } = await import('./main.js');

// `sidecar-injector inject ... | head` closes the pipe early: that is the reader's choice, not a
// failure, so stop quietly instead of dying on an unhandled EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runMain();
