import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseConfigSource, readConfigOnce } from '../../src/config-sources/choose.js';

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

describe('readConfigOnce (the offline commands)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
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
