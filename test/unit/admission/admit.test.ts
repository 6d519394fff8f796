import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admit, admitNow, type AdmissionSources } from '../../../src/admission/admit.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import type { NamespaceInfo, NamespaceResolver } from '../../../src/core/contracts.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { applyPatchStrict } from '../../../src/core/patch/apply-strict.js';
import { parseAdmissionReview } from '../../../src/core/review-envelope.js';
import { staticProvider } from '../http/harness.js';
import { makeReview } from '../../helpers/review.js';

const config = staticProvider(defaultInjectionConfig());

function request(budgetMs: number, path = '/inject') {
  const now = () => performance.now();
  return { review: parseAdmissionReview(makeReview()), path, deadline: now() + budgetMs, now };
}

function patched(result: Awaited<ReturnType<typeof admit>>): Pod {
  const pod = (makeReview().request as { object: Pod }).object;
  const text = Buffer.from(result.response.response.patch ?? '', 'base64').toString('utf8');
  return applyPatchStrict<Pod>(pod, JSON.parse(text) as never);
}

describe('admit: the namespace lookup is raced once against the deadline', () => {
  it('a lookup that never answers is cut at the deadline: INJ_ERR_DEADLINE_EXCEEDED', async () => {
    const hanging: NamespaceResolver = { resolve: () => new Promise(() => undefined) };
    const started = performance.now();
    const result = await admit(request(30), { config, namespaces: hanging });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result.response.response.allowed).toBe(false);
    expect(result.response.response.status?.message).toMatch(
      /^INJ_ERR_DEADLINE_EXCEEDED: .*while resolving the namespace/,
    );
    expect(result.outcome.namespaceSource).toBe('unavailable');
  });

  it('a deadline already passed denies without waiting on the resolver', async () => {
    let asked = 0;
    const resolver: NamespaceResolver = {
      resolve: () => {
        asked += 1;
        return Promise.resolve({ source: 'cache' });
      },
    };
    const result = await admit(request(0), { config, namespaces: resolver });
    expect(result.outcome.errorCode).toBe('INJ_ERR_DEADLINE_EXCEEDED');
    expect(asked).toBe(0);
  });

  it('a resolver that throws counts as unavailable and the pod is injected', async () => {
    const failing: NamespaceResolver = { resolve: () => Promise.reject(new Error('refused')) };
    const result = await admit(request(5_000), { config, namespaces: failing });
    expect(result.outcome).toMatchObject({ decision: 'injected', namespaceSource: 'unavailable' });
  });

  it('the resolved namespace reaches the selectors and the facts provider', async () => {
    const seen: (NamespaceInfo | undefined)[] = [];
    const sources: AdmissionSources = {
      config,
      namespaces: {
        resolve: (name) =>
          Promise.resolve({
            source: 'api',
            namespace: { name, labels: { 'istio-injection': 'enabled' }, annotations: {} },
          }),
      },
      facts: {
        factsFor: (_pod, namespace) => {
          seen.push(namespace);
          return { nativeSidecars: true };
        },
      },
    };
    const result = await admit(request(5_000), sources);
    expect(result.outcome).toMatchObject({ decision: 'injected', namespaceSource: 'api' });
    expect(seen.map((ns) => ns?.labels)).toEqual([{ 'istio-injection': 'enabled' }]);
    // The provider's native-sidecar fact was used: the proxy is an init container.
    expect(patched(result).spec?.initContainers?.map((c) => c.name)).toContain('istio-proxy');
  });
});

describe('admit: offline sources', () => {
  it('uses the static facts and the URL path parameters', async () => {
    const result = await admit(request(5_000, '/inject/cluster/c1'), {
      config,
      staticFacts: { nativeSidecars: false },
    });
    expect(result.outcome.namespaceSource).toBeUndefined();
    const proxy = patched(result).spec?.containers?.find((c) => c.name === 'istio-proxy');
    expect(proxy?.env).toContainEqual({ name: 'ISTIO_META_CLUSTER_ID', value: 'c1' });
  });
});

describe('admitNow: the answer without waiting is the answer admit gives', () => {
  it('for cached and uncached namespaces, passed and open deadlines, any operation and path', async () => {
    const labels = fc.dictionary(
      fc.constantFrom('istio-injection', 'istio.io/rev', 'team'),
      fc.constantFrom('enabled', 'disabled', 'default', 'x'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          mode: fc.constantFrom('offline', 'cached', 'uncached', 'no-cache-method'),
          labels,
          operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE'),
          budgetMs: fc.constantFrom(0, 5_000),
          path: fc.constantFrom('/inject', '/inject/cluster/c1/net/n1'),
          dryRun: fc.boolean(),
        }),
        async ({ mode, labels: nsLabels, operation, budgetMs, path, dryRun }) => {
          const info = { name: 'default', labels: nsLabels, annotations: {} };
          const lookups: string[] = [];
          const namespaces: NamespaceResolver = {
            resolve: () => {
              lookups.push('resolve');
              return Promise.resolve({ namespace: info, source: 'api' });
            },
            ...(mode === 'no-cache-method'
              ? {}
              : {
                  resolveCached: () => {
                    lookups.push('cached');
                    return mode === 'cached' ? { namespace: info, source: 'cache' } : undefined;
                  },
                }),
          };
          const sources: AdmissionSources =
            mode === 'offline'
              ? { config, staticFacts: { nativeSidecars: false } }
              : { config, namespaces };
          const now = () => 1_000;
          const req = {
            review: parseAdmissionReview(makeReview({ request: { operation, dryRun } })),
            path,
            deadline: 1_000 + budgetMs,
            now,
          };
          const sync = admitNow(req, sources);
          const viaAdmit = await admit(req, sources);
          const podCreate = operation === 'CREATE';
          if (mode === 'offline' || !podCreate) expect(sync).toBeDefined();
          if (mode === 'uncached' || mode === 'no-cache-method' || budgetMs === 0) {
            if (mode !== 'offline' && podCreate) expect(sync).toBeUndefined();
          }
          if (sync === undefined) return;
          // admit resolved through `resolve` ('api'); the cache says 'cache': the rest is equal.
          const strip = (r: typeof viaAdmit) =>
            JSON.stringify({ ...r, outcome: { ...r.outcome, namespaceSource: undefined } });
          expect(strip(sync)).toBe(strip(viaAdmit));
          if (mode === 'cached' && podCreate) expect(sync.outcome.namespaceSource).toBe('cache');
        },
      ),
      { numRuns: 200 },
    );
  });
});
