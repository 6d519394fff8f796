/**
 * A platform team's day against a real control plane: kube-apiserver and kube-controller-manager
 * built from k8s.io/kubernetes (test/control-plane), an embedded etcd, and `sidecar-injector serve`
 * as a separate process installed from manifests/ with only its client configuration pointed at
 * 127.0.0.1. The API server chooses the webhook entries, calls us over TLS against the caBundle,
 * applies our patch, defaults, validates and stores; every assertion reads what it stored.
 *
 * Run with `npm run test:cluster` (vitest.cluster.config.ts); `npm test` does not run it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify as toYaml } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import {
  buildControlPlane,
  ROOT,
  run,
  startControlPlane,
  startInjector,
  type ControlPlane,
  type Injector,
} from './control-plane.js';
import { TestWebhook, TRACE_ANNOTATION } from './test-webhook.js';
import {
  counter,
  differences,
  freePort,
  histogram,
  patchesOf,
  pointWebhooksAt,
  predict,
  quantile,
  readAudit,
  withoutServerFields,
  type AuditEvent,
  type KObject,
} from './cluster-helpers.js';
import { parseGoDuration } from '../../src/http/timeout.js';
import { generateDevCertificates } from '../../src/tls/dev-cert.js';
import { findHelm, runTool, type Tool } from '../helpers/tools.js';
import { SAMPLES_DIR } from '../helpers/shared.js';
import type { Container, Pod } from '../../src/core/pod-types.js';

const CONFIG = 'sidecar-injector';
const INJECTOR_NS = 'sidecar-injector';
const RECORD_LABEL = 'suite.sidecar-injector.io/record';
const OUR_WEBHOOKS = [
  'rev.namespace.inject.sidecar-injector.io',
  'rev.object.inject.sidecar-injector.io',
  'namespace.inject.sidecar-injector.io',
  'object.inject.sidecar-injector.io',
];

let dir: string;
let cp: ControlPlane;
let injector: Injector | undefined;
let hook: TestWebhook;
let injectorPort: number;
let injectorKubeconfig: string;
let ca: string;
let core: k8s.CoreV1Api;
const findings: string[] = [];

const PROXY_CONFIG_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'proxyconfigs.networking.istio.io' },
  spec: {
    group: 'networking.istio.io',
    names: {
      kind: 'ProxyConfig',
      listKind: 'ProxyConfigList',
      plural: 'proxyconfigs',
      singular: 'proxyconfig',
    },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1beta1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        },
      },
    ],
  },
};

async function kc(args: readonly string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function kcJson<T>(args: readonly string[], input?: string): Promise<T> {
  return JSON.parse(await kc([...args, '-o', 'json'], input)) as T;
}

async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}

const names = (pod: Pod, list: 'containers' | 'initContainers'): string[] =>
  (pod.spec?.[list] ?? []).map((c) => c.name);
const allNames = (pod: Pod): string[] => [
  ...names(pod, 'initContainers'),
  ...names(pod, 'containers'),
];
const injected = (pod: Pod): boolean => allNames(pod).includes('istio-proxy');

function podManifest(
  name: string,
  opts: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
  spec: Partial<NonNullable<Pod['spec']>> = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: name, ...opts.labels },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'nginx:1.27',
          ports: [{ containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
        },
      ],
      ...spec,
    },
  };
}

/** Creates a namespace the way an operator would, and waits for its default ServiceAccount. */
async function namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await kc(['create', 'namespace', name]);
  const all = { [RECORD_LABEL]: 'true', ...labels };
  await kc(['label', 'namespace', name, '--overwrite', ...labelArgs(all)]);
  await eventually(
    async () => (await cp.kubectl(['-n', name, 'get', 'serviceaccount', 'default'])).code === 0,
    `default ServiceAccount in ${name}`,
  );
}

const labelArgs = (labels: Record<string, string>): string[] =>
  Object.entries(labels).map(([k, v]) => `${k}=${v}`);

/**
 * The injector learns namespace labels through its informer, the API server through its own:
 * wait until a server-side dry run in `ns` gives the expected answer before the real request.
 */
async function settle(ns: string, expectInjected: boolean, pod?: Pod): Promise<void> {
  const probe = structuredClone(pod ?? podManifest('probe'));
  probe.metadata = { ...probe.metadata, name: `probe-${Date.now()}` };
  await eventually(async () => {
    const r = await cp.kubectl(
      ['-n', ns, 'create', '--dry-run=server', '-o', 'json', '-f', '-'],
      JSON.stringify(probe),
    );
    return r.code === 0 && injected(JSON.parse(r.stdout) as Pod) === expectInjected;
  }, `namespace ${ns} settled (injected: ${expectInjected})`);
}

async function createPod(ns: string, pod: Pod): Promise<Pod> {
  return kcJson<Pod>(['-n', ns, 'create', '-f', '-'], JSON.stringify(pod));
}

async function getPod(ns: string, name: string): Promise<Pod> {
  return kcJson<Pod>(['-n', ns, 'get', 'pod', name]);
}

async function auditFor(predicate: (e: AuditEvent) => boolean, what: string): Promise<AuditEvent> {
  return eventually(async () => (await readAudit(cp.info.auditLog)).find(predicate), what, 10_000);
}

/**
 * A ServiceAccount for the prediction namespace. Its token automounting stays on: after our patch
 * the API server re-runs its built-in mutating plugins (admission reinvocation), and the
 * ServiceAccount plugin mounts the token into the containers we added; the dry run does the same.
 */
async function ensureServiceAccount(ns: string, name: string): Promise<void> {
  await kc(
    ['-n', ns, 'apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name },
    }),
  );
}

/**
 * The stored Pod must be what our own strict applier makes of the pod our webhook received (kept
 * by the recorder) and the patch the API server received from us (from its audit annotation),
 * once the API server's defaulting has run over it (a server-side dry run of the prediction in a
 * namespace without injection). Returns the fields the API server defaulted into our output.
 */
async function expectStoredAsPredicted(stored: Pod): Promise<string[]> {
  const id = stored.metadata?.annotations?.[TRACE_ANNOTATION];
  expect(id, 'the recorder saw this pod').toBeDefined();
  const input = hook.recorded.get(id ?? '');
  expect(input).toBeDefined();
  const event = await auditFor(
    (e) =>
      e.verb === 'create' &&
      e.objectRef?.resource === 'pods' &&
      e.objectRef.subresource === undefined &&
      (e.responseObject?.metadata as Pod['metadata'])?.annotations?.[TRACE_ANNOTATION] === id,
    `audit event of pod ${stored.metadata?.name}`,
  );
  const ours = patchesOf(event).filter((p) => p.configuration === CONFIG);
  expect(ours.map((p) => p.round)).toEqual([0]);
  const predicted = predict(input!, ours[0]!.patch);
  const raw = differences(withoutServerFields(predicted), withoutServerFields(stored));

  const ns = stored.metadata?.namespace ?? '';
  const candidate = structuredClone(predicted);
  candidate.metadata = { ...candidate.metadata, name: stored.metadata?.name, namespace: 'predict' };
  delete candidate.metadata.generateName;
  await ensureServiceAccount('predict', stored.spec?.serviceAccountName ?? 'default');
  const defaulted = await kcJson<Pod>(
    ['-n', 'predict', 'create', '--dry-run=server', '-f', '-'],
    JSON.stringify(candidate),
  );
  const strip = (p: Pod): Pod => {
    const c = withoutServerFields(p);

    delete c.metadata?.namespace;
    delete c.metadata?.generateName;
    delete c.metadata?.name;
    return c;
  };
  expect(
    differences(strip(defaulted), strip(stored)),
    `stored pod ${ns}/${stored.metadata?.name}`,
  ).toEqual([]);
  return raw;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'injector-cluster-'));
  const started = Date.now();
  const kcp = await buildControlPlane();
  cp = await startControlPlane(kcp, join(dir, 'cp'));
  console.log(
    `control plane healthy in ${((Date.now() - started) / 1000).toFixed(1)} s (${cp.info.server})`,
  );
  ca = await readFile(cp.info.caFile, 'utf8');
  const kubeconfig = new k8s.KubeConfig();
  kubeconfig.loadFromFile(cp.info.kubeconfig);
  core = kubeconfig.makeApiClient(k8s.CoreV1Api);

  // One node, so the native-sidecar decision (every kubelet >= 1.33) has something to read.
  await kc(
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } }),
  );
  await kc([
    'patch',
    'node',
    'node-a',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { nodeInfo: { kubeletVersion: 'v1.37.2' } } }),
  ]);

  // Our manifests, as shipped, pointing at the local injector.
  injectorPort = await freePort();
  const rendered = await kc(['kustomize', join(ROOT, 'manifests')]);
  const objects = pointWebhooksAt(rendered, `https://127.0.0.1:${injectorPort}`, ca);
  await kc(['apply', '-f', '-'], objects.map((o) => toYaml(o)).join('---\n'));

  // The injector runs as its ServiceAccount, with the shipped RBAC, like a replica in the cluster.
  const token = (
    await kc(['-n', INJECTOR_NS, 'create', 'token', 'sidecar-injector', '--duration=2h'])
  ).trim();
  injectorKubeconfig = join(dir, 'injector.kubeconfig');
  await writeFile(
    injectorKubeconfig,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: {
            server: cp.info.server,
            'certificate-authority-data': Buffer.from(ca).toString('base64'),
          },
        },
      ],
      users: [{ name: 'sa', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'sa' } }],
      'current-context': 'c',
    }),
  );

  hook = new TestWebhook({
    cert: await readFile(cp.info.webhookCertFile, 'utf8'),
    key: await readFile(cp.info.webhookKeyFile, 'utf8'),
  });
  const hookPort = await hook.start();
  const caBundle = Buffer.from(ca).toString('base64');
  // Named to sort before ours: the API server calls configurations in name order, so the
  // recorder's output is exactly our input.
  await kc(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: '00-suite-recorder' },
      webhooks: [
        {
          name: 'record.suite.sidecar-injector.io',
          clientConfig: { url: `https://127.0.0.1:${hookPort}/record`, caBundle },
          rules: [
            {
              operations: ['CREATE'],
              apiGroups: [''],
              apiVersions: ['v1'],
              resources: ['pods'],
              scope: 'Namespaced',
            },
          ],
          namespaceSelector: { matchLabels: { [RECORD_LABEL]: 'true' } },
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          failurePolicy: 'Fail',
          timeoutSeconds: 5,
          reinvocationPolicy: 'Never',
        },
      ],
    }),
  );
  await kc(['create', 'namespace', 'predict']);
  await kc(['label', 'namespace', 'predict', 'istio-injection=disabled']);
  // Istio's ProxyConfig CRD (the group, version and names Istio installs; the schema left open),
  // present before the injector starts, as in a cluster with Istio installed.
  await kc(['apply', '-f', '-'], JSON.stringify(PROXY_CONFIG_CRD));
  await kc(['wait', '--for=condition=Established', 'crd/proxyconfigs.networking.istio.io']);

  injector = await startInjector({
    port: injectorPort,
    certFile: cp.info.webhookCertFile,
    keyFile: cp.info.webhookKeyFile,
    kubeconfig: injectorKubeconfig,
    caFile: cp.info.caFile,
  });
}, 15 * 60_000);

afterAll(async () => {
  if (findings.length > 0) console.log(`What the real API server did:\n- ${findings.join('\n- ')}`);
  await injector?.stop();
  await hook?.close();
  await cp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** Puts our webhook configuration's entries back as they were before a scenario changed them. */
async function restoreWebhooks(webhooks: unknown): Promise<void> {
  await jsonPatchOurWebhooks([{ op: 'replace', path: '/webhooks', value: webhooks }]);
}

/** A JSON patch (RFC 6902) of our MutatingWebhookConfiguration; kubectl's output. */
function jsonPatchOurWebhooks(ops: readonly unknown[]): Promise<string> {
  return kc([
    'patch',
    'mutatingwebhookconfiguration',
    CONFIG,
    '--type=json',
    '-p',
    JSON.stringify(ops),
  ]);
}

/** The helm that test/helm/build.sh builds; without it the test is skipped with a line saying so. */
async function builtHelm(ctx: { skip: () => void }, what: string): Promise<Tool | undefined> {
  const helm = await findHelm();
  if (helm !== undefined && helm.source.includes('test/helm/bin')) return helm;
  console.log(`test/helm/bin/helm not built (test/helm/build.sh, needs Go): ${what} skipped`);
  ctx.skip();
  return undefined;
}

describe('a platform team day against a real kube-apiserver', () => {
  it('Bookinfo: every Pod the controllers create is stored with istio-proxy and istio-init, as predicted', async () => {
    await kc(['create', 'namespace', 'bookinfo']);
    await kc(['label', 'namespace', 'bookinfo', `${RECORD_LABEL}=true`]);
    await kc(['label', 'namespace', 'bookinfo', 'istio-injection=enabled']);
    await eventually(
      async () => (await cp.kubectl(['-n', 'bookinfo', 'get', 'sa', 'default'])).code === 0,
      'bookinfo default ServiceAccount',
    );
    await settle('bookinfo', true);
    await kc(['-n', 'bookinfo', 'apply', '-f', join(SAMPLES_DIR, 'bookinfo.yaml')]);
    const deployments = await kcJson<{ items: { spec: { replicas?: number } }[] }>([
      '-n',
      'bookinfo',
      'get',
      'deployments',
    ]);
    const want = deployments.items.reduce((n, d) => n + (d.spec.replicas ?? 1), 0);
    expect(want).toBeGreaterThanOrEqual(6);
    const pods = await eventually(
      async () => {
        const list = await kcJson<{ items: Pod[] }>(['-n', 'bookinfo', 'get', 'pods']);
        return list.items.length >= want ? list.items : undefined;
      },
      `${want} Bookinfo pods`,
      120_000,
    );
    expect(pods).toHaveLength(want);
    const defaultedPaths = new Set<string>();
    for (const pod of pods) {
      expect(allNames(pod), pod.metadata?.name).toEqual(
        expect.arrayContaining(['istio-init', 'istio-proxy']),
      );
      expect(pod.metadata?.annotations?.['sidecar.istio.io/status']).toBeDefined();
      expect(pod.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
      for (const d of await expectStoredAsPredicted(pod)) defaultedPaths.add(d.replace(/: .*/, ''));
    }
    if (defaultedPaths.size > 0) {
      findings.push(
        `the API server defaults fields our patch leaves out (${defaultedPaths.size} paths over Bookinfo, e.g. ${[...defaultedPaths].slice(0, 4).join(', ')})`,
      );
    }
  });

  it('a pod label sidecar.istio.io/inject=false keeps the API server from calling us', async () => {
    const pod = await createPod(
      'bookinfo',
      podManifest('opt-out-label', { labels: { 'sidecar.istio.io/inject': 'false' } }),
    );
    expect(injected(pod)).toBe(false);
    const event = await auditFor(
      (e) => e.verb === 'create' && e.responseObject?.metadata?.name === 'opt-out-label',
      'audit of opt-out-label',
    );
    expect(Object.values(event.annotations ?? {}).filter((v) => v.includes(`"${CONFIG}"`))).toEqual(
      [],
    );
  });

  it('a pod annotation sidecar.istio.io/inject=false is honoured by the injector', async () => {
    const pod = await createPod(
      'bookinfo',
      podManifest('opt-out-annotation', { annotations: { 'sidecar.istio.io/inject': 'false' } }),
    );
    expect(injected(pod)).toBe(false);
    expect(pod.metadata?.annotations?.['sidecar.istio.io/status']).toBeUndefined();
  });

  it('istio-injection=disabled wins over a pod that asks for injection', async () => {
    await namespace('no-mesh', { 'istio-injection': 'disabled' });
    const pod = await createPod(
      'no-mesh',
      podManifest('asks', { labels: { 'sidecar.istio.io/inject': 'true' } }),
    );
    expect(injected(pod)).toBe(false);
  });

  it.each([
    ['namespace istio.io/rev=default', { 'istio.io/rev': 'default' }, {}, true],
    ['namespace istio.io/rev=canary (another revision)', { 'istio.io/rev': 'canary' }, {}, false],
    ['pod istio.io/rev=default, namespace unlabelled', {}, { 'istio.io/rev': 'default' }, true],
    ['pod istio.io/rev=canary, namespace unlabelled', {}, { 'istio.io/rev': 'canary' }, false],
    [
      'pod sidecar.istio.io/inject=true, namespace unlabelled',
      {},
      { 'sidecar.istio.io/inject': 'true' },
      true,
    ],
  ])('revision labels: %s', async (_case, nsLabels, podLabels, expected) => {
    const ns = `rev-${Math.random().toString(36).slice(2, 8)}`;
    await namespace(ns, nsLabels);
    const probe = podManifest('x', { labels: podLabels });
    await settle(ns, expected, probe);
    const pod = await createPod(ns, podManifest('workload', { labels: podLabels }));
    expect(injected(pod)).toBe(expected);
    if (expected) await expectStoredAsPredicted(pod);
  });

  it('policy: disabled in the ConfigMap injects only pods that opt in, and flips back', async () => {
    await namespace('policy', { 'istio-injection': 'enabled' });
    const cm = await kcJson<KObject & { data: { config: string } }>([
      '-n',
      INJECTOR_NS,
      'get',
      'configmap',
      'istio-sidecar-injector',
    ]);
    const original = cm.data.config;
    const setPolicy = async (policy: string): Promise<void> => {
      const config = parseYaml(original) as Record<string, unknown>;
      config.policy = policy;
      // Back to the shipped text itself (comments included) when restoring.
      const text = policy === 'enabled' ? original : toYaml(config);
      await kc([
        '-n',
        INJECTOR_NS,
        'patch',
        'configmap',
        'istio-sidecar-injector',
        '--type=merge',
        '-p',
        JSON.stringify({ data: { config: text } }),
      ]);
    };
    await setPolicy('disabled');
    try {
      await settle('policy', false);
      expect(injected(await createPod('policy', podManifest('plain')))).toBe(false);
      const optIn = await createPod(
        'policy',
        podManifest('opt-in', { labels: { 'sidecar.istio.io/inject': 'true' } }),
      );
      expect(injected(optIn)).toBe(true);
    } finally {
      await setPolicy('enabled');
    }
    await settle('policy', true);
    expect(injected(await createPod('policy', podManifest('plain-again')))).toBe(true);
  });

  it.each(['kube-system', 'kube-public', 'kube-node-lease', INJECTOR_NS])(
    'never injects in the system namespace %s, whatever its labels',
    async (ns) => {
      const before = (
        await kcJson<KObject & { metadata: { labels?: Record<string, string> } }>([
          'get',
          'namespace',
          ns,
        ])
      ).metadata.labels?.['istio-injection'];
      await kc(['label', 'namespace', ns, '--overwrite', 'istio-injection=enabled']);
      try {
        await eventually(
          async () => (await cp.kubectl(['-n', ns, 'get', 'sa', 'default'])).code === 0,
          `${ns} default SA`,
        );
        const pod = await createPod(
          ns,
          podManifest(`sys-${Date.now()}`, { labels: { 'sidecar.istio.io/inject': 'true' } }),
        );
        expect(injected(pod)).toBe(false);
        await kc(['-n', ns, 'delete', 'pod', pod.metadata?.name ?? '', '--wait=false']);
      } finally {
        await kc([
          'label',
          'namespace',
          ns,
          '--overwrite',
          before === undefined ? 'istio-injection-' : `istio-injection=${before}`,
        ]);
      }
    },
  );

  it('does not inject hostNetwork pods', async () => {
    const pod = await createPod('bookinfo', podManifest('host-net', {}, { hostNetwork: true }));
    expect(injected(pod)).toBe(false);
  });

  it('injects the pods a Job creates', async () => {
    await kc(['-n', 'bookinfo', 'create', 'job', 'migrate', '--image=busybox:1.36', '--', 'true']);
    const pod = await eventually(
      async () => {
        const list = await kcJson<{ items: Pod[] }>([
          '-n',
          'bookinfo',
          'get',
          'pods',
          '-l',
          'job-name=migrate',
        ]);
        return list.items[0];
      },
      'the Job pod',
      60_000,
    );
    expect(allNames(pod)).toEqual(expect.arrayContaining(['istio-init', 'istio-proxy', 'migrate']));
    // A Job must be able to finish: the proxy is a native sidecar (restartPolicy Always init container).
    const proxy: Container | undefined = (pod.spec?.initContainers ?? []).find(
      (c) => c.name === 'istio-proxy',
    );
    expect(proxy?.restartPolicy).toBe('Always');
    await expectStoredAsPredicted(pod);
  });
});

describe('revision tags (as istioctl tag set creates them)', () => {
  const tagConfig = async (tag: string, entries: 'revision' | 'default'): Promise<KObject> => {
    const ours = await kcJson<KObject & { webhooks: Record<string, unknown>[] }>([
      'get',
      'mutatingwebhookconfiguration',
      CONFIG,
    ]);
    const byName = new Map(ours.webhooks.map((w) => [w.name as string, w]));
    const revEntry = (
      name: string,
      tagSelector: 'namespace' | 'object',
    ): Record<string, unknown> => {
      const base = structuredClone(byName.get(name)!);
      const ns = base.namespaceSelector as {
        matchExpressions: { key: string; operator: string; values?: string[] }[];
      };
      const obj = base.objectSelector as {
        matchExpressions: { key: string; operator: string; values?: string[] }[];
      };
      for (const e of tagSelector === 'namespace' ? ns.matchExpressions : obj.matchExpressions) {
        if (e.key === 'istio.io/rev') e.values = [tag];
      }
      return base;
    };
    const webhooks = [
      revEntry('rev.namespace.inject.sidecar-injector.io', 'namespace'),
      revEntry('rev.object.inject.sidecar-injector.io', 'object'),
      ...(entries === 'default'
        ? [
            structuredClone(byName.get('namespace.inject.sidecar-injector.io')!),
            structuredClone(byName.get('object.inject.sidecar-injector.io')!),
          ]
        : []),
    ];
    return {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: {
        name: `istio-revision-tag-${tag}`,
        labels: { 'istio.io/tag': tag, 'istio.io/rev': 'default', app: 'sidecar-injector' },
      },
      webhooks,
    };
  };

  // `istioctl tag set` writes only the webhook configuration: the injector learns the tag from its
  // labels (istio.io/tag=prod, istio.io/rev=default) through its informer, so a pod arriving
  // through the tag's entries is injected instead of skipped as revision-mismatch.
  it('a pod in a namespace labelled with a tag is injected by the revision the tag points to', async () => {
    await kc(['apply', '-f', '-'], JSON.stringify(await tagConfig('prod', 'revision')));
    try {
      await namespace('tagged', { 'istio.io/rev': 'prod' });
      // The API server and the injector both learn the new configuration through informers.
      await settle('tagged', true);
      const pod = await createPod('tagged', podManifest('tagged-app'));
      const event = await auditFor(
        (e) => e.verb === 'create' && e.responseObject?.metadata?.name === 'tagged-app',
        'audit of tagged-app',
      );
      // The API server did call us through the tag's entry...
      expect(JSON.stringify(event.annotations)).toContain('istio-revision-tag-prod');
      findings.push(
        `tag prod -> default: the API server called us through istio-revision-tag-prod; stored pod injected: ${injected(pod)}`,
      );
      // ...and the pod must come back injected.
      expect(injected(pod)).toBe(true);
    } finally {
      await kc([
        'delete',
        'mutatingwebhookconfiguration',
        'istio-revision-tag-prod',
        '--ignore-not-found',
      ]);
    }
  });

  it('the default tag: with the revision entries deactivated, pods are injected through the tag, once', async () => {
    // istioctl tag set default also neutralises the default entries of the untagged
    // configuration (they would otherwise match the same pods a second time).
    const ours = await kcJson<KObject & { webhooks: Record<string, unknown>[] }>([
      'get',
      'mutatingwebhookconfiguration',
      CONFIG,
    ]);
    const original = structuredClone(ours.webhooks);
    const never = {
      matchExpressions: [{ key: 'istio.io/deactivated', operator: 'In', values: ['never-match'] }],
    };
    const tag = await tagConfig('default', 'default');
    await jsonPatchOurWebhooks(
      ours.webhooks.flatMap((_w, i) => [
        { op: 'replace', path: `/webhooks/${i}/namespaceSelector`, value: never },
        { op: 'replace', path: `/webhooks/${i}/objectSelector`, value: never },
      ]),
    );
    await kc(['apply', '-f', '-'], JSON.stringify(tag));
    try {
      await namespace('default-tag', { 'istio-injection': 'enabled' });
      await settle('default-tag', true);
      const pod = await createPod('default-tag', podManifest('via-default-tag'));
      expect(injected(pod)).toBe(true);
      expect(allNames(pod).filter((n) => n === 'istio-proxy')).toHaveLength(1);
      const event = await auditFor(
        (e) => e.verb === 'create' && e.responseObject?.metadata?.name === 'via-default-tag',
        'audit',
      );
      const patches = patchesOf(event).filter((p) => p.configuration !== '00-suite-recorder');
      expect(patches.map((p) => p.configuration)).toEqual(['istio-revision-tag-default']);
      await expectStoredAsPredictedFor(pod, 'istio-revision-tag-default');
    } finally {
      await kc([
        'delete',
        'mutatingwebhookconfiguration',
        'istio-revision-tag-default',
        '--ignore-not-found',
      ]);
      await restoreWebhooks(original);
    }
  });
});

describe('Events about skipped and denied pods', () => {
  interface StoredEvent {
    reason: string;
    type: string;
    count?: number;
    message: string;
    involvedObject: { kind: string; name: string; uid?: string };
  }
  const eventsIn = async (ns: string, reason: string): Promise<StoredEvent[]> =>
    (
      await kcJson<{ items: StoredEvent[] }>([
        '-n',
        ns,
        'get',
        'events',
        `--field-selector=reason=${reason}`,
      ])
    ).items;

  it('a Deployment whose pods opt out gets one Event on its ReplicaSet; a denied pod a Warning', async () => {
    await namespace('evented', { 'istio-injection': 'enabled' });
    await settle('evented', true);
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'quiet' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'quiet' } },
        template: {
          metadata: {
            labels: { app: 'quiet' },
            annotations: { 'sidecar.istio.io/inject': 'false' },
          },
          spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
        },
      },
    };
    await kc(['-n', 'evented', 'apply', '-f', '-'], JSON.stringify(deployment));
    const skipped = await eventually(async () => {
      const found = await eventsIn('evented', 'SidecarInjectionSkipped');
      const total = found.reduce((n, e) => n + (e.count ?? 1), 0);
      return total >= 3 ? found : undefined;
    }, 'Events for the skipped pods');
    const rs = await kcJson<{ items: { metadata: { name: string; uid: string } }[] }>([
      '-n',
      'evented',
      'get',
      'replicasets',
      '-l',
      'app=quiet',
    ]);
    expect(skipped.map((e) => e.involvedObject)).toEqual(
      skipped.map(() => ({
        kind: 'ReplicaSet',
        name: rs.items[0]?.metadata.name,
        uid: rs.items[0]?.metadata.uid,
        apiVersion: 'apps/v1',
        namespace: 'evented',
      })),
    );
    // Three pods, one reason: aggregated, not one Event per pod.
    expect(skipped.length).toBeLessThan(3);
    expect(skipped[0]?.type).toBe('Normal');
    expect(skipped[0]?.message).toContain('of Deployment/quiet');

    const denied = await cp.kubectl(
      ['-n', 'evented', 'create', '-f', '-'],
      JSON.stringify(
        podManifest('bad-cpu', { annotations: { 'sidecar.istio.io/proxyCPU': 'lots' } }),
      ),
    );
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('INJ_ERR_INVALID_ANNOTATION');
    const warning = await eventually(
      async () => (await eventsIn('evented', 'SidecarInjectionDenied'))[0],
      'Event for the denied pod',
    );
    expect(warning.type).toBe('Warning');
    expect(warning.involvedObject).toMatchObject({ kind: 'Pod', name: 'bad-cpu' });
    expect(warning.message).toContain('INJ_ERR_INVALID_ANNOTATION');
    findings.push(
      `Events: ${skipped.reduce((n, e) => n + (e.count ?? 1), 0)} skipped pods of Deployment quiet -> ${skipped.length} Event(s) on ReplicaSet ${rs.items[0]?.metadata.name}; denied pod -> Warning ${warning.reason}`,
    );
  });
});

describe('sidecar-injector tag against the real API server', () => {
  it('tag set creates a tag configuration the API server accepts and the injector honours; list shows it; remove takes it away', async () => {
    const steps: string[] = [];
    const tag = async (...args: string[]) => {
      const started = Date.now();
      const r = await cli(['tag', ...args, `--kubeconfig=${cp.info.kubeconfig}`]);
      steps.push(`tag ${args[0] ?? ''} ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return r;
    };
    const dry = await tag('set', 'stable', '--revision=default', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('name: sidecar-injector-revision-tag-stable');
    expect(
      (
        await cp.kubectl([
          'get',
          'mutatingwebhookconfiguration',
          'sidecar-injector-revision-tag-stable',
        ])
      ).code,
    ).not.toBe(0);

    const set = await tag('set', 'stable', '--revision=default');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('Revision tag "stable" created, referencing revision "default"');
    try {
      const stored = await kcJson<
        KObject & { webhooks: { name: string; clientConfig: unknown }[] }
      >(['get', 'mutatingwebhookconfiguration', 'sidecar-injector-revision-tag-stable']);
      expect(stored.metadata?.labels).toMatchObject({
        'istio.io/tag': 'stable',
        'istio.io/rev': 'default',
        app: 'sidecar-injector',
      });
      const ours = await kcJson<KObject & { webhooks: { clientConfig: unknown }[] }>([
        'get',
        'mutatingwebhookconfiguration',
        CONFIG,
      ]);
      // Same endpoint and caBundle as the revision's own configuration.
      for (const w of stored.webhooks)
        expect(w.clientConfig).toEqual(ours.webhooks[0]?.clientConfig);

      const again = await tag('set', 'stable', '--revision=default');
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('INJ_ERR_TAG_CONFLICT: revision tag "stable" already exists');

      await namespace('via-cli-tag', { 'istio.io/rev': 'stable' });
      const learning = Date.now();
      await settle('via-cli-tag', true);
      steps.push(
        `injected through the new tag after ${((Date.now() - learning) / 1000).toFixed(1)} s`,
      );
      const pod = await createPod('via-cli-tag', podManifest('cli-tagged'));
      expect(injected(pod)).toBe(true);
      const event = await auditFor(
        (e) => e.verb === 'create' && e.responseObject?.metadata?.name === 'cli-tagged',
        'audit of cli-tagged',
      );
      expect(JSON.stringify(event.annotations)).toContain('sidecar-injector-revision-tag-stable');

      const list = await tag('list');
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(
        /^stable\s+default\s+via-cli-tag\s+sidecar-injector-revision-tag-stable$/m,
      );

      const refused = await tag('remove', 'stable');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('namespace(s) still use tag "stable" (via-cli-tag)');
      const removed = await tag('remove', 'stable', '--skip-confirmation');
      expect(removed.code, removed.stderr).toBe(0);
      const forgetting = Date.now();
      await settle('via-cli-tag', false);
      steps.push(
        `not injected after remove within ${((Date.now() - forgetting) / 1000).toFixed(1)} s`,
      );
      findings.push(
        `tag set/list/remove: the API server stored, listed and deleted the tag configuration (${steps.join(', ')})`,
      );
    } finally {
      await kc([
        'delete',
        'mutatingwebhookconfiguration',
        'sidecar-injector-revision-tag-stable',
        '--ignore-not-found',
      ]);
    }
  });
});

describe('tags moved between two revisions, and the default tag (sidecar-injector tag, real API server)', () => {
  // A second revision beside the default one, installed as the chart installs revision=canary:
  // its ConfigMaps (istio-sidecar-injector-canary, istio-canary), a configuration labelled
  // istio.io/rev=canary with only the rev.* entries, and its own `serve --revision=canary`.
  const REV = 'canary';
  const CANARY_CONFIG = `sidecar-injector-${REV}`;
  const TAG_CONFIGS = [
    'sidecar-injector-revision-tag-prod',
    'sidecar-injector-revision-tag-default',
  ];
  let canary: Injector | undefined;
  let canaryUrl = '';
  let original: Record<string, unknown>[] | undefined;

  /** The revision that injected a pod: the istio.io/rev annotation the injector writes. */
  const revisionOf = (pod: Pod): string | undefined =>
    injected(pod) ? pod.metadata?.annotations?.['istio.io/rev'] : undefined;
  const tag = (...args: string[]) => cli(['tag', ...args, `--kubeconfig=${cp.info.kubeconfig}`]);
  const proxies = (pod: Pod): number => allNames(pod).filter((n) => n === 'istio-proxy').length;

  /** Both informers (the API server's and the injectors') have the change: a dry run says so. */
  async function settleRevision(ns: string, revision: string | undefined): Promise<void> {
    await eventually(
      async () => {
        const probe = podManifest(`probe-${Date.now()}`);
        const r = await cp.kubectl(
          ['-n', ns, 'create', '--dry-run=server', '-o', 'json', '-f', '-'],
          JSON.stringify(probe),
        );
        return r.code === 0 && revisionOf(JSON.parse(r.stdout) as Pod) === revision;
      },
      `new pods of ${ns} injected by ${revision ?? 'no revision'}`,
    );
  }

  async function callers(podName: string): Promise<string[]> {
    const event = await auditFor(
      (e) => e.verb === 'create' && e.responseObject?.metadata?.name === podName,
      `audit of ${podName}`,
    );
    return patchesOf(event)
      .filter((p) => p.configuration !== '00-suite-recorder')
      .map((p) => p.configuration);
  }

  async function restoreOurEntries(): Promise<void> {
    if (original === undefined) return;
    await restoreWebhooks(original);
  }

  beforeAll(async () => {
    for (const [from, to] of [
      ['istio-sidecar-injector', `istio-sidecar-injector-${REV}`],
      ['istio', `istio-${REV}`],
    ] as const) {
      const cm = await kcJson<{ data?: Record<string, string> }>([
        '-n',
        INJECTOR_NS,
        'get',
        'configmap',
        from,
      ]);
      await kc(
        ['-n', INJECTOR_NS, 'apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: to, namespace: INJECTOR_NS },
          data: cm.data ?? {},
        }),
      );
    }
    const port = await freePort();
    canaryUrl = `https://127.0.0.1:${port}`;
    const ours = await ourWebhooks();
    original = structuredClone(ours.webhooks);
    type Selector = { matchExpressions?: { key: string; values?: string[] }[] };
    const webhooks = ours.webhooks
      .filter((w) => String(w.name).startsWith('rev.'))
      .map((w) => {
        const entry = structuredClone(w);
        for (const selector of [entry.namespaceSelector, entry.objectSelector] as Selector[]) {
          for (const e of selector.matchExpressions ?? []) {
            if (e.key === 'istio.io/rev' && e.values !== undefined) e.values = [REV];
          }
        }
        const { caBundle } = w.clientConfig as { caBundle: string };
        entry.clientConfig = { url: `${canaryUrl}/inject`, caBundle };
        return entry;
      });
    await kc(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: {
          name: CANARY_CONFIG,
          labels: { ...(ours.metadata?.labels as Record<string, string>), 'istio.io/rev': REV },
        },
        webhooks,
      }),
    );
    canary = await startInjector({
      port,
      certFile: cp.info.webhookCertFile,
      keyFile: cp.info.webhookKeyFile,
      kubeconfig: injectorKubeconfig,
      caFile: cp.info.caFile,
      revision: REV,
    });
    await namespace('tag-moves', { 'istio.io/rev': 'prod' });
    await namespace('default-tag-cli', { 'istio-injection': 'enabled' });
  }, 180_000);

  afterAll(async () => {
    await cp.kubectl([
      'delete',
      'mutatingwebhookconfiguration',
      CANARY_CONFIG,
      ...TAG_CONFIGS,
      '--ignore-not-found',
    ]);
    await restoreOurEntries();
    await canary?.stop();
  }, 60_000);

  it('tag set, then --overwrite to another revision: new pods of the tagged namespace get the revision the tag points to; remove ends it', async () => {
    const steps: string[] = [];
    // Nothing selects istio.io/rev=prod yet: the API server does not call anyone.
    const before = await createPod('tag-moves', podManifest('before-tag'));
    expect(injected(before)).toBe(false);

    const set = await tag('set', 'prod', '--revision=default');
    expect(set.code, set.stderr).toBe(0);
    await settleRevision('tag-moves', 'default');
    const first = await createPod('tag-moves', podManifest('prod-on-default'));
    expect(revisionOf(first)).toBe('default');
    expect(proxies(first)).toBe(1);
    expect(await callers('prod-on-default')).toEqual(['sidecar-injector-revision-tag-prod']);
    // check --cluster learns the tag from the cluster as the server does: the pod created before
    // the tag now lacks the sidecar the tag brings.
    const withTag = await checkCluster('tag-moves');
    expect(withTag.revisionTags).toEqual(['prod']);
    expect(withTag.pods.map((f) => [f.problem, f.pod])).toEqual([
      ['missing-sidecar', 'before-tag'],
    ]);

    const refused = await tag('set', 'prod', `--revision=${REV}`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('INJ_ERR_TAG_CONFLICT: revision tag "prod" already exists');
    const moving = Date.now();
    const moved = await tag('set', 'prod', `--revision=${REV}`, '--overwrite');
    expect(moved.code, moved.stderr).toBe(0);
    const stored = await kcJson<KObject & { webhooks: { clientConfig: unknown }[] }>([
      'get',
      'mutatingwebhookconfiguration',
      'sidecar-injector-revision-tag-prod',
    ]);
    expect(stored.metadata?.labels).toMatchObject({ 'istio.io/tag': 'prod', 'istio.io/rev': REV });
    const canaryConfig = await kcJson<KObject & { webhooks: { clientConfig: unknown }[] }>([
      'get',
      'mutatingwebhookconfiguration',
      CANARY_CONFIG,
    ]);
    for (const w of stored.webhooks) {
      expect(w.clientConfig).toEqual(canaryConfig.webhooks[0]?.clientConfig);
    }
    await settleRevision('tag-moves', REV);
    steps.push(
      `new pods on ${REV} ${((Date.now() - moving) / 1000).toFixed(1)} s after --overwrite`,
    );
    const second = await createPod('tag-moves', podManifest('prod-on-canary'));
    expect(revisionOf(second)).toBe(REV);
    expect(proxies(second)).toBe(1);
    expect(await callers('prod-on-canary')).toEqual(['sidecar-injector-revision-tag-prod']);
    // The default revision no longer owns the tag: its pod there now runs a stale revision.
    const moved2 = await checkCluster('tag-moves');
    expect(moved2.revisionTags).toEqual([]);
    expect(moved2.pods).toContainEqual(
      expect.objectContaining({ problem: 'stale-revision', pod: 'prod-on-default' }),
    );

    const removed = await tag('remove', 'prod', '--skip-confirmation');
    expect(removed.code, removed.stderr).toBe(0);
    await settleRevision('tag-moves', undefined);
    const after = await createPod('tag-moves', podManifest('after-remove'));
    expect(injected(after)).toBe(false);
    findings.push(`tag prod: default -> ${REV} with --overwrite, removed (${steps.join(', ')})`);
  });

  it("the chart's tag webhook (helm template revision=canary, revisionTags={chart-tag}) gets pods injected by the revision it points to", async (ctx) => {
    const helm = await builtHelm(ctx, 'chart tag');
    if (helm === undefined) return;
    const rendered = await runTool(helm, [
      'template',
      'sidecar-injector',
      join(ROOT, 'charts/sidecar-injector'),
      '--namespace',
      INJECTOR_NS,
      '--kube-version',
      '1.33.0',
      '--set',
      `revision=${REV}`,
      '--set',
      'revisionTags={chart-tag}',
    ]);
    // The chart's object as rendered; only its Service reference becomes the canary's listener.
    const tagConfig = pointWebhooksAt(rendered, canaryUrl, ca).find(
      (o) =>
        o.kind === 'MutatingWebhookConfiguration' &&
        (o.metadata?.labels as Record<string, string> | undefined)?.['istio.io/tag'] ===
          'chart-tag',
    );
    expect(tagConfig?.metadata?.name).toBe('sidecar-injector-revision-tag-chart-tag');
    await kc(['apply', '--validate=strict', '-f', '-'], JSON.stringify(tagConfig));
    try {
      await namespace('chart-tagged', { 'istio.io/rev': 'chart-tag' });
      await settleRevision('chart-tagged', REV);
      const pod = await createPod('chart-tagged', podManifest('via-chart-tag'));
      expect(revisionOf(pod)).toBe(REV);
      expect(proxies(pod)).toBe(1);
      expect(await callers('via-chart-tag')).toEqual(['sidecar-injector-revision-tag-chart-tag']);
      findings.push(`the chart's tag webhook chart-tag -> ${REV}: pods injected by ${REV}`);
    } finally {
      await cp.kubectl([
        'delete',
        'mutatingwebhookconfiguration',
        'sidecar-injector-revision-tag-chart-tag',
        '--ignore-not-found',
      ]);
    }
  });

  it('tag set default --revision canary: istio-injection=enabled pods are injected by canary, once, and the default revision takes them back when its entries return', async () => {
    await settleRevision('default-tag-cli', 'default');
    const set = await tag('set', 'default', `--revision=${REV}`);
    expect(set.code, set.stderr).toBe(0);
    try {
      // As istioctl: the default revision's default entries are neutralised, not deleted.
      const ours = await ourWebhooks();
      const neutral = ours.webhooks.filter((w) =>
        JSON.stringify(w.namespaceSelector).includes('istio.io/deactivated'),
      );
      expect(neutral.map((w) => w.name)).toEqual(
        expect.arrayContaining([
          'namespace.inject.sidecar-injector.io',
          'object.inject.sidecar-injector.io',
        ]),
      );
      // The canary must learn the tag `default` from the cluster, or it would skip these pods as
      // selected for the default revision, not for it.
      await settleRevision('default-tag-cli', REV);
      const pod = await createPod('default-tag-cli', podManifest('default-tag-on-canary'));
      expect(revisionOf(pod)).toBe(REV);
      expect(proxies(pod)).toBe(1);
      expect(await callers('default-tag-on-canary')).toEqual([
        'sidecar-injector-revision-tag-default',
      ]);

      const removed = await tag('remove', 'default', '--skip-confirmation');
      expect(removed.code, removed.stderr).toBe(0);
      await restoreOurEntries();
      await settleRevision('default-tag-cli', 'default');
      const back = await createPod('default-tag-cli', podManifest('default-again'));
      expect(revisionOf(back)).toBe('default');
      expect(await callers('default-again')).toEqual([CONFIG]);
      findings.push(
        `tag default -> ${REV}: istio-injection=enabled pods injected by ${REV} through sidecar-injector-revision-tag-default, once`,
      );
    } finally {
      await cp.kubectl([
        'delete',
        'mutatingwebhookconfiguration',
        ...TAG_CONFIGS,
        '--ignore-not-found',
      ]);
      await restoreOurEntries();
    }
  });
});

describe('the Helm chart on the real API server', () => {
  it('every object helm template renders (canary revision with a tag) is accepted and stored', async (ctx) => {
    const helm = await builtHelm(ctx, 'chart apply');
    if (helm === undefined) return;
    const release = 'chart-canary';
    await kc(['create', 'namespace', release]);
    // A revision and tag no scenario namespace uses: the rendered webhooks never select a suite pod.
    const rendered = await runTool(helm, [
      'template',
      'sidecar-injector',
      join(ROOT, 'charts/sidecar-injector'),
      '--namespace',
      release,
      '--kube-version',
      '1.33.0',
      '--set',
      'revision=1-99',
      '--set',
      'revisionTags={chart-tag}',
      '--set',
      'configMaps.create=true',
    ]);
    const objects = parseAllDocuments(rendered)
      .map((d) => d.toJS() as KObject | null)
      .filter((o): o is KObject => o !== null);
    expect(objects.length).toBeGreaterThan(5);
    const yaml = objects.map((o) => toYaml(o)).join('---\n');
    try {
      // Server-side validation of every field (unknown fields fail), then the real write.
      const dry = await cp.kubectl(
        ['apply', '--dry-run=server', '--validate=strict', '-f', '-'],
        yaml,
      );
      expect(dry.code, dry.stderr).toBe(0);
      await kc(['apply', '--validate=strict', '-f', '-'], yaml);
      // Read back from storage: `get -f` fails on any object that is missing.
      const stored = await cp.kubectl(['get', '-f', '-', '-o', 'name'], yaml);
      expect(stored.code, stored.stderr).toBe(0);
      expect(stored.stdout.trim().split('\n')).toHaveLength(objects.length);
      const kinds = objects.map((o) => o.kind).sort();
      findings.push(
        `helm template (revision 1-99, tag chart-tag) applied and stored: ${kinds.join(', ')}`,
      );
      // The tag configuration the chart wrote is what `tag list` reports.
      const list = await cli(['tag', 'list', '-o', 'json', `--kubeconfig=${cp.info.kubeconfig}`]);
      expect(JSON.parse(list.stdout)).toContainEqual(
        expect.objectContaining({ tag: 'chart-tag', revision: '1-99' }),
      );
    } finally {
      await cp.kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], yaml);
      await cp.kubectl(['delete', 'namespace', release, '--wait=false']);
    }
  });
});

describe('the Helm chart on the real API server: the default and cert-manager cases', () => {
  /** cert-manager's two kinds the chart writes, their group, version and names; schema left open. */
  const certManagerCrd = (kind: string, plural: string): KObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.cert-manager.io` },
    spec: {
      group: 'cert-manager.io',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  });

  it('every object helm template renders is accepted by a server-side dry-run create', async (ctx) => {
    const helm = await builtHelm(ctx, 'chart cases');
    if (helm === undefined) return;
    for (const crd of [
      certManagerCrd('Certificate', 'certificates'),
      certManagerCrd('Issuer', 'issuers'),
    ]) {
      await kc(['apply', '-f', '-'], JSON.stringify(crd));
      await kc(['wait', '--for=condition=Established', `crd/${String(crd.metadata?.name)}`]);
    }
    // istiod's namespace, where the chart's Role reads the ConfigMaps (README step 2 creates it).
    if ((await cp.kubectl(['get', 'namespace', 'istio-system'])).code !== 0) {
      await kc(['create', 'namespace', 'istio-system']);
    }
    const cases: [string, string[]][] = [
      ['default', []],
      ['cert-manager', ['certificates.mode=certManager']],
    ];
    for (const [name, set] of cases) {
      const ns = `chart-${name}`;
      await kc(['create', 'namespace', ns]);
      const args = ['template', 'sidecar-injector', join(ROOT, 'charts/sidecar-injector')];
      args.push('--namespace', ns, '--kube-version', '1.33.0');
      for (const s of set) args.push('--set', s);
      const objects = parseAllDocuments(await runTool(helm, args))
        .map((d) => d.toJS() as KObject | null)
        .filter((o): o is KObject => o !== null);
      // The suite's own install holds the cluster-scoped names: the dry run gets its own.
      for (const o of objects) {
        if (
          ['MutatingWebhookConfiguration', 'ClusterRole', 'ClusterRoleBinding'].includes(
            o.kind ?? '',
          )
        ) {
          o.metadata = { ...o.metadata, name: `${String(o.metadata?.name)}-${ns}` };
        }
        const ref = o.roleRef as { kind?: string; name?: string } | undefined;
        if (ref?.kind === 'ClusterRole') ref.name = `${ref.name}-${ns}`;
      }
      const created = await cp.kubectl(
        ['create', '--dry-run=server', '--validate=strict', '-o', 'name', '-f', '-'],
        objects.map((o) => toYaml(o)).join('---\n'),
      );
      expect(created.code, `${name}: ${created.stderr}`).toBe(0);
      expect(created.stdout.trim().split('\n'), name).toHaveLength(objects.length);
      findings.push(
        `helm template (${name}) accepted by a dry-run create: ${objects.map((o) => o.kind).join(', ')}`,
      );
      await cp.kubectl(['delete', 'namespace', ns, '--wait=false']);
    }
  });
});

/** Runs the built CLI (dist/) as a user would. */
async function cli(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist/bin/cli.js'), ...args],
      { timeout: 60_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function expectStoredAsPredictedFor(stored: Pod, configuration: string): Promise<void> {
  const id = stored.metadata?.annotations?.[TRACE_ANNOTATION] ?? '';
  const event = await auditFor(
    (e) =>
      e.verb === 'create' &&
      (e.responseObject?.metadata as Pod['metadata'])?.annotations?.[TRACE_ANNOTATION] === id,
    'audit',
  );
  const patch = patchesOf(event).find((p) => p.configuration === configuration);
  expect(patch).toBeDefined();
  const predicted = predict(hook.recorded.get(id)!, patch!.patch);
  // Same containers, in the same order, as our applier predicts.
  expect(allNames(stored)).toEqual(allNames(predicted));
}

describe('when the injector is down or slow', () => {
  it('failurePolicy Fail: pod creation is refused with a clear error and nothing is stored', async () => {
    await namespace('outage', { 'istio-injection': 'enabled' });
    await settle('outage', true);
    await injector?.stop();
    injector = undefined;
    const r = await cp.kubectl(
      ['-n', 'outage', 'create', '-f', '-'],
      JSON.stringify(podManifest('refused')),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/failed calling webhook "namespace\.inject\.sidecar-injector\.io"/);
    expect(r.stderr).toContain(`https://127.0.0.1:${injectorPort}/inject`);
    findings.push(
      `webhook down, failurePolicy Fail: ${r.stderr.trim().split('\n').at(-1)?.slice(0, 300)}`,
    );
    expect((await cp.kubectl(['-n', 'outage', 'get', 'pod', 'refused'])).code).not.toBe(0);

    // A Deployment: the ReplicaSet exists, its pods do not, and the controller reports why.
    await kc(['-n', 'outage', 'create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2']);
    const rs = await eventually(
      async () => {
        const list = await kcJson<{
          items: {
            metadata: { name: string };
            status?: { conditions?: { type: string; message?: string }[] };
          }[];
        }>(['-n', 'outage', 'get', 'replicasets']);
        const failure = list.items[0]?.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
        return failure ? failure : undefined;
      },
      'ReplicaFailure condition',
      60_000,
    );
    expect(rs.message).toContain('failed calling webhook');
    const pods = await kcJson<{ items: Pod[] }>(['-n', 'outage', 'get', 'pods']);
    expect(pods.items).toEqual([]);
  });

  it('failurePolicy Ignore: pods are created without a sidecar while the injector is down', async () => {
    const ours = await kcJson<KObject & { webhooks: unknown[] }>([
      'get',
      'mutatingwebhookconfiguration',
      CONFIG,
    ]);
    const setPolicy = (p: string): Promise<string> =>
      jsonPatchOurWebhooks(
        ours.webhooks.map((_w, i) => ({
          op: 'replace',
          path: `/webhooks/${i}/failurePolicy`,
          value: p,
        })),
      );
    await setPolicy('Ignore');
    try {
      const pod = await eventually(async () => {
        const r = await cp.kubectl(
          ['-n', 'outage', 'create', '-o', 'json', '-f', '-'],
          JSON.stringify(podManifest(`ignored-${Date.now()}`)),
        );
        return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
      }, 'pod admitted under Ignore');
      expect(injected(pod)).toBe(false);
      const event = await auditFor(
        (e) => e.verb === 'create' && e.responseObject?.metadata?.name === pod.metadata?.name,
        'audit',
      );
      expect(
        Object.keys(event.annotations ?? {}).some((k) =>
          k.startsWith('failed-open.mutation.webhook.admission.k8s.io/'),
        ),
      ).toBe(true);
    } finally {
      await setPolicy('Fail');
    }
  });

  it('a frozen injector: the API server gives up after timeoutSeconds and applies failurePolicy', async () => {
    injector = await startInjector({
      port: injectorPort,
      certFile: cp.info.webhookCertFile,
      keyFile: cp.info.webhookKeyFile,
      kubeconfig: injectorKubeconfig,
      caFile: cp.info.caFile,
    });
    await settle('outage', true);
    // The API server told every webhook its deadline in the query: our parser must read it.
    const query = hook.calls.at(-1)?.query ?? '';
    const timeout = new URLSearchParams(query).get('timeout') ?? '';
    expect(parseGoDuration(timeout)).toBe(5_000);
    const pid = injector.pid;
    process.kill(pid, 'SIGSTOP');
    const start = Date.now();
    let r: Awaited<ReturnType<ControlPlane['kubectl']>>;
    try {
      r = await cp.kubectl(
        ['-n', 'outage', 'create', '-f', '-'],
        JSON.stringify(podManifest('too-slow')),
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const elapsed = (Date.now() - start) / 1000;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/context deadline exceeded|timeout|Timeout/);
    // timeoutSeconds is 10 as shipped.
    expect(elapsed).toBeGreaterThanOrEqual(9.5);
    expect(elapsed).toBeLessThan(30);
    findings.push(
      `frozen injector: refused after ${elapsed.toFixed(1)} s: ${r.stderr.trim().split('\n').at(-1)?.slice(0, 300)}`,
    );
    await settle('outage', true);
  });
});

describe('ProxyConfig resources', () => {
  it('a namespace ProxyConfig reaches its pods; a workload one wins for the pods it selects', async () => {
    await namespace('tuned', { 'istio-injection': 'enabled' });
    const proxyConfig = (name: string, spec: Record<string, unknown>) =>
      JSON.stringify({
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'ProxyConfig',
        metadata: { name, namespace: 'tuned' },
        spec,
      });
    await kc(
      ['apply', '-f', '-'],
      proxyConfig('namespace-wide', { concurrency: 3, environmentVariables: { TUNED: 'ns' } }),
    );
    await kc(
      ['apply', '-f', '-'],
      proxyConfig('web', { selector: { matchLabels: { app: 'web' } }, concurrency: 1 }),
    );
    const proxyConfigOf = (pod: Pod): Record<string, unknown> => {
      const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
        (c) => c.name === 'istio-proxy',
      );
      const text = proxy?.env?.find((e) => e.name === 'PROXY_CONFIG')?.value ?? '{}';
      return JSON.parse(text) as Record<string, unknown>;
    };
    // The injector's informer sees the resources shortly after they are stored.
    const other = await eventually(async () => {
      const r = await cp.kubectl(
        ['-n', 'tuned', 'create', '--dry-run=server', '-o', 'json', '-f', '-'],
        JSON.stringify(podManifest('other')),
      );
      if (r.code !== 0) return undefined;
      const pod = JSON.parse(r.stdout) as Pod;
      return proxyConfigOf(pod)['concurrency'] === 3 ? pod : undefined;
    }, 'the namespace ProxyConfig applied');
    expect(proxyConfigOf(other)['proxyMetadata']).toMatchObject({ TUNED: 'ns' });
    const web = await createPod('tuned', podManifest('web'));
    expect(proxyConfigOf(web)).toMatchObject({ concurrency: 1, proxyMetadata: { TUNED: 'ns' } });
    await expectStoredAsPredicted(web);
  });
});

describe('API paths beyond a plain create', () => {
  it('kubectl create --dry-run=server returns the injected pod and stores nothing', async () => {
    const out = await kcJson<Pod>(
      ['-n', 'bookinfo', 'create', '--dry-run=server', '-f', '-'],
      JSON.stringify(podManifest('dry')),
    );
    expect(injected(out)).toBe(true);
    expect((await cp.kubectl(['-n', 'bookinfo', 'get', 'pod', 'dry'])).code).not.toBe(0);
    expect(hook.calls.some((c) => c.dryRun && c.pod.metadata?.name === 'dry')).toBe(true);
  });

  it('server-side apply of a Deployment, then a change, injects every generation of pods', async () => {
    await namespace('ssa', { 'istio-injection': 'enabled' });
    await settle('ssa', true);
    const deployment = (image: string): string =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] },
          },
        },
      });
    await kc(
      ['-n', 'ssa', 'apply', '--server-side', '--field-manager=platform', '-f', '-'],
      deployment('nginx:1.27'),
    );
    const first = await eventually(
      async () => {
        const l = await kcJson<{ items: Pod[] }>(['-n', 'ssa', 'get', 'pods']);
        return l.items.length === 2 ? l.items : undefined;
      },
      'two pods',
      60_000,
    );
    for (const p of first) expect(injected(p)).toBe(true);
    await kc(
      ['-n', 'ssa', 'apply', '--server-side', '--field-manager=platform', '-f', '-'],
      deployment('nginx:1.28'),
    );
    const second = await eventually(
      async () => {
        const l = await kcJson<{ items: Pod[] }>(['-n', 'ssa', 'get', 'pods']);
        const fresh = l.items.filter((p) =>
          (p.spec?.containers ?? []).some((c) => c.image === 'nginx:1.28'),
        );
        return fresh.length >= 1 ? fresh : undefined;
      },
      'a pod of the new ReplicaSet',
      60_000,
    );
    for (const p of second) {
      expect(injected(p)).toBe(true);
      await expectStoredAsPredicted(p);
    }
  });

  it('an UPDATE of an injected pod is not sent to us and keeps exactly one sidecar', async () => {
    const list = await kcJson<{ items: Pod[] }>([
      '-n',
      'bookinfo',
      'get',
      'pods',
      '-l',
      'app=productpage',
    ]);
    const name = list.items[0]?.metadata?.name ?? '';
    const callsBefore = hook.calls.length;
    await kc(['-n', 'bookinfo', 'label', 'pod', name, 'tier=frontend']);
    await kc(['-n', 'bookinfo', 'annotate', 'pod', name, 'owner=platform']);
    const after = await getPod('bookinfo', name);
    expect(after.metadata?.labels?.tier).toBe('frontend');
    expect(allNames(after)).toEqual(allNames(list.items[0]!));
    expect(allNames(after).filter((n) => n === 'istio-proxy')).toHaveLength(1);
    expect(hook.calls.length).toBe(callsBefore);
  });

  it('kubectl debug adds an ephemeral container to an injected pod', async () => {
    const list = await kcJson<{ items: Pod[] }>([
      '-n',
      'bookinfo',
      'get',
      'pods',
      '-l',
      'app=details',
    ]);
    const name = list.items[0]?.metadata?.name ?? '';
    await kc([
      '-n',
      'bookinfo',
      'debug',
      name,
      '--image=busybox:1.36',
      '--container=debugger',
      '--',
      'sleep',
      '1',
    ]);
    const after = await getPod('bookinfo', name);
    expect(
      (after.spec?.ephemeralContainers as { name: string }[] | undefined)?.map((c) => c.name),
    ).toEqual(['debugger']);
    expect(allNames(after)).toEqual(allNames(list.items[0]!));
  });

  it('a second mutating webhook with reinvocationPolicy IfNeeded: both mutations survive', async () => {
    const hookPort = Number(
      new URL(
        (
          await kcJson<{ webhooks: { clientConfig: { url: string } }[] }>([
            'get',
            'mutatingwebhookconfiguration',
            '00-suite-recorder',
          ])
        ).webhooks[0]!.clientConfig.url,
      ).port,
    );
    await kc(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: '00-metrics-agent' },
        webhooks: [
          {
            name: 'agent.suite.sidecar-injector.io',
            clientConfig: {
              url: `https://127.0.0.1:${hookPort}/second`,
              caBundle: Buffer.from(ca).toString('base64'),
            },
            rules: [
              { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
            ],
            namespaceSelector: { matchLabels: { 'suite.sidecar-injector.io/agent': 'true' } },
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
            failurePolicy: 'Fail',
            timeoutSeconds: 5,
            reinvocationPolicy: 'IfNeeded',
          },
        ],
      }),
    );
    try {
      await namespace('agents', {
        'istio-injection': 'enabled',
        'suite.sidecar-injector.io/agent': 'true',
      });
      await settle('agents', true);
      const pod = await createPod('agents', podManifest('with-agent'));
      const calls = hook.calls.filter(
        (c) => c.path === '/second' && c.pod.metadata?.name === 'with-agent' && !c.dryRun,
      );
      // Called first (name order), then again because we changed the pod after it.
      expect(calls.map((c) => injected(c.pod))).toEqual([false, true]);
      expect(names(pod, 'containers')).toEqual(expect.arrayContaining(['app', 'metrics-agent']));
      expect(allNames(pod).filter((n) => n === 'istio-proxy')).toHaveLength(1);
      // We saw the agent's container, so its HTTP probe was rewritten to the proxy's agent port.
      const agent = (pod.spec?.containers ?? []).find((c) => c.name === 'metrics-agent');
      expect(JSON.stringify(agent?.readinessProbe)).toContain('15020');
      await expectStoredAsPredicted(pod);
    } finally {
      await kc(['delete', 'mutatingwebhookconfiguration', '00-metrics-agent']);
    }
  });

  it('a pod with 2 000 environment variables goes through (client-node)', async () => {
    const env = Array.from({ length: 2000 }, (_v, i) => ({
      name: `VAR_${i}`,
      value: `value-${i}`,
    }));
    const manifest = podManifest('env-heavy');
    manifest.spec!.containers![0]!.env = env;
    const created = await core.createNamespacedPod({
      namespace: 'bookinfo',
      body: manifest as k8s.V1Pod,
    });
    expect(created.spec?.containers.find((c) => c.name === 'app')?.env).toHaveLength(2000);
    const stored = await getPod('bookinfo', 'env-heavy');
    expect(injected(stored)).toBe(true);
    await expectStoredAsPredicted(stored);
  });

  it('a pod with 10 containers goes through (client-node)', async () => {
    const manifest = podManifest('ten');
    manifest.spec!.containers = Array.from({ length: 10 }, (_v, i) => ({
      name: `c${i}`,
      image: 'nginx:1.27',
      ports: [{ containerPort: 8000 + i }],
      readinessProbe: { httpGet: { path: `/ready/${i}`, port: 8000 + i } },
    }));
    await core.createNamespacedPod({ namespace: 'bookinfo', body: manifest as k8s.V1Pod });
    const stored = await getPod('bookinfo', 'ten');
    expect(names(stored, 'containers').filter((n) => /^c\d$/.test(n))).toHaveLength(10);
    expect(injected(stored)).toBe(true);
    await expectStoredAsPredicted(stored);
  });
});

/** GET on the running injector's TLS port (its /metrics and /readyz), verified against the CA. */
async function injectorGet(path: string): Promise<{ status: number; body: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: injectorPort, path, ca, agent: false, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

/** The value of one series of the injector's /metrics; undefined when the series is absent. */
async function injectorMetric(
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const { body } = await injectorGet('/metrics');
  let sum: number | undefined;
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? ([^ ]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) {
      sum = (sum ?? 0) + Number(m[3]);
    }
  }
  return sum;
}

interface ReadyFinding {
  code: string;
  webhook: string;
}

/** The webhook self-check's findings as /readyz details them (informational, never a failure). */
async function readinessFindings(): Promise<ReadyFinding[]> {
  const r = await injectorGet('/readyz');
  expect(r.status, 'findings never make the injector unready').toBe(200);
  const body = JSON.parse(r.body) as { details?: { webhooks?: { findings?: ReadyFinding[] } } };
  return body.details?.webhooks?.findings ?? [];
}

interface LogLine {
  msg?: string;
  [k: string]: unknown;
}

/**
 * The injector's log lines that match, once at least `count` of them are there: the server
 * buffers its log (flushed every 250 ms), so a line can follow the metric it goes with.
 */
async function injectorLines(match: (l: LogLine) => boolean, count: number): Promise<LogLine[]> {
  return eventually(
    () => {
      const lines = injectorLog().filter(match);
      return Promise.resolve(lines.length >= count ? lines : undefined);
    },
    `${count} matching injector log lines`,
    5_000,
  );
}

function injectorLog(): LogLine[] {
  const out: LogLine[] = [];
  for (const line of (injector?.logs() ?? '').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line cut by the log buffer's bound
    }
  }
  return out;
}

interface CheckReport {
  revisionTags: string[];
  pods: {
    problem: string;
    namespace: string;
    pod: string;
    owner?: { kind: string; name: string };
    workload: { kind: string; name: string };
    reason: string;
    fix: string;
  }[];
  webhooks: { code: string; configuration: string; webhook: string; message: string }[];
}

/** `sidecar-injector check --cluster` as an operator runs it, with the injector's credentials. */
async function checkCluster(ns?: string): Promise<CheckReport> {
  const r = await run(process.execPath, [
    join(ROOT, 'dist/bin/cli.js'),
    'check',
    '--cluster',
    ...(ns === undefined ? [] : ['-n', ns]),
    `--kubeconfig=${injectorKubeconfig}`,
    `--istio-namespace=${INJECTOR_NS}`,
    `--tls-cert=${cp.info.webhookCertFile}`,
    '--output=json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CheckReport;
}

async function restartInjector(): Promise<void> {
  await injector?.stop();
  injector = await startInjector({
    port: injectorPort,
    certFile: cp.info.webhookCertFile,
    keyFile: cp.info.webhookKeyFile,
    kubeconfig: injectorKubeconfig,
    caFile: cp.info.caFile,
  });
}

async function ourWebhooks(): Promise<KObject & { webhooks: Record<string, unknown>[] }> {
  return kcJson<KObject & { webhooks: Record<string, unknown>[] }>([
    'get',
    'mutatingwebhookconfiguration',
    CONFIG,
  ]);
}

async function patchOurWebhooks(field: string, values: unknown[]): Promise<void> {
  await jsonPatchOurWebhooks(
    values.map((value, i) => ({ op: 'replace', path: `/webhooks/${i}/${field}`, value })),
  );
}

describe('the audit and the webhook self-check against the real API server', () => {
  it('pods created while the injector was down under failurePolicy Ignore are reported within 30 s with their owner and restart command; the restart clears them', async () => {
    const ns = 'audit-missing';
    await namespace(ns, { 'istio-injection': 'enabled' });
    if (injector === undefined) await restartInjector();
    await settle(ns, true);
    const policies = (await ourWebhooks()).webhooks.map((w) => w.failurePolicy);
    expect(policies).toEqual(OUR_WEBHOOKS.map(() => 'Fail'));
    await injector?.stop();
    injector = undefined;
    await patchOurWebhooks(
      'failurePolicy',
      policies.map(() => 'Ignore'),
    );
    let restored = false;
    try {
      // Recreate: this control plane has no kubelet, so no pod ever becomes Ready and a rolling
      // update (maxUnavailable 0 at two replicas) would never replace the old pods.
      await kc(
        ['-n', ns, 'apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web' },
          spec: {
            replicas: 2,
            strategy: { type: 'Recreate' },
            selector: { matchLabels: { app: 'web' } },
            template: {
              metadata: { labels: { app: 'web' } },
              spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
            },
          },
        }),
      );
      const uninjected = await eventually(
        async () => {
          const l = await kcJson<{ items: Pod[] }>(['-n', ns, 'get', 'pods', '-l', 'app=web']);
          return l.items.length === 2 ? l.items : undefined;
        },
        'two pods admitted without the injector',
        60_000,
      );
      for (const p of uninjected) expect(injected(p), p.metadata?.name).toBe(false);
      const replicaSet = uninjected[0]?.metadata?.ownerReferences?.[0];
      expect(replicaSet?.kind).toBe('ReplicaSet');
      const podNames = uninjected.map((p) => p.metadata?.name ?? '').sort();

      // The injector comes back (still under Ignore): the audit finds the pods by itself.
      const back = Date.now();
      await restartInjector();
      await eventually(
        async () =>
          (await injectorMetric('sidecar_injector_pods_missing_sidecar', {
            namespace: ns,
            owner_kind: 'Deployment',
          })) === 2,
        'pods_missing_sidecar{namespace="audit-missing",owner_kind="Deployment"} 2',
        30_000,
      );
      const reportedAfter = (Date.now() - back) / 1000;
      findings.push(
        `pods created under Ignore while the injector was down: reported ${reportedAfter.toFixed(1)} s after it was started again`,
      );
      expect(reportedAfter).toBeLessThan(30);
      const fix = `kubectl rollout restart deployment/web -n ${ns}`;
      const logged = await injectorLines(
        (l) => l.msg === 'pod missing-sidecar' && l['namespace'] === ns,
        podNames.length,
      );
      // Named in the line (podName: the server's logger redacts a top-level `pod`).
      expect(logged.map((l) => l['podName']).sort()).toEqual(podNames);
      for (const l of logged) {
        expect(l['workload']).toBe('Deployment/web');
        expect(l['fix']).toBe(fix);
      }
      const report = await checkCluster(ns);
      expect(report.pods.map((f) => f.pod).sort()).toEqual(podNames);
      for (const f of report.pods) {
        expect(f).toMatchObject({
          problem: 'missing-sidecar',
          namespace: ns,
          owner: { kind: 'ReplicaSet', name: replicaSet?.name },
          workload: { kind: 'Deployment', name: 'web' },
          fix,
        });
      }
      // The self-check names the policy that let them through, in /readyz and in the CLI.
      const ignored = (await readinessFindings()).filter((f) => f.code === 'ignore-policy');
      expect(ignored.map((f) => f.webhook).sort()).toEqual([...OUR_WEBHOOKS].sort());
      expect(report.webhooks.filter((w) => w.code === 'ignore-policy')).toHaveLength(4);

      await patchOurWebhooks('failurePolicy', policies);
      restored = true;
      await eventually(
        async () => !(await readinessFindings()).some((f) => f.code === 'ignore-policy'),
        'ignore-policy cleared',
        10_000,
      );
      await eventually(
        async () =>
          (await injectorMetric('sidecar_injector_webhook_findings', { code: 'ignore-policy' })) ===
          0,
        'webhook_findings{code="ignore-policy"} 0',
        10_000,
      );

      // The fix as printed, run as printed.
      await kc(fix.split(' ').slice(1));
      const replaced = await eventually(
        async () => {
          const l = await kcJson<{ items: Pod[] }>(['-n', ns, 'get', 'pods', '-l', 'app=web']);
          const names = l.items.map((p) => p.metadata?.name ?? '');
          return l.items.length === 2 && !names.some((n) => podNames.includes(n))
            ? l.items
            : undefined;
        },
        'the restarted Deployment replaced both pods',
        60_000,
      );
      for (const p of replaced) expect(injected(p), p.metadata?.name).toBe(true);
      await eventually(
        async () =>
          ((await injectorMetric('sidecar_injector_pods_missing_sidecar', { namespace: ns })) ??
            0) === 0,
        'pods_missing_sidecar cleared for audit-missing',
        30_000,
      );
      const cleared = await injectorLines(
        (l) => l.msg === 'pod missing-sidecar cleared' && l['namespace'] === ns,
        podNames.length,
      );
      expect(cleared.map((l) => l['podName']).sort()).toEqual(podNames);
      expect((await checkCluster(ns)).pods).toEqual([]);
    } finally {
      if (!restored) await patchOurWebhooks('failurePolicy', policies);
      if (injector === undefined) await restartInjector();
    }
  });

  it('a second webhook configuration copied from ours is reported as an overlap, and cleared when deleted', async () => {
    // The shipped configuration beside the suite's own (non-injecting) webhooks: nothing to say.
    expect(await readinessFindings(), 'no self-check finding before the copy').toEqual([]);
    const ours = await ourWebhooks();
    const copy = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'sidecar-injector-copy', labels: ours.metadata?.labels ?? {} },
      webhooks: ours.webhooks,
    };
    await kc(['apply', '-f', '-'], JSON.stringify(copy));
    try {
      const started = Date.now();
      const overlaps = await eventually(
        async () => {
          const f = (await readinessFindings()).filter((x) => x.code === 'overlap');
          return f.length === OUR_WEBHOOKS.length ? f : undefined;
        },
        'an overlap per copied entry in /readyz',
        30_000,
      );
      findings.push(
        `a copy of our MutatingWebhookConfiguration: ${overlaps.length} overlaps reported after ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(overlaps.map((f) => f.webhook).sort()).toEqual([...OUR_WEBHOOKS].sort());
      expect(await injectorMetric('sidecar_injector_webhook_findings', { code: 'overlap' })).toBe(
        OUR_WEBHOOKS.length,
      );
      const logged = await injectorLines(
        (l) => l['code'] === 'overlap' && l['configuration'] === 'sidecar-injector-copy',
        OUR_WEBHOOKS.length,
      );
      expect(logged).toHaveLength(OUR_WEBHOOKS.length);
      const report = await checkCluster();
      const reported = report.webhooks.filter((w) => w.code === 'overlap');
      expect(reported.map((w) => w.configuration)).toEqual(
        OUR_WEBHOOKS.map(() => 'sidecar-injector-copy'),
      );
      // The overlap is real: the API server calls both configurations for one pod.
      await namespace('audit-overlap', { 'istio-injection': 'enabled' });
      await settle('audit-overlap', true);
      const pod = await createPod('audit-overlap', podManifest('twice'));
      const event = await auditFor(
        (e) => e.verb === 'create' && e.responseObject?.metadata?.name === 'twice',
        'audit of twice',
      );
      const called = Object.values(event.annotations ?? {}).filter((v) =>
        v.includes('"sidecar-injector-copy"'),
      );
      expect(called.length).toBeGreaterThan(0);
      expect(allNames(pod).filter((n) => n === 'istio-proxy')).toHaveLength(1);
    } finally {
      await kc([
        'delete',
        'mutatingwebhookconfiguration',
        'sidecar-injector-copy',
        '--ignore-not-found',
      ]);
    }
    await eventually(
      async () => !(await readinessFindings()).some((f) => f.code === 'overlap'),
      'overlap cleared in /readyz',
      30_000,
    );
    expect(await injectorMetric('sidecar_injector_webhook_findings', { code: 'overlap' })).toBe(0);
    expect((await checkCluster()).webhooks.filter((w) => w.code === 'overlap')).toEqual([]);
  });

  it('a caBundle that does not verify our certificate is reported (and the API server fails the calls); fixing it clears the report', async () => {
    const ns = 'audit-ca';
    await namespace(ns, { 'istio-injection': 'enabled' });
    await settle(ns, true);
    const ours = await ourWebhooks();
    const bundles = ours.webhooks.map(
      (w) => (w.clientConfig as { caBundle?: string }).caBundle ?? '',
    );
    const other = await generateDevCertificates({ hosts: ['localhost'] });
    const wrong = Buffer.from(other.ca).toString('base64');
    // Only the namespace entry: it is the one that serves namespaces labelled istio-injection.
    const index = ours.webhooks.findIndex((w) => w.name === 'namespace.inject.sidecar-injector.io');
    expect(index).toBeGreaterThanOrEqual(0);
    await patchOurWebhooks(
      'clientConfig/caBundle',
      bundles.map((b, i) => (i === index ? wrong : b)),
    );
    try {
      const mismatch = await eventually(
        async () => (await readinessFindings()).find((f) => f.code === 'ca-bundle-mismatch'),
        'ca-bundle-mismatch in /readyz',
        30_000,
      );
      expect(mismatch.webhook).toBe('namespace.inject.sidecar-injector.io');
      expect(
        await injectorMetric('sidecar_injector_webhook_findings', { code: 'ca-bundle-mismatch' }),
      ).toBe(1);
      const report = await checkCluster();
      expect(report.webhooks.filter((w) => w.code === 'ca-bundle-mismatch')).toMatchObject([
        { configuration: CONFIG, webhook: 'namespace.inject.sidecar-injector.io' },
      ]);
      // What the finding predicts, the API server does: it cannot verify us and (Fail) refuses.
      const r = await eventually(async () => {
        const res = await cp.kubectl(
          ['-n', ns, 'create', '-f', '-'],
          JSON.stringify(podManifest(`bad-ca-${Date.now()}`)),
        );
        return res.code !== 0 ? res : undefined;
      }, 'pod creation refused under the wrong caBundle');
      expect(r.stderr).toMatch(/x509|certificate/);
      findings.push(`wrong caBundle: ${r.stderr.trim().split('\n').at(-1)?.slice(0, 300)}`);
    } finally {
      await patchOurWebhooks('clientConfig/caBundle', bundles);
    }
    await eventually(
      async () => !(await readinessFindings()).some((f) => f.code === 'ca-bundle-mismatch'),
      'ca-bundle-mismatch cleared',
      30_000,
    );
    expect(
      await injectorMetric('sidecar_injector_webhook_findings', { code: 'ca-bundle-mismatch' }),
    ).toBe(0);
    expect((await checkCluster()).webhooks.filter((w) => w.code.startsWith('ca-bundle'))).toEqual(
      [],
    );
    await settle(ns, true);
  });

  it('an entry of ours that calls another Service is reported (and the API server fails the calls); restoring it clears the report', async () => {
    const ns = 'audit-service';
    await namespace(ns, { 'istio-injection': 'enabled' });
    await settle(ns, true);
    const ours = await ourWebhooks();
    const clients = ours.webhooks.map((w) => w.clientConfig as Record<string, unknown>);
    const index = ours.webhooks.findIndex((w) => w.name === 'namespace.inject.sidecar-injector.io');
    const moved = {
      service: { namespace: INJECTOR_NS, name: 'sidecar-injector-old', path: '/inject', port: 443 },
      caBundle: clients[index]?.caBundle,
    };
    await patchOurWebhooks(
      'clientConfig',
      clients.map((c, i) => (i === index ? moved : c)),
    );
    try {
      const found = await eventually(
        async () => (await readinessFindings()).find((f) => f.code === 'wrong-service'),
        'wrong-service in /readyz',
        30_000,
      );
      expect(found.webhook).toBe('namespace.inject.sidecar-injector.io');
      expect(
        await injectorMetric('sidecar_injector_webhook_findings', { code: 'wrong-service' }),
      ).toBe(1);
      const reported = (await checkCluster()).webhooks.filter((w) => w.code === 'wrong-service');
      expect(reported).toHaveLength(1);
      expect(reported[0]?.message).toContain(`${INJECTOR_NS}/sidecar-injector-old`);
      const r = await eventually(async () => {
        const res = await cp.kubectl(
          ['-n', ns, 'create', '-f', '-'],
          JSON.stringify(podManifest(`moved-${Date.now()}`)),
        );
        return res.code !== 0 ? res : undefined;
      }, 'pod creation refused while the entry calls another Service');
      expect(r.stderr).toContain('sidecar-injector-old');
      findings.push(
        `entry calling another Service: ${r.stderr.trim().split('\n').at(-1)?.slice(0, 300)}`,
      );
    } finally {
      await patchOurWebhooks('clientConfig', clients);
    }
    await eventually(
      async () => !(await readinessFindings()).some((f) => f.code === 'wrong-service'),
      'wrong-service cleared',
      30_000,
    );
    expect(
      await injectorMetric('sidecar_injector_webhook_findings', { code: 'wrong-service' }),
    ).toBe(0);
    await settle(ns, true);
  });
});

describe("the API server's view of us", () => {
  it('reports admission latency and rejections for our webhooks from its /metrics', async () => {
    const text = await kc(['get', '--raw', '/metrics']);
    const lines: string[] = [];
    let total = 0;
    for (const name of OUR_WEBHOOKS) {
      const h = histogram(text, 'apiserver_admission_webhook_admission_duration_seconds', {
        name,
        type: 'admit',
        operation: 'CREATE',
      });
      total += h.count;
      if (h.count === 0) continue;
      lines.push(
        `${name}: ${h.count} calls, p50 ${(quantile(h, 0.5) * 1000).toFixed(1)} ms, p99 ${(quantile(h, 0.99) * 1000).toFixed(1)} ms, mean ${((h.sum / h.count) * 1000).toFixed(1)} ms`,
      );
    }
    const all = histogram(text, 'apiserver_admission_webhook_admission_duration_seconds', {
      type: 'admit',
      operation: 'CREATE',
    });
    const oursOnly = { buckets: [] as { le: number; count: number }[], count: 0, sum: 0 };
    for (const name of OUR_WEBHOOKS) {
      const h = histogram(text, 'apiserver_admission_webhook_admission_duration_seconds', {
        name,
        type: 'admit',
        operation: 'CREATE',
        rejected: 'false',
      });
      oursOnly.count += h.count;
      oursOnly.sum += h.sum;
      h.buckets.forEach((b, i) => {
        oursOnly.buckets[i] = { le: b.le, count: (oursOnly.buckets[i]?.count ?? 0) + b.count };
      });
    }
    const rejections = new Map<string, number>();
    for (const name of OUR_WEBHOOKS) {
      for (const [k, v] of counter(
        text,
        'apiserver_admission_webhook_rejection_count',
        { name, type: 'admit' },
        'error_type',
      )) {
        rejections.set(k, (rejections.get(k) ?? 0) + v);
      }
    }
    console.log(
      [
        'kube-apiserver admission metrics for our webhooks:',
        ...lines,
        `all of ours, admitted (rejected="false"): ${oursOnly.count} calls, p50 ${(quantile(oursOnly, 0.5) * 1000).toFixed(1)} ms, p99 ${(quantile(oursOnly, 0.99) * 1000).toFixed(1)} ms`,
        `rejections: ${[...rejections].map(([k, v]) => `${k}=${v}`).join(', ') || 'none'}`,
        `(every mutating webhook in the run: ${all.count} calls)`,
      ].join('\n  '),
    );
    expect(total).toBeGreaterThan(0);
    expect(quantile(oursOnly, 0.99)).toBeGreaterThanOrEqual(quantile(oursOnly, 0.5));
    // The outage and the frozen injector above were refused by the API server, and counted.
    expect(rejections.get('calling_webhook_error') ?? 0).toBeGreaterThan(0);
  });
});
