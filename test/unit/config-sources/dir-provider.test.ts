import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, rename, symlink, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createDirConfigProvider } from '../../../src/config-sources/dir-provider.js';
import { isInjectorError } from '../../../src/errors.js';
import type { ConfigProvider } from '../../../src/core/contracts.js';
import { eventually, memoryLogger, tempDir } from '../../helpers/async.js';

/**
 * Lays files out the way the kubelet does for a ConfigMap volume: `..<timestamp>/<key>` directories,
 * a `..data` symlink to the current one, and `<key> -> ..data/<key>` links. An update writes a new
 * timestamped directory and atomically renames a fresh symlink over `..data`.
 */
class ConfigMapVolume {
  private generation = 0;
  constructor(readonly dir: string) {}

  async write(files: Record<string, string>): Promise<void> {
    this.generation += 1;
    const version = `..2026_11_22_00_00_0${this.generation}`;
    await mkdir(join(this.dir, version));
    for (const [key, text] of Object.entries(files)) {
      await writeFile(join(this.dir, version, key), text);
    }
    await symlink(version, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const key of ['config', 'values', 'mesh']) {
      await symlink(join('..data', key), join(this.dir, key)).catch(() => undefined);
    }
  }
}

async function reloadErrors(registry: Registry): Promise<number> {
  const metric = await registry
    .getSingleMetric('sidecar_injector_config_reload_errors_total')
    ?.get();
  return metric?.values[0]?.value ?? 0;
}

describe('config directory provider', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let provider: ConfigProvider | undefined;
  let registry: Registry;
  let log: ReturnType<typeof memoryLogger>;

  beforeEach(async () => {
    dir = await tempDir();
    registry = new Registry();
    log = memoryLogger();
  });

  afterEach(async () => {
    await provider?.close();
    provider = undefined;
    await dir.cleanup();
  });

  it('loads the files at start and follows a ..data symlink swap', async () => {
    const volume = new ConfigMapVolume(dir.path);
    await volume.write({ config: 'policy: enabled', mesh: 'trustDomain: one.local' });
    const p = await createDirConfigProvider(dir.path, { logger: log.logger, registry });
    provider = p;
    expect(p.ready()).toBe(true);
    expect(p.current().injector.policy).toBe('enabled');
    expect(p.current().mesh.trustDomain).toBe('one.local');
    await volume.write({ config: 'policy: disabled', mesh: 'trustDomain: two.local' });
    await eventually(() => p.current().injector.policy === 'disabled', 'swapped config applied');
    expect(p.current().mesh.trustDomain).toBe('two.local');
  });

  it('keeps the last good configuration when a swap brings a broken file', async () => {
    const volume = new ConfigMapVolume(dir.path);
    await volume.write({ config: 'policy: disabled' });
    const p = await createDirConfigProvider(dir.path, {
      logger: log.logger,
      registry,
      revision: 'canary',
    });
    provider = p;
    expect(p.current().revision).toBe('canary');
    await volume.write({ config: 'policy: [unclosed' });
    await eventually(async () => (await reloadErrors(registry)) === 1, 'reload error counted');
    expect(p.current().injector.policy).toBe('disabled');
    expect(p.ready()).toBe(true);
    expect(
      log.lines().some((l) => l['msg'] === 'configuration rejected' && l['path'] === 'config'),
    ).toBe(true);
  });

  it('picks up plain file writes and a deleted file means the default for that input', async () => {
    await writeFile(join(dir.path, 'config'), 'policy: disabled');
    const p = await createDirConfigProvider(dir.path, {
      logger: log.logger,
      registry,
      debounceMs: 20,
    });
    provider = p;
    expect(p.current().injector.policy).toBe('disabled');
    await rm(join(dir.path, 'config'));
    await eventually(() => p.current().injector.policy === 'enabled', 'default after delete');
  });

  it('starts not ready on a broken directory and becomes ready once fixed', async () => {
    await writeFile(join(dir.path, 'values'), '{ not json');
    const p = await createDirConfigProvider(dir.path, {
      logger: log.logger,
      registry,
      debounceMs: 20,
    });
    provider = p;
    expect(p.ready()).toBe(false);
    expect(await reloadErrors(registry)).toBe(1);
    await writeFile(join(dir.path, 'values'), '{}');
    await eventually(() => p.ready(), 'ready after the fix');
  });

  it('refuses a directory that does not exist', async () => {
    const err: unknown = await createDirConfigProvider(join(dir.path, 'missing'), {
      logger: log.logger,
      registry,
    }).catch((e: unknown) => e);
    expect(isInjectorError(err) && err.code).toBe('INJ_ERR_CLI_USAGE');
  });
});
