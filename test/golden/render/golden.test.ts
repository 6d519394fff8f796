/**
 * Golden-backed checks: for corpus cases, the containers and volumes the `sidecar`, `gateway`
 * and gRPC renderers produce must equal those of Istio's golden output, field by field. Only
 * what post-processing changes is ignored: the prometheus/app-prober env entries, the cluster
 * and network env moved to the end, and probes of application containers.
 */
import { describe, expect, it } from 'vitest';
import type { RenderContext, RenderedTemplate } from '../../../src/core/contracts.js';
import { renderTemplate } from '../../../src/core/render/index.js';
import type { Container, EnvVar, Pod } from '../../../src/core/pod-types.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../../src/core/json.js';
import {
  corpusCase,
  goldenPods,
  renderContexts,
  type CorpusCase,
} from '../../unit/core/render/corpus.js';

const POST_PROCESSING_ENV = new Set(['ISTIO_PROMETHEUS_ANNOTATIONS', 'ISTIO_KUBE_APP_PROBERS']);
const INJECTED = new Set(['istio-proxy', 'istio-init', 'istio-validation']);

/** Drops null-valued keys: strategic merge deletes them, so they never reach the pod. */
function withoutNulls(value: JsonValue | undefined): JsonValue | undefined {
  if (Array.isArray(value)) return value.map((v) => withoutNulls(v) ?? null);
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === null || child === undefined) continue;
    out[key] = withoutNulls(child);
  }
  return out;
}

/** The pipeline appends the effective network env at the end of the proxy env (spec §4.7.1). */
function networkLast(env: EnvVar[]): EnvVar[] {
  const network = env.filter((e) => e.name === 'ISTIO_META_NETWORK');
  return [...env.filter((e) => e.name !== 'ISTIO_META_NETWORK'), ...network];
}

function injectedContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].filter((c) =>
    INJECTED.has(c.name),
  );
}

function placement(pod: Pod, name: string): string | undefined {
  if (pod.spec?.initContainers?.some((c) => c.name === name)) return 'initContainers';
  if (pod.spec?.containers?.some((c) => c.name === name)) return 'containers';
  return undefined;
}

function statusVolumes(pod: Pod): string[] {
  const status = pod.metadata?.annotations?.['sidecar.istio.io/status'];
  if (status === undefined) return [];
  return (JSON.parse(status) as { volumes: string[] | null }).volumes ?? [];
}

/** Each workload of a case rendered with `template`, beside its golden pod (one per workload). */
function renderedWithGoldens(
  template: string,
  c: CorpusCase,
): { ctx: RenderContext; golden: Pod; rendered: RenderedTemplate }[] {
  const contexts = renderContexts(c);
  const goldens = goldenPods(c);
  expect(contexts.length).toBeGreaterThan(0);
  expect(goldens).toHaveLength(contexts.length);
  return contexts.map((ctx, i) => ({
    ctx,
    golden: goldens[i] as Pod,
    rendered: renderTemplate(template, ctx),
  }));
}

/** The rendered volumes are the ones the golden's status annotation names, as the golden has them. */
function expectVolumesAsGolden(rendered: RenderedTemplate, golden: Pod): void {
  const renderedVolumes = (rendered.spec?.volumes ?? []).map((v) => withoutNulls(v));
  const names = new Set(renderedVolumes.map((v) => (v as JsonObject).name));
  expect([...names]).toEqual(statusVolumes(golden));
  expect((golden.spec?.volumes ?? []).filter((v) => names.has(v.name))).toEqual(renderedVolumes);
}

function checkSidecarCase(c: CorpusCase) {
  for (const { golden, rendered } of renderedWithGoldens('sidecar', c)) {
    for (const container of injectedContainers(rendered)) {
      const expected = injectedContainers(golden).find((g) => g.name === container.name);
      expect(expected, `golden has ${container.name}`).toBeDefined();
      if (expected === undefined) continue;
      expect(placement(rendered, container.name)).toBe(placement(golden, container.name));
      const goldenEnv = (expected.env ?? []).filter((e) => !POST_PROCESSING_ENV.has(e.name));
      const plain = withoutNulls(container) as Container;
      const mine = { ...plain, env: undefined };
      const mineEnv = plain.env;
      expect(mine).toEqual({ ...expected, env: undefined });
      expect(networkLast(mineEnv ?? [])).toEqual(goldenEnv);
    }
    // Every injected container of the golden was rendered (none missing).
    expect(
      injectedContainers(rendered)
        .map((x) => x.name)
        .sort(),
    ).toEqual(
      injectedContainers(golden)
        .map((x) => x.name)
        .sort(),
    );

    expectVolumesAsGolden(rendered, golden);

    expect(golden.metadata?.labels).toMatchObject(rendered.metadata?.labels ?? {});
    expect(golden.metadata?.annotations).toMatchObject(rendered.metadata?.annotations ?? {});
    expect(golden.spec?.imagePullSecrets ?? []).toEqual(
      expect.arrayContaining(rendered.spec?.imagePullSecrets ?? []),
    );
  }
}

// Fresh-pod cases of the corpus (no earlier injection or user override of istio-proxy).
const SIDECAR_CASES = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 22, 26, 27, 28, 29, 30,
  36, 47, 48, 49, 50, 51, 52, 54, 57, 58, 59, 60, 62, 63, 64, 65, 66, 67, 68, 71, 72, 73, 74, 75,
  76, 77, 78, 79, 80, 86, 87, 88, 89, 90, 91, 92, 93, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104,
  106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124,
  125, 126, 127,
];

describe('sidecar renderer against the corpus goldens', () => {
  it.each(SIDECAR_CASES.map((index) => [corpusCase(index).testName, index] as const))(
    '%s',
    (_name, index) => {
      checkSidecarCase(corpusCase(index));
    },
  );
});

/**
 * The pipeline re-applies a user's container of the same name over the rendered one (spec §4.6):
 * scalar fields the user set win, `image: auto` means "keep the injected image", and typed
 * serialisation prints an absent `resources` as `{}`.
 */
function withUserOverride(rendered: Container, user: Container | undefined): Container {
  const merged: Container = { ...rendered, resources: rendered.resources ?? {} };
  if (user === undefined) return merged;
  for (const [key, value] of Object.entries(user)) {
    if (key === 'image' && value === 'auto') continue;
    if (typeof value !== 'object' || value === null) merged[key] = value;
  }
  return merged;
}

function checkTemplateCase(template: string, c: CorpusCase) {
  for (const { ctx, golden, rendered } of renderedWithGoldens(template, c)) {
    const userContainers = ctx.pod.spec?.containers ?? [];
    for (const list of ['initContainers', 'containers'] as const) {
      for (const container of rendered.spec?.[list] ?? []) {
        const expected = golden.spec?.[list]?.find((g) => g.name === container.name);
        expect(expected, `golden ${list} has ${container.name}`).toBeDefined();
        const user = userContainers.find((u) => u.name === container.name);
        const mine = withoutNulls(container) as Container;
        if (INJECTED.has(container.name) || user === undefined) {
          expect(withUserOverride(mine, user)).toEqual(expected);
        } else {
          // An application container: the template adds env and mounts to the user's fields.
          expect(expected).toMatchObject(mine);
        }
      }
    }
    expectVolumesAsGolden(rendered, golden);
    expect(golden.spec?.securityContext).toEqual(rendered.spec?.securityContext);
    expect(golden.metadata?.labels ?? {}).toMatchObject(rendered.metadata?.labels ?? {});
    expect(golden.metadata?.annotations).toMatchObject(rendered.metadata?.annotations ?? {});
  }
}

describe('gateway and proxyless gRPC renderers against the corpus goldens', () => {
  it.each([
    ['gateway', 45],
    ['gateway', 81],
    ['grpc-agent', 82],
    ['grpc-simple', 83],
  ] as const)('%s: case %i', (template, index) => {
    checkTemplateCase(template, corpusCase(index));
  });
});
