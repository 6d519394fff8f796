/**
 * The reload rules shared by every live configuration source (ConfigMap informer, mounted directory):
 * parse once per change, swap atomically on success, and on failure keep the last good configuration,
 * log every issue with its path and count the failure. Requests only ever call `current()`.
 */
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { ConfigIssue, ConfigResult, InjectionConfig } from '../core/config/types.js';
import { InjectorError } from '../errors.js';
import { configReloadMetrics } from '../metrics/registry.js';
import type { ConfigProvider, ConfigSources } from '../core/contracts.js';

export type ConfigLoader = (sources: ConfigSources) => ConfigResult;

export interface ReloadingConfigOptions {
  load: ConfigLoader;
  logger: Logger;
  registry: Registry;
  /** Where the configuration comes from, for logs (`configmap:istio-system/...`, `dir:/etc/...`). */
  origin: string;
}

export interface ReloadingConfig {
  current(): InjectionConfig;
  /** False only while no configuration has ever loaded (broken at start-up). */
  ready(): boolean;
  /** Applies new sources; returns true when the configuration changed. Never throws. */
  apply(sources: ConfigSources): boolean;
  /** Records a change that could not even be read (same log, metric and keep-last-good rules). */
  reject(issues: readonly ConfigIssue[]): void;
}

export function createReloadingConfig(opts: ReloadingConfigOptions): ReloadingConfig {
  const { errors, reloads } = configReloadMetrics(opts.registry);
  const log = opts.logger.child({ component: 'config', origin: opts.origin });

  const embedded = opts.load({});
  if (!embedded.ok) {
    // The built-in defaults are part of the program; failing to load them is a bug, not bad input.
    throw new InjectorError(
      'INJ_ERR_CONFIG_INVALID',
      'the embedded default configuration is invalid',
      {
        details: embedded.issues.map((i) => ({ field: i.path, reason: i.message })),
      },
    );
  }
  let currentConfig = embedded.config;
  let loadedOnce = false;
  let lastAttempt: string | undefined;

  function reject(issues: readonly ConfigIssue[]): void {
    errors.inc();
    for (const issue of issues) {
      log.error({ path: issue.path, reason: issue.message }, 'configuration rejected');
    }
    log.error(
      { issues: issues.length, keptLastGood: loadedOnce },
      loadedOnce
        ? 'configuration change rejected; keeping the last good configuration'
        : 'initial configuration rejected; not ready until it is fixed',
    );
  }

  return {
    current: () => currentConfig,
    reject(issues: readonly ConfigIssue[]): void {
      // The next readable input must be parsed even if it equals the last one attempted.
      lastAttempt = undefined;
      reject(issues);
    },
    ready: () => loadedOnce,
    apply(sources: ConfigSources): boolean {
      const key = JSON.stringify([
        sources.config ?? null,
        sources.values ?? null,
        sources.mesh ?? null,
      ]);
      if (key === lastAttempt) return false;
      lastAttempt = key;
      let result: ConfigResult;
      try {
        result = opts.load(sources);
      } catch (err: unknown) {
        result = { ok: false, issues: [{ path: '', message: `loader failed: ${String(err)}` }] };
      }
      if (!result.ok) {
        reject(result.issues);
        return false;
      }
      currentConfig = result.config;
      if (loadedOnce) reloads.inc();
      loadedOnce = true;
      log.info(
        {
          policy: currentConfig.injector.policy,
          keys: Object.keys(sources).filter((k) => sources[k as keyof ConfigSources] !== undefined),
        },
        'configuration loaded',
      );
      return true;
    },
  };
}

/** Adapts a ReloadingConfig plus a close function to the `ConfigProvider` port. */
export function asConfigProvider(
  reloading: ReloadingConfig,
  close: () => Promise<void>,
): ConfigProvider {
  return { current: () => reloading.current(), ready: () => reloading.ready(), close };
}
