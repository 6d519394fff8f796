/**
 * `check` applies the same validation as `inject`: for generated pods whose annotations mix valid
 * and invalid values of every validated key, `check` reports a pod as rejected, with the same
 * code, exactly when `inject` refuses it.
 */
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../../src/cli/check.js';
import { runInject } from '../../../src/cli/inject.js';
import { EXIT } from '../../../src/cli/io.js';
import { ANNOTATION_VALIDATORS } from '../../../src/core/annotations/registry.js';
import { captureIO } from '../cli/capture-io.js';

const KEYS = [...ANNOTATION_VALIDATORS.keys()];
/** Values valid for some keys and invalid for others. */
const VALUES = ['true', 'false', '1', '100m', '128Mi', '15000', '10.0.0.0/8', '*', 'x', '-1', ''];
const CHARS = 'abz09-_./,:= *%';

/** A seeded generator (mulberry32), so a failure reproduces from the seed in its message. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Up to three annotations of validated keys, each a listed value or random text. */
function annotationsFor(seed: number): Record<string, string> {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const out: Record<string, string> = {};
  const count = Math.floor(next() * 4);
  for (let i = 0; i < count; i += 1) {
    const value =
      next() < 0.6
        ? pick(VALUES)
        : Array.from({ length: Math.floor(next() * 8) }, () => pick([...CHARS])).join('');
    out[pick(KEYS)] = value;
  }
  return out;
}

function podManifest(annotations: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'shop', annotations },
    spec: { containers: [{ name: 'app', image: 'app' }] },
  });
}

describe('check rejects what inject rejects', () => {
  it('a known bad annotation: inject fails, check says rejected with the reason', async () => {
    const manifest = podManifest({ 'sidecar.istio.io/proxyCPU': 'lots' });
    const inject = captureIO(process.cwd(), manifest);
    expect(await runInject(['-f', '-'], inject)).toBe(EXIT.FAILURE);
    expect(inject.err()).toContain('INJ_ERR_INVALID_ANNOTATION');
    const check = captureIO(process.cwd(), manifest);
    expect(await runCheck(['-f', '-', '-o', 'json'], check)).toBe(EXIT.OK);
    const [result] = JSON.parse(check.out()) as { inject: boolean; reason: string }[];
    expect(result).toMatchObject({ inject: false, reason: 'INJ_ERR_INVALID_ANNOTATION' });
    const text = captureIO(process.cwd(), manifest);
    await runCheck(['-f', '-'], text);
    expect(text.out()).toContain('will be REJECTED');
    expect(text.out()).toContain('sidecar.istio.io/proxyCPU');
  });

  it('for generated annotations, check is rejected exactly when inject fails, same code', async () => {
    let rejections = 0;
    for (let seed = 1; seed <= 80; seed += 1) {
      const annotations = annotationsFor(seed);
      const manifest = podManifest(annotations);
      const inject = captureIO(process.cwd(), manifest);
      const injectCode = await runInject(['-f', '-'], inject);
      const check = captureIO(process.cwd(), manifest);
      expect(await runCheck(['-f', '-', '-o', 'json'], check)).toBe(EXIT.OK);
      const [result] = JSON.parse(check.out()) as {
        inject: boolean;
        reason: string;
        steps: { stage: string; pass: boolean }[];
      }[];
      const rejected = result?.steps.some((s) => s.stage === 'injection' && !s.pass) ?? false;
      const skipped = result?.steps.some((s) => s.stage === 'policy' && !s.pass) ?? false;
      if (skipped) continue; // opted out: neither command validates further
      const context = `seed ${seed}: ${JSON.stringify(annotations)} ${inject.err()}`;
      expect(rejected, context).toBe(injectCode !== EXIT.OK);
      if (rejected) {
        rejections += 1;
        expect(inject.err(), context).toContain(result?.reason ?? '?');
      } else expect(result?.inject, context).toBe(true);
    }
    // The generator reaches both sides.
    expect(rejections).toBeGreaterThan(5);
    expect(rejections).toBeLessThan(75);
  });
});
