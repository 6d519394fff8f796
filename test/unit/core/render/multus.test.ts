import { describe, expect, it } from 'vitest';
import { appendMultusNetwork } from '../../../../src/core/render/multus.js';
import { cases } from './corpus.js';

interface MultusCase {
  in: string;
  want: string;
}

const transcribed = cases().webhookTests['TestAppendMultusNetwork (inject_test.go)'] as unknown as {
  network: string;
  cases: MultusCase[];
};
// The last transcribed row describes a multi-line array in prose; it is covered below.
const literalRows = transcribed.cases.filter((c) => !c.in.startsWith('multi-line'));

describe('appendMultusNetwork (cases.json TestAppendMultusNetwork)', () => {
  it.each(literalRows.map((c) => [c.in, c.want] as const))('%j -> %j', (input, want) => {
    expect(appendMultusNetwork(input, transcribed.network)).toBe(want);
  });

  it.each(literalRows.map((c) => [c.in] as const))('is idempotent for %j', (input) => {
    const once = appendMultusNetwork(input, transcribed.network);
    expect(appendMultusNetwork(once, transcribed.network)).toBe(once);
  });

  it('inserts before the last bracket of a multi-line JSON array', () => {
    const input = '[\n  {"name": "macvlan-conf-1"}\n]';
    expect(appendMultusNetwork(input, 'istio-cni')).toBe(
      '[\n  {"name": "macvlan-conf-1"}\n, {"name": "istio-cni"}]',
    );
  });
});

describe('appendMultusNetwork with the namespaced network the sidecar template uses', () => {
  it.each([
    ['', 'default/istio-cni'],
    ['macvlan', 'macvlan, default/istio-cni'],
    ['default/istio-cni', 'default/istio-cni'],
    ['macvlan,  default/istio-cni ', 'macvlan,  default/istio-cni '],
    ['[{"name": "a"}]', '[{"name": "a"}, {"name": "istio-cni", "namespace": "default"}]'],
    [
      '[{"name":"istio-cni","namespace":"default"}]',
      '[{"name":"istio-cni","namespace":"default"}]',
    ],
    [
      '[{"name":"istio-cni"}]',
      '[{"name":"istio-cni"}, {"name": "istio-cni", "namespace": "default"}]',
    ],
    ['[]', '[{"name": "istio-cni", "namespace": "default"}]'],
    ['[not json]', '[not json]'],
    ['{"name": "x]"}', '{"name": "x]"}'],
  ])('%j -> %j', (input, want) => {
    expect(appendMultusNetwork(input, 'default/istio-cni')).toBe(want);
  });
});
