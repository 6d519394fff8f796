/** The cluster suite's own arithmetic, checked without a cluster: histogram quantiles and diffs. */
import { describe, expect, it } from 'vitest';
import { counter, differences, histogram, patchesOf, quantile } from './cluster-helpers.js';

const METRICS = `# TYPE apiserver_admission_webhook_admission_duration_seconds histogram
apiserver_admission_webhook_admission_duration_seconds_bucket{name="a.example",operation="CREATE",rejected="false",type="admit",le="0.005"} 2
apiserver_admission_webhook_admission_duration_seconds_bucket{name="a.example",operation="CREATE",rejected="false",type="admit",le="0.025"} 8
apiserver_admission_webhook_admission_duration_seconds_bucket{name="a.example",operation="CREATE",rejected="false",type="admit",le="0.1"} 10
apiserver_admission_webhook_admission_duration_seconds_bucket{name="a.example",operation="CREATE",rejected="false",type="admit",le="+Inf"} 10
apiserver_admission_webhook_admission_duration_seconds_sum{name="a.example",operation="CREATE",rejected="false",type="admit"} 0.2
apiserver_admission_webhook_admission_duration_seconds_count{name="a.example",operation="CREATE",rejected="false",type="admit"} 10
apiserver_admission_webhook_admission_duration_seconds_bucket{name="b.example",operation="CREATE",rejected="false",type="admit",le="0.005"} 100
apiserver_admission_webhook_rejection_count{error_type="calling_webhook_error",name="a.example",operation="CREATE",rejection_code="0",type="admit"} 3
apiserver_admission_webhook_rejection_count{error_type="no_error",name="a.example",operation="CREATE",rejection_code="400",type="admit"} 1
`;

describe('cluster suite helpers', () => {
  it('reads one webhook histogram and interpolates quantiles inside buckets', () => {
    const h = histogram(METRICS, 'apiserver_admission_webhook_admission_duration_seconds', {
      name: 'a.example',
    });
    expect(h.count).toBe(10);
    expect(h.buckets.map((b) => b.count)).toEqual([2, 8, 10, 10]);
    // rank 5 of 10 lies in (0.005, 0.025]: 3 of its 6 observations.
    expect(quantile(h, 0.5)).toBeCloseTo(0.015, 6);
    expect(quantile(h, 0.99)).toBeCloseTo(0.025 + 0.075 * (1.9 / 2), 6);
    expect(
      counter(
        METRICS,
        'apiserver_admission_webhook_rejection_count',
        { name: 'a.example' },
        'error_type',
      ),
    ).toEqual(
      new Map([
        ['calling_webhook_error', 3],
        ['no_error', 1],
      ]),
    );
  });

  it('quantiles are monotonic in q for generated histograms', () => {
    // A small seeded generator (xorshift), so a failure reproduces.
    let state = 0x9e3779b9;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    for (let run = 0; run < 500; run++) {
      let total = 0;
      const buckets = Array.from({ length: 1 + Math.floor(next() * 8) }, (_v, i) => ({
        le: (i + 1) / 100,
        count: (total += Math.floor(next() * 50)),
      }));
      if (total === 0) continue;
      const h = { buckets, count: total, sum: 0 };
      const [lo, hi] = [next(), next()].sort((a, b) => a - b) as [number, number];
      expect(quantile(h, lo)).toBeLessThanOrEqual(quantile(h, hi) + 1e-12);
      expect(quantile(h, hi)).toBeLessThanOrEqual(buckets.at(-1)!.le);
    }
  });

  it('differences is empty for equal JSON and names the path otherwise', () => {
    const doc = { a: [1, { b: 2, 'x/y': null }], c: 'text' };
    expect(differences(doc, structuredClone(doc))).toEqual([]);
    expect(differences({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toEqual(['/a/1/b: 2 != 3']);
    expect(differences({ 'x/y': 1 }, {})).toEqual(['/x~1y: 1 != undefined']);
    expect(differences([1], [1, 2])).toEqual(['/1: undefined != 2']);
  });

  it('orders the audit patch annotations as the API server applied them', () => {
    const entry = (c: string, ops: unknown) =>
      JSON.stringify({ configuration: c, webhook: `${c}.w`, patch: ops, patchType: 'JSONPatch' });
    const patches = patchesOf({
      auditID: 'x',
      stage: 'ResponseComplete',
      verb: 'create',
      annotations: {
        'patch.webhook.admission.k8s.io/round_1_index_0': entry('late', []),
        'patch.webhook.admission.k8s.io/round_0_index_2': entry('ours', [
          { op: 'add', path: '/a', value: 1 },
        ]),
        'patch.webhook.admission.k8s.io/round_0_index_10': entry('last', []),
        'mutation.webhook.admission.k8s.io/round_0_index_2': '{}',
      },
    });
    expect(patches.map((p) => [p.configuration, p.round, p.index])).toEqual([
      ['ours', 0, 2],
      ['last', 0, 10],
      ['late', 1, 0],
    ]);
    expect(patches[0]?.patch).toEqual([{ op: 'add', path: '/a', value: 1 }]);
  });
});
