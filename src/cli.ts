#!/usr/bin/env node
// The `sidecar-injector` binary; all wiring lives in main.ts.
import { runMain } from './main.js';

process.exitCode = await runMain();
