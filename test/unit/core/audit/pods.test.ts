import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultInjectionConfig } from '../../../../src/core/config/defaults.js';
import type { InjectionConfig } from '../../../../src/core/config/types.js';
import type { NamespaceInfo } from '../../../../src/core/contracts.js';
import { decide } from '../../../../src/core/decide.js';
import { inject } from '../../../../src/core/inject.js';
import type { Pod, StringMap } from '../../../../src/core/pod-types.js';
import {
  countFindings,
  diffFindings,
  evaluatePod,
  evaluatePods,
  findingKey,
  OTHER_NAMESPACES,
  samePodFinding,
  workloadOf,
  type PodFinding,
} from '../../../../src/core/audit/pods.js';
import { createPodTrimmer } from '../../../../src/core/audit/pod-trim.js';
import {
  buildProxyConfigSet,
  parseProxyConfigResource,
} from '../../../../src/core/proxy-config-resources.js';
import {
  evaluateWebhookSelectors,
  webhookEntriesOptionsOf,
} from '../../../../src/core/webhook-selectors.js';

const base = defaultInjectionConfig();

function withValues(config: InjectionConfig, patch: Record<string, unknown>): InjectionConfig {
  const global = { ...(config.values.global as Record<string, unknown>), ...patch };
  return { ...config, values: { ...config.values, global } } as InjectionConfig;
}

function ns(name: string, labels: StringMap = {}): NamespaceInfo {
  return { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, annotations: {} };
}

function rsPod(name: string, namespace: string, labels: StringMap = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app: 'web', 'pod-template-hash': '7d9f8b', ...labels },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8b', controller: true },
      ],
    },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
  };
}

function injected(pod: Pod, config: InjectionConfig = base): Pod {
  return inject({
    pod,
    namespace: pod.metadata?.namespace ?? '',
    config,
    cluster: { nativeSidecars: false },
    mode: 'webhook',
  }).pod;
}

const enabled = ns('shop', { 'istio-injection': 'enabled' });

describe('evaluatePod (tables)', () => {
  it('reports a pod the configuration would inject but that has no proxy, with the Deployment restart', () => {
    const f = evaluatePod(rsPod('web-7d9f8b-abcde', 'shop'), enabled, base);
    expect(f).toMatchObject({
      problem: 'missing-sidecar',
      namespace: 'shop',
      pod: 'web-7d9f8b-abcde',
      owner: { kind: 'ReplicaSet', name: 'web-7d9f8b' },
      workload: { kind: 'Deployment', name: 'web' },
      fix: 'kubectl rollout restart deployment/web -n shop',
    });
    expect(f?.reason).toContain('istio-injection=enabled');
  });

  it('does not report pods the configuration would not inject', () => {
    expect(evaluatePod(rsPod('a', 'shop'), ns('shop'), base)).toBeUndefined();
    const optedOut = rsPod('b', 'shop', { 'sidecar.istio.io/inject': 'false' });
    expect(evaluatePod(optedOut, enabled, base)).toBeUndefined();
    const host = { ...rsPod('c', 'shop'), spec: { hostNetwork: true, containers: [] } };
    expect(evaluatePod(host, enabled, base)).toBeUndefined();
  });

  it('does not judge pods of an unknown namespace, finished pods or terminating pods', () => {
    expect(evaluatePod(rsPod('a', 'shop'), undefined, base)).toBeUndefined();
    const done = { ...rsPod('b', 'shop'), status: { phase: 'Succeeded' } };
    expect(evaluatePod(done, enabled, base)).toBeUndefined();
    const going = rsPod('c', 'shop');
    going.metadata = { ...going.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' };
    expect(evaluatePod(going, enabled, base)).toBeUndefined();
  });

  it('reports a proxy image that differs from what the configuration injects now', () => {
    const pod = injected(rsPod('web-7d9f8b-x1', 'shop'));
    expect(evaluatePod(pod, enabled, base)).toBeUndefined();
    const upgraded = withValues(base, { tag: '9.9.9' });
    const f = evaluatePod(pod, enabled, upgraded);
    expect(f).toMatchObject({
      problem: 'stale-proxy-image',
      expected: 'docker.io/istio/proxyv2:9.9.9',
      actual: 'docker.io/istio/proxyv2:1.32.0',
      fix: 'kubectl rollout restart deployment/web -n shop',
    });
  });

  it('keeps the ProxyConfig resource that chose the image type: no false stale report', () => {
    const parsed = parseProxyConfigResource(
      {
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'ProxyConfig',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { selector: { matchLabels: { app: 'web' } }, image: { imageType: 'distroless' } },
      },
      'shop',
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const proxyConfigs = buildProxyConfigSet([parsed.resource]);
    const pod = inject({
      pod: rsPod('web-7d9f8b-d1', 'shop'),
      namespace: 'shop',
      config: base,
      cluster: { nativeSidecars: false, proxyConfigs },
      mode: 'webhook',
    }).pod;
    expect(evaluatePod(pod, enabled, base, proxyConfigs)).toBeUndefined();
    // Without the resource the same pod's image looks stale: the check does read the set.
    expect(evaluatePod(pod, enabled, base)?.problem).toBe('stale-proxy-image');
  });

  it('keeps the pod annotation that chose the image: no false stale report', () => {
    const pod = rsPod('p', 'shop');
    pod.metadata = { ...pod.metadata, annotations: { 'sidecar.istio.io/proxyImage': 'r.io/p:1' } };
    expect(evaluatePod(injected(pod), enabled, withValues(base, { tag: '9.9.9' }))).toBeUndefined();
  });

  it('a namespace labelled with a revision tag learned from the cluster is ours: its uninjected pods are reported', () => {
    const tagged = ns('shop', { 'istio.io/rev': 'prod' });
    const pod = rsPod('web-7d9f8b-t1', 'shop');
    // Without the tag the namespace selects another revision's webhook: not ours to judge.
    expect(evaluatePod(pod, tagged, base)).toBeUndefined();
    const f = evaluatePod(pod, tagged, base, undefined, ['prod']);
    expect(f).toMatchObject({ problem: 'missing-sidecar', pod: 'web-7d9f8b-t1' });
    expect(f?.reason).toContain('istio.io/rev=prod');
    // Injected through the tag: nothing to report.
    expect(evaluatePod(injected(pod), tagged, base, undefined, ['prod'])).toBeUndefined();
  });

  it('reports pods injected by another revision than the namespace selects now', () => {
    const pod = injected(rsPod('web-7d9f8b-r1', 'shop'));
    const canary: InjectionConfig = { ...base, revision: 'canary' };
    const f = evaluatePod(pod, ns('shop', { 'istio.io/rev': 'canary' }), canary);
    expect(f).toMatchObject({ problem: 'stale-revision', expected: 'canary', actual: 'default' });
    // Our own pods, whose namespace now points at another revision.
    const moved = evaluatePod(pod, ns('shop', { 'istio.io/rev': 'canary' }), base);
    expect(moved).toMatchObject({ problem: 'stale-revision', actual: 'default' });
    expect(moved?.reason).toContain('istio.io/rev=canary');
    // A pod of another revision in a namespace selecting that revision is not ours to judge.
    const theirs = injected(rsPod('t', 'shop'), canary);
    expect(evaluatePod(theirs, ns('shop', { 'istio.io/rev': 'canary' }), base)).toBeUndefined();
  });

  it('resolves owners into restart commands', () => {
    const pod = (refs: unknown[], labels: StringMap = {}): Pod =>
      ({ metadata: { name: 'p', namespace: 'n', labels, ownerReferences: refs } }) as Pod;
    const ref = (kind: string, name: string) => ({ kind, name, controller: true });
    expect(workloadOf(pod([])).fix).toContain('kubectl delete pod p -n n');
    expect(workloadOf(pod([ref('StatefulSet', 'db')])).fix).toBe(
      'kubectl rollout restart statefulset/db -n n',
    );
    expect(workloadOf(pod([ref('DaemonSet', 'agent')])).fix).toBe(
      'kubectl rollout restart daemonset/agent -n n',
    );
    // A ReplicaSet whose name does not end with the pod's template hash is not a Deployment's.
    expect(
      workloadOf(pod([ref('ReplicaSet', 'bare')], { 'pod-template-hash': 'abc' })),
    ).toMatchObject({ workload: { kind: 'ReplicaSet', name: 'bare' } });
    expect(workloadOf(pod([ref('Job', 'j')])).fix).toContain('Job j');
    expect(workloadOf(pod([ref('Rollout', 'r')])).fix).toContain('Rollout r');
  });
});

// ---- generated inputs ----------------------------------------------------------------------

const labelValue = fc.constantFrom(
  'true',
  'false',
  'enabled',
  'disabled',
  'default',
  'canary',
  'x',
);
const podLabels = fc.record(
  {
    'sidecar.istio.io/inject': labelValue,
    'istio.io/rev': labelValue,
    app: fc.constantFrom('web', 'db'),
  },
  { requiredKeys: [] },
);
const nsLabels = fc.record(
  { 'istio-injection': labelValue, 'istio.io/rev': labelValue },
  { requiredKeys: [] },
);
const nsName = fc.constantFrom('shop', 'kube-system', 'apps', 'istio-system');
const annotations = fc.record(
  {
    'sidecar.istio.io/inject': labelValue,
    'kubectl.kubernetes.io/last-applied-configuration': fc.string(),
  },
  { requiredKeys: [] },
);
const owner = fc.option(
  fc.record({
    kind: fc.constantFrom('ReplicaSet', 'StatefulSet', 'Job', 'DaemonSet'),
    name: fc.constantFrom('web-7d9f8b', 'web', 'db-0'),
  }),
  { nil: undefined },
);
const config = fc.record({
  policy: fc.constantFrom('enabled', 'disabled'),
  revision: fc.constantFrom('default', 'canary'),
  tag: fc.constantFrom('1.32.0', '1.33.0'),
});

function makeConfig(c: { policy: string; revision: string; tag: string }): InjectionConfig {
  const withTag = withValues(base, { tag: c.tag });
  return {
    ...withTag,
    revision: c.revision,
    injector: { ...withTag.injector, policy: c.policy },
  };
}

const uninjectedPod = fc
  .record({
    name: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/),
    namespace: nsName,
    labels: podLabels,
    annotations,
    owner,
    hostNetwork: fc.boolean(),
  })
  .map(({ name, namespace, labels, annotations, owner, hostNetwork }): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { ...labels, 'pod-template-hash': '7d9f8b' },
      annotations,
      ...(owner === undefined ? {} : { ownerReferences: [{ ...owner, controller: true }] }),
      managedFields: [{ manager: 'kubectl' }],
    },
    spec: {
      hostNetwork,
      containers: [{ name: 'app', image: 'app:1', env: [{ name: 'A', value: 'b' }] }],
    },
    status: { phase: 'Running' },
  }));

describe('evaluatePod (properties)', () => {
  it('an uninjected pod is reported exactly when the selectors and the decision would inject it', () => {
    fc.assert(
      fc.property(uninjectedPod, nsLabels, config, (pod, labels, c) => {
        const cfg = makeConfig(c);
        const namespace = ns(pod.metadata?.namespace ?? '', labels);
        const selected = evaluateWebhookSelectors({
          ...webhookEntriesOptionsOf(cfg),
          namespaceName: namespace.name,
          namespaceLabels: namespace.labels,
          podLabels: pod.metadata?.labels ?? {},
        }).matched;
        const decided = decide({
          pod,
          namespace: namespace.name,
          injector: cfg.injector,
          mode: 'webhook',
        });
        const f = evaluatePod(pod, namespace, cfg);
        expect(f?.problem === 'missing-sidecar').toBe(selected && decided.inject);
        expect(f === undefined || f.problem === 'missing-sidecar').toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('a pod injected by the current configuration is never reported', () => {
    fc.assert(
      fc.property(uninjectedPod, nsLabels, config, (pod, labels, c) => {
        const cfg = makeConfig(c);
        const namespace = ns(pod.metadata?.namespace ?? '', labels);
        const f = evaluatePod(pod, namespace, cfg);
        fc.pre(f?.problem === 'missing-sidecar');
        expect(evaluatePod(injected(pod, cfg), namespace, cfg)).toBeUndefined();
      }),
      { numRuns: 120 },
    );
  });

  it('after an upgrade of the proxy tag, every pod injected before is reported stale with the new image', () => {
    fc.assert(
      fc.property(uninjectedPod, nsLabels, config, (pod, labels, c) => {
        const before = makeConfig(c);
        const namespace = ns(pod.metadata?.namespace ?? '', labels);
        fc.pre(evaluatePod(pod, namespace, before)?.problem === 'missing-sidecar');
        const after = makeConfig({ ...c, tag: c.tag === '1.32.0' ? '1.33.0' : '1.32.0' });
        const f = evaluatePod(injected(pod, before), namespace, after);
        expect(f?.problem).toBe('stale-proxy-image');
        expect(f?.expected).toBe(
          `docker.io/istio/proxyv2:${c.tag === '1.32.0' ? '1.33.0' : '1.32.0'}`,
        );
      }),
      { numRuns: 80 },
    );
  });

  it('the informer trimmer keeps everything the evaluation reads', () => {
    const trim = createPodTrimmer(16);
    fc.assert(
      fc.property(uninjectedPod, fc.boolean(), nsLabels, config, (pod, inj, labels, c) => {
        const cfg = makeConfig(c);
        const subject = inj ? injected(pod, makeConfig({ ...c, tag: '1.32.0' })) : pod;
        const namespace = ns(pod.metadata?.namespace ?? '', labels);
        expect(evaluatePod(trim(subject), namespace, cfg)).toEqual(
          evaluatePod(subject, namespace, cfg),
        );
        const trimmed = trim(subject);
        expect(
          trimmed.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'],
        ).toBeUndefined();
        expect(trimmed.metadata?.managedFields).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });
});

const finding = fc
  .record({
    problem: fc.constantFrom('missing-sidecar', 'stale-revision', 'stale-proxy-image'),
    namespace: fc.stringMatching(/^[a-z]{1,3}$/),
    pod: fc.stringMatching(/^[a-z]{1,4}$/),
    kind: fc.constantFrom('Deployment', 'StatefulSet', 'Rollout', 'Pod'),
    reason: fc.constantFrom('r1', 'r2'),
  })
  .map((f): PodFinding => ({
    problem: f.problem,
    namespace: f.namespace,
    pod: f.pod,
    workload: { kind: f.kind, name: 'w' },
    reason: f.reason,
    fix: 'x',
  }));
const uniqueFindings = fc.uniqueArray(finding, { selector: findingKey, maxLength: 60 });

describe('counting and diffing findings', () => {
  it('keeps at most maxNamespaces namespace labels and loses no finding', () => {
    fc.assert(
      fc.property(uniqueFindings, fc.integer({ min: 0, max: 5 }), (findings, max) => {
        const counts = countFindings(findings, max);
        expect(counts.reduce((n, c) => n + c.count, 0)).toBe(findings.length);
        const named = new Set(counts.map((c) => c.namespace).filter((n) => n !== OTHER_NAMESPACES));
        expect(named.size).toBeLessThanOrEqual(max);
        for (const c of counts) {
          expect(['Deployment', 'StatefulSet', 'other', 'Pod']).toContain(c.ownerKind);
          expect(c.reason === '').toBe(c.metric === 'missing');
        }
      }),
    );
  });

  it('the namespaces with most findings keep their names', () => {
    const many = ['a', 'a', 'a', 'b', 'b', 'c'].map((namespace, i): PodFinding => ({
      problem: 'missing-sidecar',
      namespace,
      pod: `p${i}`,
      workload: { kind: 'Deployment', name: 'w' },
      reason: '',
      fix: '',
    }));
    const counts = countFindings(many, 2);
    expect(counts.map((c) => [c.namespace, c.count]).sort()).toEqual([
      ['_other', 1],
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('a diff lists each new, changed and cleared finding once', () => {
    fc.assert(
      fc.property(uniqueFindings, uniqueFindings, (before, after) => {
        const prev = new Map(before.map((f) => [findingKey(f), f]));
        const d = diffFindings(prev, after, findingKey, samePodFinding);
        const keys = (fs: PodFinding[]) => fs.map(findingKey).sort();
        expect(keys(d.added)).toEqual(keys(after.filter((f) => !prev.has(findingKey(f)))));
        expect(keys(d.cleared)).toEqual(
          keys(before.filter((f) => !after.some((a) => findingKey(a) === findingKey(f)))),
        );
        for (const f of d.changed) expect(prev.get(findingKey(f))?.reason).not.toBe(f.reason);
        expect([...d.current.keys()].sort()).toEqual(keys(after));
      }),
    );
  });

  it('evaluatePods skips pods of namespaces not known yet', () => {
    const pods = [rsPod('a', 'shop'), rsPod('b', 'unknown')];
    const known = new Map([['shop', enabled]]);
    expect(evaluatePods(pods, (n) => known.get(n), base).map((f) => f.pod)).toEqual(['a']);
  });
});
