import { readFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  METRIC_DEFINITIONS,
  clusterMetrics,
  configReloadMetrics,
  createMetrics,
  podAuditMetrics,
  webhookAuditMetrics,
  reviewEventMetrics,
} from '../../../src/metrics/registry.js';

const README = new URL('../../../README.md', import.meta.url);

/** Metric names in the README's "Endpoints and metrics" section, with their labels. */
async function documentedMetrics(): Promise<Map<string, string[]>> {
  const text = await readFile(README, 'utf8');
  const section = text.split(/^## Endpoints and metrics$/m)[1]?.split(/^## /m)[0] ?? '';
  const found = new Map<string, string[]>();
  for (const match of section.matchAll(
    /`(sidecar_inject(?:ion|or)_[a-z_]+)(?:\{([a-z_,]+)\})?`/g,
  )) {
    found.set(match[1] ?? '', match[2] === undefined ? [] : match[2].split(','));
  }
  return found;
}

describe('metrics registry', () => {
  it('every metric is named in the README with its labels', async () => {
    const documented = await documentedMetrics();
    for (const { name, labelNames } of Object.values(METRIC_DEFINITIONS)) {
      expect(documented.get(name), `${name} missing from README`).toEqual([...labelNames]);
    }
  });

  it('every metric the README names exists', async () => {
    const documented = await documentedMetrics();
    const names = Object.values(METRIC_DEFINITIONS).map((d) => d.name);
    expect(documented.size).toBeGreaterThan(0);
    for (const name of documented.keys()) expect(names, `${name} not defined`).toContain(name);
  });

  it('follows the prefix scheme', () => {
    for (const { kind, name } of Object.values(METRIC_DEFINITIONS)) {
      // Counters end in _total, durations in _seconds; gauges (states, not events) need neither.
      expect(name).toMatch(/^sidecar_inject(ion|or)_[a-z]+(_[a-z]+)*$/);
      expect(name.endsWith('_total'), name).toBe(kind === 'counter');
      if (kind === 'histogram') expect(name).toMatch(/_seconds$/);
    }
  });

  it('creates every metric on the given registry, shared ones only once', async () => {
    const registry = new Registry();
    createMetrics({ registry, processMetrics: false });
    const first = configReloadMetrics(registry);
    expect(configReloadMetrics(registry).errors).toBe(first.errors);
    expect(podAuditMetrics(registry).missing).toBe(podAuditMetrics(registry).missing);
    webhookAuditMetrics(registry);
    expect(reviewEventMetrics(registry).events).toBe(reviewEventMetrics(registry).events);
    expect(clusterMetrics(registry).informerRestarts).toBe(
      clusterMetrics(registry).informerRestarts,
    );
    const registered = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(registered).toEqual(
      Object.values(METRIC_DEFINITIONS)
        .map((d) => d.name)
        .sort(),
    );
  });
});
