/**
 * Configuration that does not change while the server runs: the embedded default, or the files of
 * a `--config-dir` read once at startup. Parsed once here, never per request.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InjectorError } from '../errors.js';
import { configError, loadInjectionConfig } from '../core/config/load.js';
import type { InjectionConfig } from '../core/config/types.js';
import type { ConfigProvider, ConfigSources } from '../core/contracts.js';

/** File names inside a config directory, as mounted from Istio's ConfigMaps. */
export const CONFIG_DIR_FILES = ['config', 'values', 'mesh'] as const;

/**
 * Reads `config`, `values` and `mesh` from `dir` (each optional). Throws INJ_ERR_CONFIG_INVALID
 * when the directory cannot be read or a present file cannot be read.
 */
export async function readConfigDir(dir: string): Promise<ConfigSources> {
  const sources: ConfigSources = {};
  const problems: string[] = [];
  try {
    if (!(await stat(dir)).isDirectory()) problems.push(`${dir}: not a directory`);
  } catch (error) {
    problems.push(`${dir}: ${(error as Error).message}`);
  }
  if (problems.length === 0) {
    await Promise.all(
      CONFIG_DIR_FILES.map(async (name) => {
        try {
          sources[name] = await readFile(join(dir, name), 'utf8');
        } catch (error) {
          // Each file is optional: a missing one means the embedded default for that input.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          problems.push(`${join(dir, name)}: ${(error as Error).message}`);
        }
      }),
    );
  }
  if (problems.length > 0) {
    throw new InjectorError(
      'INJ_ERR_CONFIG_INVALID',
      `--config-dir cannot be read:\n${problems.join('\n')}`,
      { details: problems.map((p) => ({ field: '--config-dir', reason: p })) },
    );
  }
  return sources;
}

/** Parses `sources` once; throws INJ_ERR_CONFIG_INVALID listing every problem by path. */
export function loadStaticConfig(
  sources: ConfigSources,
  options: { revision?: string } = {},
): InjectionConfig {
  const result = loadInjectionConfig(
    sources,
    options.revision === undefined ? {} : { revision: options.revision },
  );
  if (!result.ok) throw configError(result.issues);
  return result.config;
}

/** A provider over one fixed configuration. */
export function createStaticConfigProvider(config: InjectionConfig): ConfigProvider {
  return {
    current: () => config,
    ready: () => true,
    close: () => Promise.resolve(),
  };
}
