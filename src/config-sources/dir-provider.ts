/**
 * `ConfigProvider` over a `--config-dir` holding `config`, `values` and `mesh` files, typically the
 * ConfigMaps mounted as volumes. The kubelet updates such a volume by writing a new timestamped
 * directory and swapping the `..data` symlink, so the directory itself is watched (a watch on the
 * files would keep following the old inode). Bursts of events are debounced, then all files re-read.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { loadInjectionConfig } from '../core/config/load.js';
import { InjectorError, errorReason } from '../errors.js';
import type { ConfigProvider, ConfigSources } from '../core/contracts.js';
import { createReloadingConfig, type ConfigLoader } from './reloading.js';
import { readConfigDir } from './static.js';

/** Quiet time after the last filesystem event before re-reading (the symlink swap is several events). */
export const DIR_DEBOUNCE_MS = 100;

export interface DirConfigProviderOptions {
  logger: Logger;
  registry: Registry;
  /** The injector's revision (empty: from values, else `default`). */
  revision?: string;
  /** Replaces the core loader (tests). */
  load?: ConfigLoader;
  debounceMs?: number;
}

export async function createDirConfigProvider(
  dir: string,
  opts: DirConfigProviderOptions,
): Promise<ConfigProvider> {
  const log = opts.logger.child({ component: 'config-dir', dir });
  const revision = opts.revision ?? '';
  const reloading = createReloadingConfig({
    load: opts.load ?? ((s) => loadInjectionConfig(s, revision === '' ? {} : { revision })),
    logger: opts.logger,
    registry: opts.registry,
    origin: `dir:${dir}`,
  });
  const stats = await stat(dir).catch((err: unknown) => {
    throw new InjectorError(
      'INJ_ERR_CLI_USAGE',
      `--config-dir ${dir} cannot be read: ${String(err)}`,
      {
        cause: err,
      },
    );
  });
  if (!stats.isDirectory()) {
    throw new InjectorError('INJ_ERR_CLI_USAGE', `--config-dir ${dir} is not a directory`);
  }

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  async function readSources(): Promise<ConfigSources | undefined> {
    try {
      return await readConfigDir(dir);
    } catch (err: unknown) {
      log.error({ err }, 'configuration directory could not be read');
      reloading.reject([{ path: dir, message: errorReason(err) }]);
      return undefined;
    }
  }

  async function reload(): Promise<void> {
    do {
      again = false;
      const sources = await readSources();
      if (sources !== undefined && !closed) reloading.apply(sources);
    } while (again && !closed);
  }

  function trigger(): void {
    timer = undefined;
    if (closed) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = reload().finally(() => {
      running = undefined;
    });
  }

  await reload();
  const watcher: FSWatcher = watch(dir, { persistent: false }, () => {
    clearTimeout(timer);
    timer = setTimeout(trigger, opts.debounceMs ?? DIR_DEBOUNCE_MS);
    timer.unref();
  });
  watcher.on('error', (err) => log.warn({ err }, 'configuration directory watch failed'));

  return {
    current: () => reloading.current(),
    ready: () => reloading.ready(),
    async close(): Promise<void> {
      closed = true;
      clearTimeout(timer);
      watcher.close();
      await running;
    },
  };
}
