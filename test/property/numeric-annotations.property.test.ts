/**
 * Property: numeric annotation and namespace values are range-checked as Kubernetes types the
 * fields they end in (probe fields int32 >= 0, ports 1-65535, runAsUser/runAsGroup 0-2147483647).
 * Whatever the numbers, a review is either refused with INJ_ERR_INVALID_ANNOTATION naming an
 * annotation whose value is out of its range, or answered with a patch whose pod has every number
 * in the range the API server checks (test/helpers/pod-ranges.ts). Denser in numbers than the
 * general property (admission.property.test.ts): every review carries several of them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operation } from 'fast-json-patch';
import { applyPatchStrict } from '../../src/core/patch/apply-strict.js';
import type { JsonObject, JsonValue } from '../../src/core/json.js';
import { review } from '../helpers/admission-invariants.js';
import { podRangeProblems } from '../helpers/pod-ranges.js';

const runs = Math.max(500, Math.floor(Number(process.env['INJECTOR_PROPERTY_RUNS'] ?? 2000) / 4));
const seed = Number(process.env['INJECTOR_PROPERTY_SEED']?.slice(0, 8) ?? '') || 20_261_202;

const INT32_MAX = 2_147_483_647;
const PROBE_KEYS = [
  'readiness.status.sidecar.istio.io/periodSeconds',
  'readiness.status.sidecar.istio.io/initialDelaySeconds',
  'readiness.status.sidecar.istio.io/failureThreshold',
];
const STATUS_PORT = 'status.sidecar.istio.io/port';

/** Decimal texts around every boundary, with the spellings a user may write. */
const boundary = fc.oneof(
  fc.constantFrom(0, 1, 65_535, 65_536, INT32_MAX, INT32_MAX + 1, 2 ** 32, 2 ** 53 + 1),
  fc.integer({ min: 0, max: 70_000 }),
  fc.integer({ min: INT32_MAX - 3, max: INT32_MAX + 3 }),
);
const numberText = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 65_535 }).map(String) },
  boundary.map(String),
  boundary.map((n) => `0${n}`),
  boundary.map((n) => ` ${n}`),
  fc.constantFrom('-1', '+5', '1e3', '0x10', '1.5', ''),
);

/** OpenShift SCC ranges (`start/size`, `start-end`) ending on either side of int32. */
const sccRange = fc.oneof(
  fc.tuple(boundary, fc.integer({ min: 0, max: 20_000 })).map(([s, n]) => `${s}/${n}`),
  fc.tuple(boundary, boundary).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
);

const scenario = fc.record({
  annotations: fc.record(
    {
      [STATUS_PORT]: numberText,
      [PROBE_KEYS[0]!]: numberText,
      [PROBE_KEYS[1]!]: numberText,
      [PROBE_KEYS[2]!]: numberText,
      'inject.istio.io/templates': fc.constantFrom(
        'sidecar',
        'grpc-agent',
        'gateway',
        'grpc-simple',
      ),
    },
    { requiredKeys: [] },
  ),
  openshift: fc.option(
    fc.record(
      {
        'openshift.io/sa.scc.uid-range': sccRange,
        'openshift.io/sa.scc.supplemental-groups': sccRange,
      },
      { requiredKeys: [] },
    ),
  ),
  probe: fc.constantFrom('port', 'named', 'none'),
  nativeSidecars: fc.boolean(),
});

/** Whether Kubernetes' type for the annotation's field holds the value (int32 >= 0, port). */
function outOfRange(key: string, value: string): boolean {
  const n = /^\d+$/.test(key === STATUS_PORT ? value.trim() : value) ? Number(value) : NaN;
  return key === STATUS_PORT ? !(n >= 0 && n <= 65_535) : !(n >= 0 && n <= INT32_MAX);
}

/** A status port istiod's probe rewrite reads as 0 (strconv.Atoi): a probe there is refused. */
function readAsZero(value: string): boolean {
  return !/^[+-]?\d+$/.test(value) || Number(value) === 0;
}

describe('numeric annotations and namespace ranges', () => {
  it(`end in fields Kubernetes accepts, or are refused by name (${runs} reviews, seed ${seed})`, () => {
    let injected = 0;
    let refused = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const container: JsonObject = {
          name: 'app',
          image: 'nginx',
          ports: [{ containerPort: 8080 }],
        };
        if (s.probe !== 'none') {
          container['readinessProbe'] = {
            httpGet: { path: '/ready', port: s.probe === 'port' ? 8080 : 'http' },
          };
        }
        const pod: JsonObject = {
          metadata: { name: 'p', namespace: 'default', annotations: s.annotations },
          spec: { containers: [container] },
        };
        const body = JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: {
            uid: 'u',
            kind: { group: '', version: 'v1', kind: 'Pod' },
            resource: { group: '', version: 'v1', resource: 'pods' },
            operation: 'CREATE',
            namespace: 'default',
            object: pod,
          },
        });
        const { result } = review({
          body,
          pod,
          pristine: true,
          nativeSidecars: s.nativeSidecars,
          timeoutMs: 10_000,
          ...(s.openshift === null ? {} : { openshift: s.openshift }),
        });
        const response = result?.response.response;
        expect(response).toBeDefined();
        const bad = Object.entries(s.annotations).filter(
          ([k, v]) => k !== 'inject.istio.io/templates' && outOfRange(k, v ?? ''),
        );
        // Also refused when the template rewrites the probe to a status port read as 0.
        const zeroPort = readAsZero(s.annotations[STATUS_PORT] ?? '15020') && s.probe !== 'none';
        if (response?.allowed !== true) {
          refused++;
          const message = response?.status?.message ?? '';
          expect(message).toMatch(/^INJ_ERR_INVALID_ANNOTATION/);
          expect(
            bad.some(([k]) => message.includes(k)) ||
              (zeroPort && message.includes(`'${STATUS_PORT}'`)),
          ).toBe(true);
          return;
        }
        // Accepted: no annotation was out of range, and every number of the result is in range.
        expect(bad).toEqual([]);
        injected++;
        const ops = JSON.parse(
          Buffer.from(response.patch ?? '', 'base64').toString('utf8') || '[]',
        ) as Operation[];
        const patched = applyPatchStrict(pod as JsonValue, ops);
        expect(podRangeProblems(patched)).toEqual([]);
      }),
      { numRuns: runs, seed },
    );
    console.log(`numeric annotations: ${injected} injected, ${refused} refused by name`);
    expect(injected).toBeGreaterThan(runs / 10);
    expect(refused).toBeGreaterThan(runs / 10);
  }, 120_000);
});
