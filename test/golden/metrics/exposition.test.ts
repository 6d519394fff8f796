/**
 * The /metrics text of a fresh registry holding every metric: names, help texts, types, label
 * names and bucket bounds, byte for byte, as dashboards and alerts read them.
 * `UPDATE_GOLDEN=1` rewrites `exposition.txt`.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  METRIC_DEFINITIONS,
  clusterMetrics,
  configReloadMetrics,
  createMetrics,
  podAuditMetrics,
  reviewEventMetrics,
  webhookAuditMetrics,
} from '../../../src/metrics/registry.js';

const GOLDEN = fileURLToPath(new URL('./exposition.txt', import.meta.url));

describe('metrics exposition', () => {
  it('is the golden text', async () => {
    const registry = new Registry();
    createMetrics({ registry, processMetrics: false });
    configReloadMetrics(registry);
    clusterMetrics(registry);
    podAuditMetrics(registry);
    webhookAuditMetrics(registry);
    const events = reviewEventMetrics(registry).events;
    // A labelled metric prints its labels only once observed.
    events.inc({ result: 'sent' });
    const text = await registry.metrics();
    expect(text.match(/^# TYPE /gm)).toHaveLength(Object.keys(METRIC_DEFINITIONS).length);
    if (process.env.UPDATE_GOLDEN === '1') {
      await writeFile(GOLDEN, text);
      return;
    }
    expect(existsSync(GOLDEN), 'exposition.txt is missing: run with UPDATE_GOLDEN=1').toBe(true);
    expect(text).toBe(await readFile(GOLDEN, 'utf8'));
  });
});
