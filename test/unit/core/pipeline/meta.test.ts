import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containerJson, orderedJson } from '../../../../src/core/pipeline/container-json.js';
import {
  dropOpenshiftAssignedIds,
  proxyIds,
  workloadMetaFromPod,
} from '../../../../src/core/pipeline/meta.js';
import { formatStatus, parseStatus } from '../../../../src/core/pipeline/status.js';
import { resolveTemplates, selectTemplates } from '../../../../src/core/pipeline/templates.js';
import { buildTemplateSet } from '../../../../src/core/pipeline/template-set.js';
import type { Container, Pod } from '../../../../src/core/pod-types.js';
import { thrownText } from '../../../helpers/errors.js';

describe('status annotation (TestParseStatus)', () => {
  it.each<[string | undefined, ReturnType<typeof parseStatus>]>([
    [undefined, undefined],
    ['', undefined],
    ['not json', undefined],
    [
      '{"initContainers":["istio-init"],"containers":null,"volumes":["v"],"imagePullSecrets":null,"revision":"default"}',
      {
        initContainers: ['istio-init'],
        containers: [],
        volumes: ['v'],
        imagePullSecrets: [],
        revision: 'default',
      },
    ],
    ['{}', { initContainers: [], containers: [], volumes: [], imagePullSecrets: [], revision: '' }],
  ])('%s', (text, want) => {
    expect(parseStatus(text)).toEqual(want);
  });

  it('formats names from the template pod with nulls for empty lists, keys in order', () => {
    const templatePod: Pod = {
      spec: {
        initContainers: [{ name: 'istio-init' }, { name: 'istio-proxy' }],
        volumes: [{ name: 'a' }],
      },
    };
    expect(formatStatus(templatePod, '')).toBe(
      '{"initContainers":["istio-init","istio-proxy"],"containers":null,"volumes":["a"],"imagePullSecrets":null,"revision":"default"}',
    );
    expect(formatStatus(templatePod, 'canary')).toContain('"revision":"canary"');
  });
});

describe('Kubernetes container JSON', () => {
  it('uses Go field order, drops zero values, always prints resources, canonical quantities', () => {
    const text = JSON.stringify(
      containerJson({
        tty: true,
        securityContext: {
          allowPrivilegeEscalation: true,
          runAsGroup: 1234,
          runAsUser: 1234,
          readOnlyRootFilesystem: false,
        },
        volumeMounts: [{ mountPath: '/etc/certs', name: 'certs' }],
        resources: { requests: { cpu: '123m' }, limits: { cpu: '3000m' } },
        stdin: false,
        name: 'istio-proxy',
        unknownField: 'dropped',
      }),
    );
    expect(text).toBe(
      '{"name":"istio-proxy","resources":{"limits":{"cpu":"3"},"requests":{"cpu":"123m"}},"volumeMounts":[{"name":"certs","mountPath":"/etc/certs"}],' +
        '"securityContext":{"runAsUser":1234,"runAsGroup":1234,"readOnlyRootFilesystem":false,"allowPrivilegeEscalation":true},"tty":true}',
    );
    expect(JSON.stringify(containerJson({ name: 'istio-proxy' }))).toBe(
      '{"name":"istio-proxy","resources":{}}',
    );
  });
});

describe('deployment meta from the pod', () => {
  const owner = (kind: string, name: string, apiVersion = 'apps/v1') => [
    { kind, name, apiVersion, controller: true, uid: 'u' },
  ];
  it.each<[string, Pod, { kind: string; apiVersion: string }, string]>([
    ['bare pod', { metadata: { name: 'p' } }, { kind: 'Pod', apiVersion: 'v1' }, 'p'],
    [
      'ReplicaSet of a Deployment',
      {
        metadata: {
          name: 'p',
          generateName: 'd-abc-',
          labels: { 'pod-template-hash': 'abc' },
          ownerReferences: owner('ReplicaSet', 'd-abc'),
        },
      },
      { kind: 'Deployment', apiVersion: 'apps/v1' },
      'd',
    ],
    [
      'ReplicaSet of a Rollout',
      {
        metadata: {
          generateName: 'r-x-',
          labels: { 'rollouts-pod-template-hash': 'x' },
          ownerReferences: owner('ReplicaSet', 'r-x'),
        },
      },
      { kind: 'Rollout', apiVersion: 'v1alpha1' },
      'r',
    ],
    [
      'bare ReplicaSet',
      { metadata: { generateName: 'rs-', ownerReferences: owner('ReplicaSet', 'rs') } },
      { kind: 'ReplicaSet', apiVersion: 'apps/v1' },
      'rs',
    ],
    [
      'DeploymentConfig',
      {
        metadata: {
          generateName: 'h-1-',
          labels: { deploymentconfig: 'h' },
          ownerReferences: owner('ReplicationController', 'h-1', 'v1'),
        },
      },
      { kind: 'DeploymentConfig', apiVersion: 'v1' },
      'h',
    ],
    [
      'CronJob',
      {
        metadata: {
          generateName: 'c-28000000-',
          ownerReferences: owner('Job', 'c-28000000', 'batch/v1'),
        },
      },
      { kind: 'CronJob', apiVersion: 'batch/v1' },
      'c',
    ],
    [
      'owner without generateName is ignored',
      { metadata: { name: 'p', ownerReferences: owner('ReplicaSet', 'rs') } },
      { kind: 'Pod', apiVersion: 'v1' },
      'p',
    ],
  ])('%s', (_name, pod, typeMeta, name) => {
    expect(workloadMetaFromPod(pod, 'ns')).toEqual({
      typeMeta,
      deploymentMeta: { name, namespace: 'ns' },
    });
  });
});

describe('proxy UID/GID', () => {
  it.each<[boolean, Record<string, string> | undefined, { uid: number; gid: number }]>([
    [false, { 'openshift.io/sa.scc.uid-range': '1000620000/10000' }, { uid: 1337, gid: 1337 }],
    [true, undefined, { uid: 1337, gid: 1337 }],
    [
      true,
      { 'openshift.io/sa.scc.uid-range': '1000620000/10000' },
      { uid: 1000629999, gid: 1000629999 },
    ],
    [
      true,
      {
        'openshift.io/sa.scc.uid-range': '1000-2000',
        'openshift.io/sa.scc.supplemental-groups': '5000/10,6000/10',
      },
      { uid: 2000, gid: 5009 },
    ],
  ])('openshift=%s %j', (openshift, annotations, want) => {
    expect(proxyIds(openshift, annotations)).toEqual(want);
  });

  it.each<[Record<string, string>, { uid: number; gid: number }, number]>([
    // Past int32: the API server refuses runAsUser 2147483648 and above.
    [{ 'openshift.io/sa.scc.uid-range': '2147483640/100' }, { uid: 1337, gid: 1337 }, 1],
    [{ 'openshift.io/sa.scc.uid-range': '2147483600/48' }, { uid: 2147483647, gid: 2147483647 }, 0],
    [
      {
        'openshift.io/sa.scc.uid-range': '1000620000/10000',
        'openshift.io/sa.scc.supplemental-groups': '4294967295-4294967296',
      },
      { uid: 1000629999, gid: 1000629999 },
      1,
    ],
    // An empty range has no last ID.
    [{ 'openshift.io/sa.scc.uid-range': '5/0' }, { uid: 1337, gid: 1337 }, 0],
  ])('a range the API server cannot take is not used: %j', (annotations, want, warned) => {
    const warnings: string[] = [];
    expect(proxyIds(true, annotations, warnings)).toEqual(want);
    expect(warnings).toHaveLength(warned);
    for (const w of warnings) expect(w).toMatch(/past the 2147483647 Kubernetes accepts/);
  });

  it('drops a user istio-proxy runAsUser equal to the app one', () => {
    const pod: Pod = {
      spec: {
        containers: [
          { name: 'app', securityContext: { runAsUser: 7 } },
          {
            name: 'istio-proxy',
            securityContext: { runAsUser: 7, runAsGroup: 7, readOnlyRootFilesystem: false },
          },
        ],
      },
    };
    dropOpenshiftAssignedIds(pod);
    expect(pod.spec?.containers?.[1]?.securityContext).toEqual({ readOnlyRootFilesystem: false });
  });

  it('compares as istiod does: the last UID set on each side, 0 when none (generated)', () => {
    const uid = fc.option(fc.constantFrom(0, 7, 1000), { nil: undefined });
    const named = fc.constantFrom(
      'app',
      'migrate',
      'istio-init',
      'istio-validation',
      'istio-proxy',
    );
    const container = fc.record({ name: named, uid, group: fc.boolean(), init: fc.boolean() });
    fc.assert(
      fc.property(fc.array(container, { maxLength: 5 }), (list) => {
        const make = (c: (typeof list)[number]): Container => ({
          name: c.name,
          securityContext: {
            ...(c.uid === undefined ? {} : { runAsUser: c.uid }),
            ...(c.group ? { runAsGroup: 5 } : {}),
          },
        });
        const pod: Pod = {
          spec: {
            containers: list.filter((c) => !c.init).map(make),
            initContainers: list.filter((c) => c.init).map(make),
          },
        };
        const ordered = [...list.filter((c) => !c.init), ...list.filter((c) => c.init)];
        const last = (pick: (c: (typeof list)[number]) => boolean): number =>
          ordered.filter((c) => pick(c) && c.uid !== undefined).at(-1)?.uid ?? 0;
        const sidecarUser = last((c) => c.name === 'istio-proxy');
        const appUser = last(
          (c) => !['istio-proxy', 'istio-init', 'istio-validation'].includes(c.name),
        );
        const first = ordered.find((c) => c.name === 'istio-proxy');
        dropOpenshiftAssignedIds(pod);
        const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
        const after = all.find((c) => c.name === 'istio-proxy');
        if (first === undefined) return;
        const reset = sidecarUser === appUser;
        expect(Object.hasOwn(after?.securityContext ?? {}, 'runAsUser')).toBe(
          !reset && first.uid !== undefined,
        );
        expect(Object.hasOwn(after?.securityContext ?? {}, 'runAsGroup')).toBe(
          !reset && first.group,
        );
      }),
    );
  });
});

describe('template selection', () => {
  const injector = { defaultTemplates: ['sidecar'], aliases: { both: ['sidecar', 'init'] } };
  it.each<[Record<string, string> | undefined, 'webhook' | 'kube-inject', string[]]>([
    [undefined, 'webhook', ['sidecar']],
    [{ 'inject.istio.io/templates': 'gateway' }, 'webhook', ['gateway']],
    [{ 'inject.istio.io/templates': ' sidecar , both' }, 'webhook', ['sidecar', 'sidecar', 'init']],
    [{ 'inject.istio.io/templates': 'both' }, 'kube-inject', ['both']],
    [undefined, 'kube-inject', ['sidecar']],
  ])('%j in %s mode', (annotations, mode, want) => {
    expect(
      selectTemplates(
        annotations,
        {
          ...injector,
          defaultTemplates: mode === 'kube-inject' ? ['gateway'] : injector.defaultTemplates,
        },
        mode,
      ),
    ).toEqual(want);
  });

  it("an unknown name fails with istiod's wording, listing the configured names", () => {
    const templates = buildTemplateSet({ sidecar: 'spec: {}', custom: 'metadata: {}' });
    if (!templates.ok) throw new Error('compiles');
    expect(thrownText(() => resolveTemplates(['sidecar', 'nope'], templates.templates))).toMatch(
      /INJ_ERR_TEMPLATE_NOT_FOUND: .*requested template "nope" not found; have custom, sidecar/,
    );
    expect(resolveTemplates(['custom', 'sidecar'], templates.templates).map((t) => t.name)).toEqual(
      ['custom', 'sidecar'],
    );
  });
});

describe('orderedJson drops what Go omitempty drops, empty maps included', () => {
  const quantities = fc.dictionary(
    fc.constantFrom('cpu', 'memory', 'ephemeral-storage'),
    fc.constantFrom('1', '100m', '1Gi'),
    { maxKeys: 2 },
  );

  it('a resources map is printed only when it has entries', () => {
    fc.assert(
      fc.property(fc.option(quantities, { nil: undefined }), quantities, (requests, limits) => {
        const resources = { ...(requests === undefined ? {} : { requests }), limits };
        const out = orderedJson('Container', { name: 'istio-proxy', resources }) as {
          resources: Record<string, unknown>;
        };
        const want: string[] = [];
        if (Object.keys(limits).length > 0) want.push('limits');
        if (requests !== undefined && Object.keys(requests).length > 0) want.push('requests');
        expect(Object.keys(out.resources)).toEqual(want);
      }),
    );
  });
});
