import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MESH } from '../../../src/core/config/defaults.js';
import { loadInjectionConfigOrThrow } from '../../../src/core/config/load.js';
import type { MeshConfig } from '../../../src/core/config/types.js';
import { inject } from '../../../src/core/inject.js';
import type { Pod, StringMap } from '../../../src/core/pod-types.js';
import {
  buildProxyConfigSet,
  EMPTY_PROXY_CONFIG_SET,
  isProxyConfigDocument,
  parseProxyConfigResource,
  type ProxyConfigResource,
} from '../../../src/core/proxy-config-resources.js';
import { resolveProxyConfig } from '../../../src/core/proxy-config.js';

const ANNOTATION = 'proxy.istio.io/config';
const API = 'networking.istio.io/v1beta1';

function resource(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  created?: string,
): ProxyConfigResource {
  const parsed = parseProxyConfigResource(
    {
      apiVersion: API,
      kind: 'ProxyConfig',
      metadata: {
        name,
        namespace,
        ...(created === undefined ? {} : { creationTimestamp: created }),
      },
      spec: spec as never,
    },
    'default',
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.resource;
}

describe('parseProxyConfigResource', () => {
  it('reduces a resource to the fields Istio takes from it', () => {
    const r = resource('ns', 'a', {
      selector: { matchLabels: { app: 'x' } },
      concurrency: 0,
      environmentVariables: { A: '1' },
      image: { imageType: 'distroless' },
    });
    expect(r.matchLabels).toEqual({ app: 'x' });
    expect(r.overlay).toEqual({
      concurrency: 0,
      proxyMetadata: { A: '1' },
      image: { imageType: 'distroless' },
    });
    expect(Object.isFrozen(r.overlay)).toBe(true);
  });

  it('no selector is namespace-wide; a selector without labels is kept (it matches nothing) and warned', () => {
    expect(resource('ns', 'a', {}).matchLabels).toBeUndefined();
    expect(resource('ns', 'a', { selector: null }).matchLabels).toBeUndefined();
    const parsed = parseProxyConfigResource(
      { apiVersion: API, kind: 'ProxyConfig', metadata: { name: 'a' }, spec: { selector: {} } },
      'fallback',
    );
    expect(parsed.ok && parsed.resource.matchLabels).toEqual({});
    expect(parsed.ok && parsed.resource.namespace).toBe('fallback');
    expect(parsed.ok && parsed.warnings.join()).toContain('without labels');
  });

  it.each([
    [{ concurrency: -1 }, 'spec.concurrency', 'expected an integer 0-2147483647, got -1'],
    [{ concurrency: '2' }, 'spec.concurrency', 'got "2"'],
    [{ environmentVariables: { A: 1 } }, 'spec.environmentVariables.A', 'expected a string, got 1'],
    [{ environmentVariables: ['A'] }, 'spec.environmentVariables', 'got a list'],
    [{ image: 'distroless' }, 'spec.image', 'expected a map'],
    [{ image: { imageType: 3 } }, 'spec.image.imageType', 'expected a string'],
    [{ selector: { matchLabels: { app: 'x*' } } }, 'spec.selector.matchLabels.app', 'wildcard'],
    [{ selector: { matchLabels: { '': 'x' } } }, 'spec.selector.matchLabels', 'empty key'],
    [{ selector: 'app=x' }, 'spec.selector', 'expected a map'],
  ])('refuses spec %j at %s', (spec, path, message) => {
    const parsed = parseProxyConfigResource(
      { apiVersion: API, kind: 'ProxyConfig', metadata: { name: 'a' }, spec: spec as never },
      'ns',
    );
    expect(parsed.ok).toBe(false);
    const issue = parsed.ok ? undefined : parsed.issues.find((i) => i.path === path);
    expect(issue?.message).toContain(message);
  });

  it('refuses a wrong apiVersion, a missing name and a bad creation time', () => {
    const parsed = parseProxyConfigResource(
      {
        apiVersion: 'networking.istio.io/v1alpha3',
        kind: 'ProxyConfig',
        metadata: { creationTimestamp: 'yesterday' },
      },
      'ns',
    );
    expect(parsed.ok ? [] : parsed.issues.map((i) => i.path)).toEqual([
      'apiVersion',
      'metadata.name',
      'metadata.creationTimestamp',
    ]);
  });

  it('recognises ProxyConfig documents by group and kind', () => {
    expect(isProxyConfigDocument({ apiVersion: API, kind: 'ProxyConfig' })).toBe(true);
    expect(
      isProxyConfigDocument({ apiVersion: 'networking.istio.io/v1', kind: 'ProxyConfig' }),
    ).toBe(true);
    expect(isProxyConfigDocument({ apiVersion: 'apps/v1', kind: 'ProxyConfig' })).toBe(false);
    expect(isProxyConfigDocument({ apiVersion: API, kind: 'Sidecar' })).toBe(false);
  });
});

describe('resolveProxyConfig with ProxyConfig resources (Istio EffectiveProxyConfig)', () => {
  const set = buildProxyConfigSet([
    resource('istio-system', 'root', {
      concurrency: 1,
      environmentVariables: { R: 'root', X: 'r' },
    }),
    resource('shop', 'ns', { concurrency: 2, environmentVariables: { X: 'ns' } }),
    resource('shop', 'web', {
      selector: { matchLabels: { app: 'web' } },
      concurrency: 3,
      image: { imageType: 'distroless' },
    }),
  ]);

  it('root namespace, then the pod namespace, then the annotation, then the workload match', () => {
    const target = { set, namespace: 'shop', labels: { app: 'web', v: '1' } };
    const { proxyConfig, issues } = resolveProxyConfig(
      DEFAULT_MESH,
      { [ANNOTATION]: 'concurrency: 9\nproxyMetadata: {A: ann}\nimage: {imageType: debug}' },
      target,
    );
    expect(issues).toEqual([]);
    // The selected resource wins over the annotation (Istio: "lower priority than the
    // workload-matching ProxyConfig CRs").
    expect(proxyConfig.concurrency).toBe(3);
    expect(proxyConfig.image).toEqual({ imageType: 'distroless' });
    expect(proxyConfig.proxyMetadata).toMatchObject({ R: 'root', X: 'ns', A: 'ann' });
  });

  it('a pod of the root namespace gets the root resource once; others namespaces only the root', () => {
    const inRoot = resolveProxyConfig(
      DEFAULT_MESH,
      {},
      { set, namespace: 'istio-system', labels: {} },
    );
    expect(inRoot.proxyConfig.concurrency).toBe(1);
    const elsewhere = resolveProxyConfig(DEFAULT_MESH, {}, { set, namespace: 'other', labels: {} });
    expect(elsewhere.proxyConfig.concurrency).toBe(1);
    expect(elsewhere.proxyConfig.proxyMetadata).toMatchObject({ R: 'root', X: 'r' });
  });

  it('reads the root namespace from meshConfig.rootNamespace', () => {
    const mesh: MeshConfig = loadInjectionConfigOrThrow({ mesh: 'rootNamespace: shop' }).mesh;
    const { proxyConfig } = resolveProxyConfig(mesh, {}, { set, namespace: 'other', labels: {} });
    expect(proxyConfig.concurrency).toBe(2);
    expect(proxyConfig.proxyMetadata?.['R']).toBeUndefined();
  });

  it('an invalid annotation is still reported with resources present', () => {
    const { issues } = resolveProxyConfig(
      DEFAULT_MESH,
      { [ANNOTATION]: 'concurrency: many' },
      { set, namespace: 'shop', labels: {} },
    );
    expect(issues[0]?.field).toBe(`metadata.annotations[${ANNOTATION}]`);
  });

  it('with no resources the result is the mesh-level object itself', () => {
    const a = resolveProxyConfig(DEFAULT_MESH, {}).proxyConfig;
    const b = resolveProxyConfig(
      DEFAULT_MESH,
      {},
      { set: EMPTY_PROXY_CONFIG_SET, namespace: 'shop', labels: {} },
    ).proxyConfig;
    expect(b).toBe(a);
  });
});

// ------------------------------------------------------------------------------------------------
// Generated resource sets and pods against a model of Istio's precedence, written per field.

const NAMESPACES = ['istio-system', 'shop', 'pay'];
const LABEL_KEYS = ['app', 'v', 'tier'];
const LABEL_VALUES = ['a', 'b'];
const ENV_KEYS = ['E1', 'E2', 'E3'];

interface GenResource {
  namespace: string;
  name: string;
  created: string | undefined;
  selector: 'none' | 'empty' | StringMap;
  concurrency: number | undefined;
  env: StringMap | undefined;
  image: string | undefined;
}

const labelMap = fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...LABEL_VALUES), {
  maxKeys: 3,
});
const envMap = fc.dictionary(fc.constantFrom(...ENV_KEYS), fc.string({ maxLength: 3 }), {
  maxKeys: 3,
});

const genResource: fc.Arbitrary<GenResource> = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  name: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
  // Few distinct times, so ties (broken by name) are common, as with second-precision timestamps.
  created: fc.option(
    fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', '2026-01-02T00:00:00Z'),
    { nil: undefined },
  ),
  selector: fc.oneof(fc.constant('none' as const), fc.constant('empty' as const), labelMap),
  concurrency: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
  env: fc.option(envMap, { nil: undefined }),
  image: fc.option(fc.constantFrom('', 'distroless', 'debug'), { nil: undefined }),
});

function toObject(g: GenResource): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (g.selector === 'empty') spec['selector'] = {};
  else if (g.selector !== 'none') spec['selector'] = { matchLabels: g.selector };
  if (g.concurrency !== undefined) spec['concurrency'] = g.concurrency;
  if (g.env !== undefined) spec['environmentVariables'] = g.env;
  if (g.image !== undefined) spec['image'] = g.image === '' ? {} : { imageType: g.image };
  return {
    apiVersion: API,
    kind: 'ProxyConfig',
    metadata: {
      name: g.name,
      namespace: g.namespace,
      ...(g.created === undefined ? {} : { creationTimestamp: g.created }),
    },
    spec,
  };
}

interface Layer {
  concurrency?: number;
  env?: StringMap;
  image?: { imageType?: string };
}

function layerOf(g: GenResource): Layer {
  const layer: Layer = {};
  if (g.concurrency !== undefined) layer.concurrency = g.concurrency;
  if (g.env !== undefined) layer.env = g.env;
  if (g.image !== undefined) layer.image = g.image === '' ? {} : { imageType: g.image };
  return layer;
}

/** The resource Istio picks among candidates: earliest creation (absent first), then name. */
function pick(candidates: GenResource[]): GenResource | undefined {
  let best: GenResource | undefined;
  for (const c of candidates) {
    if (best === undefined) {
      best = c;
      continue;
    }
    const tc = c.created === undefined ? -Infinity : Date.parse(c.created);
    const tb = best.created === undefined ? -Infinity : Date.parse(best.created);
    if (tc < tb || (tc === tb && c.name < best.name)) best = c;
  }
  return best;
}

/** Highest precedence first, as a reader of Istio's rules would list them. */
function expectedLayers(
  resources: GenResource[],
  namespace: string,
  labels: StringMap,
  annotation: Layer | undefined,
  root: string,
): Layer[] {
  // Later duplicates (same namespace/name) replace earlier ones.
  const byKey = new Map(resources.map((r) => [`${r.namespace}/${r.name}`, r]));
  const all = [...byKey.values()];
  const workload = pick(
    all.filter(
      (r) =>
        r.namespace === namespace &&
        typeof r.selector === 'object' &&
        Object.keys(r.selector).length > 0 &&
        Object.entries(r.selector).every(([k, v]) => labels[k] === v),
    ),
  );
  const own =
    namespace === root
      ? undefined
      : pick(all.filter((r) => r.namespace === namespace && r.selector === 'none'));
  const rootOne = pick(all.filter((r) => r.namespace === root && r.selector === 'none'));
  const layers: Layer[] = [];
  if (workload) layers.push(layerOf(workload));
  if (annotation) layers.push(annotation);
  if (own) layers.push(layerOf(own));
  if (rootOne) layers.push(layerOf(rootOne));
  return layers;
}

describe('generated ProxyConfig sets and pods', () => {
  it('every field comes from the highest-precedence layer that sets it', () => {
    fc.assert(
      fc.property(
        fc.array(genResource, { maxLength: 8 }),
        fc.constantFrom(...NAMESPACES),
        labelMap,
        fc.option(
          fc.record(
            {
              concurrency: fc.integer({ min: 0, max: 8 }),
              env: envMap,
              image: fc.constantFrom('distroless', 'debug'),
            },
            { requiredKeys: [] },
          ),
          { nil: undefined },
        ),
        fc.constantFrom('istio-system', 'pay'),
        (gens, namespace, labels, ann, root) => {
          const mesh: MeshConfig = { ...DEFAULT_MESH, rootNamespace: root };
          const set = buildProxyConfigSet(gens.map((g) => resource4(toObject(g))));
          const annotations: StringMap = {};
          let annotationLayer: Layer | undefined;
          if (ann !== undefined) {
            annotationLayer = {};
            const doc: Record<string, unknown> = {};
            if (ann.concurrency !== undefined) {
              doc['concurrency'] = ann.concurrency;
              annotationLayer.concurrency = ann.concurrency;
            }
            if (ann.env !== undefined) {
              doc['proxyMetadata'] = ann.env;
              annotationLayer.env = ann.env;
            }
            if (ann.image !== undefined) {
              doc['image'] = { imageType: ann.image };
              annotationLayer.image = { imageType: ann.image };
            }
            annotations[ANNOTATION] = JSON.stringify(doc);
          }
          const { proxyConfig, issues } = resolveProxyConfig(mesh, annotations, {
            set,
            namespace,
            labels,
          });
          expect(issues).toEqual([]);

          const layers = expectedLayers(gens, namespace, labels, annotationLayer, root);
          const meshLevel = resolveProxyConfig(mesh, {}).proxyConfig;
          const concurrency = layers.find((l) => l.concurrency !== undefined)?.concurrency;
          expect(proxyConfig.concurrency).toEqual(concurrency ?? meshLevel.concurrency);
          const image = layers.find((l) => l.image !== undefined)?.image;
          expect(proxyConfig.image).toEqual(image ?? meshLevel.image);
          const env: StringMap = { ...(meshLevel.proxyMetadata ?? {}) };
          for (const key of ENV_KEYS) {
            const from = layers.find((l) => l.env !== undefined && Object.hasOwn(l.env, key));
            if (from?.env !== undefined) env[key] = from.env[key] ?? '';
          }
          expect(proxyConfig.proxyMetadata ?? {}).toEqual(env);
          // Everything else is the mesh level's.
          expect({ ...proxyConfig, concurrency: 0, image: 0, proxyMetadata: 0 }).toEqual({
            ...meshLevel,
            concurrency: 0,
            image: 0,
            proxyMetadata: 0,
          });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the order resources arrive in does not matter', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(genResource, {
          maxLength: 8,
          selector: (g) => `${g.namespace}/${g.name}`,
        }),
        fc.constantFrom(...NAMESPACES),
        labelMap,
        (gens, namespace, labels) => {
          const resources = gens.map((g) => resource4(toObject(g)));
          const forward = buildProxyConfigSet(resources);
          const backward = buildProxyConfigSet([...resources].reverse());
          const target = { namespace, labels };
          expect(
            resolveProxyConfig(DEFAULT_MESH, {}, { ...target, set: backward }).proxyConfig,
          ).toEqual(resolveProxyConfig(DEFAULT_MESH, {}, { ...target, set: forward }).proxyConfig);
        },
      ),
      { numRuns: 500 },
    );
  });
});

function resource4(object: Record<string, unknown>): ProxyConfigResource {
  const parsed = parseProxyConfigResource(object as never, 'default');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.resource;
}

describe('injection with ProxyConfig resources', () => {
  const config = loadInjectionConfigOrThrow({});
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'nginx' }] },
  };
  const proxyOf = (out: Pod) =>
    [...(out.spec?.containers ?? []), ...(out.spec?.initContainers ?? [])].find(
      (c) => c.name === 'istio-proxy',
    );

  it('the selected resource reaches the proxy container: concurrency, env and image type', () => {
    const proxyConfigs = buildProxyConfigSet([
      resource('shop', 'web', {
        selector: { matchLabels: { app: 'web' } },
        concurrency: 3,
        environmentVariables: { FROM_CR: 'yes' },
        image: { imageType: 'distroless' },
      }),
    ]);
    const out = inject({
      pod,
      namespace: 'shop',
      config,
      cluster: { nativeSidecars: false, proxyConfigs },
      mode: 'webhook',
    });
    const proxy = proxyOf(out.pod);
    const proxyConfigEnv = proxy?.env?.find((e) => e.name === 'PROXY_CONFIG')?.value ?? '{}';
    expect(JSON.parse(proxyConfigEnv)).toMatchObject({
      concurrency: 3,
      proxyMetadata: { FROM_CR: 'yes' },
      image: { imageType: 'distroless' },
    });
    expect(proxy?.env).toEqual(expect.arrayContaining([{ name: 'FROM_CR', value: 'yes' }]));
    expect(proxy?.image).toMatch(/-distroless$/);

    const without = proxyOf(
      inject({
        pod,
        namespace: 'shop',
        config,
        cluster: { nativeSidecars: false },
        mode: 'webhook',
      }).pod,
    );
    expect(without?.env?.some((e) => e.name === 'FROM_CR')).toBe(false);
    expect(without?.image).not.toMatch(/-distroless$/);
  });
});
