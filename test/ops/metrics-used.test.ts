/**
 * Every metric the Grafana dashboard and the PrometheusRule alerts query exists: the names are
 * read from the metrics registry (src/metrics/registry.ts: every metric the process creates is
 * defined there), never from a list kept here. Names still to
 * come are listed in charts/sidecar-injector/pending-metrics.txt and reported.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { METRIC_DEFINITIONS, createMetrics } from '../../src/metrics/registry.js';
import { ROOT } from '../helpers/tools.js';

const CHART = join(ROOT, 'charts/sidecar-injector');
/** Series Prometheus itself writes for every scrape target (prometheus.io docs, "Jobs and instances"). */
const SCRAPE_SERIES = ['up'];

/** PromQL words that are not metric names (https://prometheus.io/docs/prometheus/latest/querying/operators/). */
const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * Metric names in a PromQL expression: every identifier left once strings, label matchers, range
 * and subquery selectors, grouping label lists, function and aggregation calls and keywords are
 * taken out, so a metric written without matchers (`rate(x_total[5m])`) counts too.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  // Not inside a number or a duration (`5m`, `1e3`).
  return [...bare.matchAll(/(?<![a-zA-Z0-9_:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined && !PROMQL_KEYWORDS.has((m[1] ?? '').toLowerCase()))
    .map((m) => m[1] ?? '');
}

async function exportedNames(): Promise<Set<string>> {
  const { registry } = createMetrics();
  const names = new Set<string>([
    ...Object.values(METRIC_DEFINITIONS).map((d) => d.name),
    ...SCRAPE_SERIES,
  ]);
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    // A histogram is queried through its series.
    if (String(m.type) === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
  }
  return names;
}

async function dashboardExprs(): Promise<string[]> {
  const d = JSON.parse(await readFile(join(CHART, 'files/dashboard.json'), 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { query?: { query: string } | string }[] };
  };
  const panels = d.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
  const variables = d.templating.list
    .map((v) => (typeof v.query === 'object' ? v.query.query : ''))
    .filter((q) => q.startsWith('label_values('));
  // label_values(metric, label): the metric is queried, the label is not a metric.
  return [
    ...panels,
    ...variables.map((q) => q.replace(/^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/, '$1')),
  ];
}

/** `expr:` values of the rule template, Go template actions removed (they only add matchers). */
async function alertExprs(): Promise<string[]> {
  const text = await readFile(join(CHART, 'templates/prometheusrule.yaml'), 'utf8');
  const exprs: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const m = /^(\s*)expr:\s?(.*)$/.exec(line);
    if (m === null) return;
    let expr = m[2] === '|-' ? '' : (m[2] ?? '');
    for (let j = i + 1; m[2] === '|-' && j < lines.length; j++) {
      if (!/^\s*$/.test(lines[j] ?? '') && (lines[j] ?? '').search(/\S/) <= (m[1] ?? '').length)
        break;
      expr += `${lines[j] ?? ''}\n`;
    }
    exprs.push(expr.replace(/\{\{.*?\}\}/g, '').trim());
  });
  return exprs;
}

async function pending(): Promise<Map<string, string>> {
  const text = await readFile(join(CHART, 'pending-metrics.txt'), 'utf8');
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [name = '', ...why] = line.trim().split(/\s+/);
    entries.set(name, why.join(' '));
  }
  return entries;
}

describe('metrics used by the dashboard and the alerts', async () => {
  const [exported, dash, alerts, waiting] = await Promise.all([
    exportedNames(),
    dashboardExprs(),
    alertExprs(),
    pending(),
  ]);
  const used = new Set([...dash, ...alerts].flatMap(metricNames));

  it('finds the expressions and a metric in each', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(5);
    expect(dash.length).toBeGreaterThanOrEqual(10);
    for (const e of [...dash, ...alerts]) expect(metricNames(e).length, e).toBeGreaterThan(0);
  });

  it('the name reader sees what PromQL queries (it can fail)', () => {
    expect(metricNames('sum by (le) (rate(a_b_bucket{x="1"}[5m])) / on() b:c {y=~"z"}')).toEqual([
      'a_b_bucket',
      'b:c',
    ]);
    // Without matchers too; labels, strings, durations and functions are not metrics.
    expect(
      metricNames(
        'histogram_quantile(0.99, sum without (pod) (rate(x_bucket[5m]))) > bool on(job) group_left y_total offset 5m or vector(0) + label_replace(z, "a", "b{c}", "d", "e")',
      ),
    ).toEqual(['x_bucket', 'y_total', 'z']);
    expect(exported.has('sidecar_injection_duration_seconds_bucket')).toBe(true);
    expect(exported.has('sidecar_injection_made_up_total')).toBe(false);
  });

  it('every metric used is exported, or listed as pending', () => {
    const missing = [...used].filter((n) => !exported.has(n) && !waiting.has(n));
    expect(missing).toEqual([]);
    const waitingUsed = [...used].filter((n) => waiting.has(n));
    if (waitingUsed.length > 0)
      console.info(
        `metrics used before the server exports them (charts/sidecar-injector/pending-metrics.txt): ${waitingUsed.join(', ')}`,
      );
  });

  it('pending-metrics.txt lists only names that are used and not exported yet', () => {
    for (const name of waiting.keys()) {
      expect(
        exported.has(name),
        `${name} is exported now: remove it from pending-metrics.txt`,
      ).toBe(false);
      expect(used.has(name), `${name} is no longer used: remove it from pending-metrics.txt`).toBe(
        true,
      );
    }
  });

  it('every alert has its runbook section in docs/runbooks.md', async () => {
    const rules = await readFile(join(CHART, 'templates/prometheusrule.yaml'), 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1] ?? '');
    expect(alerts.length).toBeGreaterThanOrEqual(5);
    const runbooks = await readFile(join(ROOT, 'docs/runbooks.md'), 'utf8');
    const sections = new Set([...runbooks.matchAll(/^## (\w+)$/gm)].map((m) => m[1]));
    for (const alert of alerts) expect(sections.has(alert), alert).toBe(true);
    expect(rules).toContain('runbook_url: {{ $runbook }}#');
  });
});
