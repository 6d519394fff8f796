/**
 * The NODE_OPTIONS the Deployment ships (manifests/base, the chart's default renders the same:
 * test/helm/chart.test.ts) must start Node 24, the image's Node: Node refuses a V8 flag outside
 * its NODE_OPTIONS allow-list (e.g. --min-semi-space-size) and exits before the server runs, and
 * no API-server-only test would notice, since no kubelet runs the pod there.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { shippedServerEnv } from '../../bench/shipped-env.js';
import { ROOT } from '../helpers/tools.js';

const NODE = join(ROOT, 'node_modules/.bin/node');

/** Runs `script` under Node 24 with `options` as NODE_OPTIONS. */
function nodeWith(
  options: string,
  script: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, NODE_OPTIONS: options };
    execFile(NODE, ['-e', script], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

const HEAP_LIMIT =
  "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit))";

describe('the Deployment’s NODE_OPTIONS', async () => {
  const options = (await shippedServerEnv(ROOT)).NODE_OPTIONS ?? '';

  it('Node 24 accepts them and starts, with the old-generation cap they set', async () => {
    expect(options).toMatch(/--max-old-space-size=\d+/);
    const result = await nodeWith(options, HEAP_LIMIT);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // heap_size_limit is the old generation's cap plus the young generation's.
    const cap = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
    const limitMiB = Number(result.stdout) / 2 ** 20;
    expect(limitMiB).toBeGreaterThanOrEqual(cap);
    expect(limitMiB).toBeLessThan(cap + 64);
  });

  it('a flag Node refuses there fails the same start (the check is live)', async () => {
    const refused = await nodeWith(`${options} --min-semi-space-size=8`, '0');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--min-semi-space-size.* is not allowed in NODE_OPTIONS/);
  });
});
