import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  chooseConfigSource,
  chooseProxyConfigSource,
  readConfigOnce,
} from '../../../src/config-sources/choose.js';
import { InjectorError } from '../../../src/errors.js';

describe('chooseConfigSource: one precedence for every command', () => {
  it.each([
    [{ configDir: '/d', cluster: true }, 'config-dir'],
    [{ configDir: '/d', cluster: false }, 'config-dir'],
    [{ cluster: true }, 'cluster'],
    [{ configDir: undefined, cluster: true }, 'cluster'],
    [{ cluster: false }, 'embedded'],
  ] as const)('%o -> %s', (request, want) => {
    expect(chooseConfigSource(request)).toBe(want);
  });
});

describe('chooseProxyConfigSource: where ProxyConfig resources come from', () => {
  it.each([
    [{ command: 'serve', cluster: true }, 'cluster'],
    [{ command: 'serve', cluster: false }, 'none'],
    [{ command: 'inject', cluster: true }, 'documents'],
    [{ command: 'inject', cluster: false }, 'documents'],
    [{ command: 'check', cluster: true }, 'none'],
  ] as const)('%o -> %s', (request, want) => {
    expect(chooseProxyConfigSource(request)).toBe(want);
  });
});

describe('readConfigOnce (the offline commands)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('--config-dir with none of config, values, mesh is an error naming the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'choose-empty-'));
    dirs.push(dir);
    await writeFile(join(dir, 'config.yaml'), 'policy: disabled\n'); // a near miss: not `config`
    const error = await readConfigOnce({ configDir: dir, istioNamespace: 'x', revision: '' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InjectorError);
    expect((error as InjectorError).code).toBe('INJ_ERR_CONFIG_DIR_EMPTY');
    expect((error as InjectorError).exitCode).toBe(2);
    expect((error as InjectorError).message).toContain(dir);
  });

  it('single files replace their input of the chosen source', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'choose-files-'));
    dirs.push(dir);
    await writeFile(join(dir, 'mesh'), 'from: dir\n');
    await writeFile(join(dir, 'values'), 'from: dir-values\n');
    await writeFile(join(dir, 'my-mesh.yaml'), 'from: file\n');
    await writeFile(join(dir, 'my-config.yaml'), 'policy: disabled\n');
    const files = { mesh: join(dir, 'my-mesh.yaml'), config: join(dir, 'my-config.yaml') };
    expect(
      await readConfigOnce({ configDir: dir, files, istioNamespace: 'x', revision: '' }),
    ).toEqual({ mesh: 'from: file\n', values: 'from: dir-values\n', config: 'policy: disabled\n' });
    // Over the embedded default too.
    expect(await readConfigOnce({ files, istioNamespace: 'x', revision: '' })).toEqual({
      mesh: 'from: file\n',
      config: 'policy: disabled\n',
    });
  });

  it('an unreadable single file names its flag and path', async () => {
    const missing = join(tmpdir(), 'no-such-values-file');
    await expect(
      readConfigOnce({ files: { values: missing }, istioNamespace: 'x', revision: '' }),
    ).rejects.toThrow(`--values-file ${missing}`);
  });

  it('reads nothing for the embedded default', async () => {
    expect(await readConfigOnce({ istioNamespace: 'istio-system', revision: '' })).toEqual({});
  });

  it('reads the files of --config-dir, even when a kubeconfig is given too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'choose-'));
    dirs.push(dir);
    await writeFile(join(dir, 'mesh'), 'defaultConfig: {}\n');
    const sources = await readConfigOnce({
      configDir: dir,
      kubeconfig: join(dir, 'no-such-kubeconfig'),
      istioNamespace: 'istio-system',
      revision: '',
    });
    expect(sources).toEqual({ mesh: 'defaultConfig: {}\n' });
  });
});
