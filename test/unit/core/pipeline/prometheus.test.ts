import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pod, StringMap } from '../../../../src/core/pod-types.js';
import {
  applyPrometheusMerge,
  applySecurePrometheusAnnotation,
  prometheusMergeEnabled,
  scrapeConfiguration,
} from '../../../../src/core/pipeline/prometheus.js';
import { CONFORMANCE_DIR } from '../../../helpers/shared.js';
import { thrownText } from '../../../helpers/errors.js';

interface Tables {
  TestEnablePrometheusAggregation: {
    cases: {
      meshEnablePrometheusMerge: boolean | null;
      annotation: string | null;
      want: boolean;
    }[];
  };
  TestGetPrometheusScrapeConfigurationMultiTarget: {
    cases: {
      annotations: StringMap;
      wantPort?: string;
      wantPath?: string;
      wantTargets: [string, string][] | null;
    }[];
  };
  TestApplyPrometheusMergeScrapeTargets: {
    cases: { annotations: StringMap; wantError: string | null }[];
  };
}
const tables = (
  JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'cases.json'), 'utf8')) as { webhookTests: Tables }
).webhookTests;

function podWith(annotations: StringMap, env: { name: string; value: string }[] = []): Pod {
  return {
    metadata: { annotations: { ...annotations } },
    spec: { containers: [{ name: 'app' }, { name: 'istio-proxy', env }] },
  };
}

describe('metrics merge switch (TestEnablePrometheusAggregation)', () => {
  it.each(tables.TestEnablePrometheusAggregation.cases)(
    'mesh $meshEnablePrometheusMerge, annotation $annotation -> $want',
    (c) => {
      const annotations: StringMap =
        c.annotation === null ? {} : { 'prometheus.istio.io/merge-metrics': c.annotation };
      expect(
        prometheusMergeEnabled({ enablePrometheusMerge: c.meshEnablePrometheusMerge }, annotations),
      ).toBe(c.want);
    },
  );
});

describe('scrape configuration (TestGetPrometheusScrapeConfigurationMultiTarget)', () => {
  it.each(tables.TestGetPrometheusScrapeConfigurationMultiTarget.cases)('$annotations', (c) => {
    const got = scrapeConfiguration(c.annotations);
    if (c.wantPort !== undefined) expect(got.port).toBe(c.wantPort);
    if (c.wantPath !== undefined) expect(got.path).toBe(c.wantPath);
    expect(got.targets?.map((t) => [t.port, t.path]) ?? null).toEqual(c.wantTargets);
  });
});

describe('applyPrometheusMerge (TestApplyPrometheusMergeScrapeTargets)', () => {
  it.each(tables.TestApplyPrometheusMergeScrapeTargets.cases)('$annotations', (c) => {
    const pod = podWith(c.annotations);
    const run = (): void => applyPrometheusMerge(pod, { enablePrometheusMerge: true }, 15020);
    if (c.wantError !== null) {
      expect(thrownText(run)).toMatch(/INJ_ERR_PROMETHEUS_CONFIG/);
      if (c.wantError.includes('15000')) expect(run).toThrow(/15000 is reserved for Istio/);
      return;
    }
    run();
    if (c.annotations['prometheus.io/port'] === '15020') {
      expect(pod.metadata?.annotations).toEqual(c.annotations);
    } else {
      expect(pod.metadata?.annotations).toEqual({
        'prometheus.io/port': '15020',
        'prometheus.io/path': '/stats/prometheus',
        'prometheus.io/scrape': 'true',
      });
      const env = pod.spec?.containers?.[1]?.env ?? [];
      expect(env).toEqual([
        {
          name: 'ISTIO_PROMETHEUS_ANNOTATIONS',
          value:
            '{"scrape":"true","path":"/metrics","port":"8080","targets":[{"port":"8080","path":"/metrics"},{"port":"9100","path":"/custom"}]}',
        },
      ]);
    }
  });

  it('recognises spelling variants of the scrape annotation and leaves scrape=false pods alone', () => {
    const pod = podWith({ 'prometheus.io.scrape': 'false', 'prometheus.io/port': '9000' });
    applyPrometheusMerge(pod, { enablePrometheusMerge: true }, 15020);
    expect(pod.metadata?.annotations).toEqual({
      'prometheus.io.scrape': 'false',
      'prometheus.io/port': '9000',
    });
  });

  it('rewrites a plain pod to the agent without adding env', () => {
    const pod = podWith({});
    applyPrometheusMerge(pod, { enablePrometheusMerge: true }, 15020);
    expect(pod.metadata?.annotations?.['prometheus.io/port']).toBe('15020');
    expect(pod.spec?.containers?.[1]?.env).toEqual([]);
  });

  it.each([['abc'], ['0'], ['70000'], ['15090']])('rejects prometheus.io/port %s', (port) => {
    expect(
      thrownText(() => applyPrometheusMerge(podWith({ 'prometheus.io/port': port }), {}, 15020)),
    ).toMatch(/INJ_ERR_PROMETHEUS_CONFIG/);
  });
});

describe('applySecurePrometheusAnnotation (TestApplySecurePrometheusAnnotation)', () => {
  it.each<[string, { name: string; value: string }[] | null, StringMap, string | undefined]>([
    [
      'both secure ports',
      [
        { name: 'ENVOY_SECURE_METRICS_PORT', value: '15091' },
        { name: 'ENVOY_SECURE_MERGED_METRICS_PORT', value: '15092' },
      ],
      {},
      '15092',
    ],
    [
      'merged port only',
      [{ name: 'ENVOY_SECURE_MERGED_METRICS_PORT', value: '15092' }],
      {},
      '15092',
    ],
    [
      'user value kept',
      [{ name: 'ENVOY_SECURE_MERGED_METRICS_PORT', value: '15092' }],
      { 'prometheus.istio.io/secure-port': '19999' },
      '19999',
    ],
    ['port 0', [{ name: 'ENVOY_SECURE_MERGED_METRICS_PORT', value: '0' }], {}, undefined],
    ['other env', [{ name: 'SOME_OTHER_VAR', value: 'value' }], {}, undefined],
    ['no istio-proxy', null, {}, undefined],
  ])('%s', (_name, env, annotations, want) => {
    const pod: Pod =
      env === null
        ? { metadata: { annotations: { ...annotations } }, spec: { containers: [{ name: 'app' }] } }
        : podWith(annotations, env);
    applySecurePrometheusAnnotation(pod);
    expect(pod.metadata?.annotations?.['prometheus.istio.io/secure-port']).toBe(want);
  });
});
