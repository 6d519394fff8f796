/** Builds an app over the embedded default configuration for the HTTP tests, with an in-memory log sink. */
import { Writable } from 'node:stream';
import { buildApp, type AppOptions, type InjectorApp } from '../../../src/http/app.js';
import { createLogger } from '../../../src/logging/logger.js';
import { createMetrics, type InjectorMetrics } from '../../../src/metrics/registry.js';
import type { InjectionConfig } from '../../../src/core/config/types.js';
import type { ConfigProvider } from '../../../src/core/contracts.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';

export interface Harness {
  app: InjectorApp;
  metrics: InjectorMetrics;
  /** Parsed JSON log lines written so far. */
  logs: () => Record<string, unknown>[];
  /** Raw log text, for "never contains" assertions. */
  logText: () => string;
}

export function staticProvider(config: InjectionConfig, ready = true): ConfigProvider {
  return { current: () => config, ready: () => ready, close: () => Promise.resolve() };
}

export function makeHarness(overrides: Partial<AppOptions> = {}): Harness {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  const metrics = overrides.metrics ?? createMetrics({ processMetrics: false });
  const app = buildApp({
    config: staticProvider(defaultInjectionConfig()),
    logger: createLogger({ level: 'info', destination: sink }),
    metrics,
    ...overrides,
  });
  return {
    app,
    metrics,
    logText: () => text,
    logs: () =>
      text
        .split('\n')
        .filter((line) => line.trim().length > 0)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
