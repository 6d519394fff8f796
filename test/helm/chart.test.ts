/**
 * charts/sidecar-injector with a real helm (built from test/helm/go.mod by test/helm/build.sh):
 * `helm lint`, `helm template` for the default, cert-manager, existing-Secret, revision-canary,
 * tag and monitoring cases, every object against the Kubernetes schemas, the namespace taken
 * from the release everywhere, and istiod's cert patcher selecting none of our entries.
 */
import { describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { findHelm, ROOT, runTool } from '../helpers/tools.js';
import {
  find,
  parseObjects,
  selectingEntries,
  validateObject,
  webhookConfigurations,
  type Obj,
  type WebhookConfiguration,
} from '../helpers/k8s-objects.js';
import { candidateRevisions, entriesPatchedByIstiod } from '../helpers/istiod-cert-patcher.js';
import { planTagSet, type TagWebhookConfiguration } from '../../src/core/revision-tags.js';
import { shippedServerEnv } from '../../bench/shipped-env.js';

const CHART = join(ROOT, 'charts/sidecar-injector');
/** Fixed, so results never depend on the Kubernetes version a helm build assumes by default. */
const KUBE_VERSION = ['--kube-version', '1.33.0'];
const helm = await findHelm();
if (helm === undefined)
  console.warn(
    'helm not found (run test/helm/build.sh, needs Go): chart lint/template tests are skipped',
  );

async function template(
  namespace: string,
  set: readonly string[] = [],
  release = 'sidecar-injector',
): Promise<Obj[]> {
  if (helm === undefined) return [];
  const args = ['template', release, CHART, '--namespace', namespace, ...KUBE_VERSION];
  for (const s of set) args.push('--set', s);
  const key = args.join('\0');
  let text = rendered.get(key);
  if (text === undefined) {
    text = runTool(helm, args);
    rendered.set(key, text);
  }
  // A fresh copy each time: tests may modify what they get.
  return parseObjects(await text);
}
/** Renders are deterministic except for generated keys, so each value set is rendered once. */
const rendered = new Map<string, Promise<string>>();

/** The value sets every case is rendered (and linted) with. */
const CASES: Record<string, readonly string[]> = {
  default: [],
  'cert-manager': ['certificates.mode=certManager'],
  'cert-manager with an issuer': [
    'certificates.mode=certManager',
    'certificates.certManager.issuerRef.kind=ClusterIssuer',
    'certificates.certManager.issuerRef.name=mesh-ca',
  ],
  'existing secret': [
    'certificates.mode=existingSecret',
    'certificates.existingSecret.name=my-tls',
    'certificates.existingSecret.caBundle=Y2E=',
  ],
  'revision 1-32': ['revision=1-32'],
  tags: ['revision=1-32', 'revisionTags={prod-stable,default}'],
  monitoring: [
    'metrics.podMonitor.enabled=true',
    'metrics.serviceMonitor.enabled=true',
    'metrics.prometheusRule.enabled=true',
    'metrics.grafanaDashboard.enabled=true',
  ],
  'own ConfigMaps, namespace and HPA': [
    'configMaps.create=true',
    'namespace.create=true',
    'autoscaling.enabled=true',
    'revision=1-32',
    'revisionTags={prod-stable}',
  ],
  image: ['global.hub=registry.example/mesh', 'global.tag=1.2.3', 'priorityClassName=critical'],
};

describe.skipIf(helm === undefined)('helm chart', () => {
  it.each(Object.entries(CASES))('helm lint --strict is clean: %s', async (_name, set) => {
    if (helm === undefined) return;
    const args = ['lint', CHART, '--strict', '--namespace', 'mesh', ...KUBE_VERSION];
    for (const s of set) args.push('--set', s);
    const out = await runTool(helm, args);
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it.each(Object.entries(CASES))(
    'helm template renders and every object passes its schema: %s',
    async (_name, set) => {
      const objs = await template('mesh', set);
      expect(objs.length).toBeGreaterThanOrEqual(9);
      for (const obj of objs) expect(() => validateObject(obj)).not.toThrow();
    },
  );

  it('the schema check catches an invalid rendered object (the validator is live)', async () => {
    const objs = await template('mesh');
    const dep = structuredClone(find(objs, 'Deployment'));
    (dep['spec'] as Record<string, unknown>)['replicas'] = 'two';
    expect(() => validateObject(dep)).toThrow(/Deployment/);
  });

  const serverEnv = async (set: readonly string[], name: string) => {
    const dep = find(await template('mesh', set), 'Deployment') as Obj & {
      spec: {
        template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } };
      };
    };
    const env = dep.spec.template.spec.containers[0]?.env ?? [];
    return env.filter((e) => e.name === name).map((e) => e.value);
  };

  it('gives the server the base manifests’ NODE_OPTIONS by default, server.nodeOptions otherwise, none when empty', async () => {
    const nodeOptions = (set: readonly string[]) => serverEnv(set, 'NODE_OPTIONS');
    // test/manifests/node-options.test.ts starts Node 24 with the base manifests' value.
    expect(await nodeOptions([])).toEqual([(await shippedServerEnv(ROOT)).NODE_OPTIONS]);
    expect(await nodeOptions(['server.nodeOptions=--max-old-space-size=400'])).toEqual([
      '--max-old-space-size=400',
    ]);
    expect(await nodeOptions(['server.nodeOptions='])).toEqual([]);
  });

  it('gives the server the base manifests’ MALLOC_ARENA_MAX by default, server.mallocArenaMax otherwise, none when empty', async () => {
    const arenas = (set: readonly string[]) => serverEnv(set, 'MALLOC_ARENA_MAX');
    const shipped = (await shippedServerEnv(ROOT)).MALLOC_ARENA_MAX;
    expect(shipped).toBe('2');
    expect(await arenas([])).toEqual([shipped]);
    expect(await arenas(['server.mallocArenaMax=4'])).toEqual(['4']);
    expect(await arenas(['server.mallocArenaMax='])).toEqual([]);
  });

  it('takes the namespace from the release everywhere', async () => {
    for (const set of [CASES['default'] ?? [], CASES['cert-manager'] ?? []]) {
      const objs = await template('mesh-a', set);
      const text = JSON.stringify(objs);
      expect(text).not.toMatch(/sidecar-injector\.sidecar-injector/);
      for (const o of objs) {
        if (o.metadata.namespace === undefined) continue;
        // The only other namespace is istiod's, for the Role reading its ConfigMaps.
        expect(['mesh-a', 'istio-system'], `${o.kind} ${o.metadata.name}`).toContain(
          o.metadata.namespace,
        );
      }
      for (const w of webhookConfigurations(objs).flatMap((c) => c.webhooks)) {
        expect(w.clientConfig.service.namespace).toBe('mesh-a');
        const exclusion = w.namespaceSelector.matchExpressions.find(
          (e) => e.key === 'kubernetes.io/metadata.name',
        );
        expect(exclusion?.values).toEqual(
          expect.arrayContaining(['kube-system', 'kube-node-lease', 'mesh-a']),
        );
      }
      const sa = find(objs, 'ClusterRoleBinding')['subjects'] as { namespace: string }[];
      expect(sa[0]?.namespace).toBe('mesh-a');
    }
    const cm = await template('mesh-a', CASES['cert-manager']);
    const serving = find(cm, 'Certificate', 'sidecar-injector-serving') as Obj & {
      spec: { dnsNames: string[]; secretName: string; issuerRef: { name: string } };
    };
    expect(serving.spec.dnsNames).toEqual(
      expect.arrayContaining([
        'sidecar-injector.mesh-a.svc',
        'sidecar-injector.mesh-a.svc.cluster.local',
      ]),
    );
    const [mwc] = webhookConfigurations(cm);
    expect(mwc?.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(
      'mesh-a/sidecar-injector-serving',
    );
    const issuer = find(cm, 'Issuer', serving.spec.issuerRef.name) as Obj & {
      spec: { ca: { secretName: string } };
    };
    expect(find(cm, 'Certificate', issuer.spec.ca.secretName).metadata.namespace).toBe('mesh-a');
    const dep = find(cm, 'Deployment') as Obj & {
      spec: {
        template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } };
      };
    };
    expect(dep.spec.template.spec.volumes.find((v) => v.name === 'tls')?.secret?.secretName).toBe(
      serving.spec.secretName,
    );
  });

  it('self-signed: the generated CA is every entry’s caBundle and signs a certificate for the Service', async () => {
    const objs = await template('mesh-b');
    const secret = find(objs, 'Secret') as Obj & { data: Record<string, string> };
    const ca = new X509Certificate(Buffer.from(secret.data['ca.crt'] ?? '', 'base64'));
    const leaf = new X509Certificate(Buffer.from(secret.data['tls.crt'] ?? '', 'base64'));
    expect(ca.ca).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName?.split(', ')).toEqual(
      expect.arrayContaining([
        'DNS:sidecar-injector.mesh-b.svc',
        'DNS:sidecar-injector.mesh-b.svc.cluster.local',
      ]),
    );
    const webhooks = webhookConfigurations(objs).flatMap((c) => c.webhooks);
    expect(webhooks.length).toBe(4);
    for (const w of webhooks) expect(w.clientConfig.caBundle).toBe(secret.data['ca.crt']);
  });

  it('existing secret: mounts it and uses the given caBundle; without one the render fails', async () => {
    const objs = await template('mesh', CASES['existing secret']);
    expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
    for (const w of webhookConfigurations(objs).flatMap((c) => c.webhooks))
      expect(w.clientConfig.caBundle).toBe('Y2E=');
    await expect(
      template('mesh', ['certificates.mode=existingSecret', 'certificates.existingSecret.name=x']),
    ).rejects.toThrow(/caBundle is required/);
    // values.schema.json names the field before the template's own check runs.
    await expect(template('mesh', ['certificates.mode=vault'])).rejects.toThrow(
      '/certificates/mode',
    );
  });

  it.each([
    ['webhook.failurePolicy=Never', '/webhook/failurePolicy'],
    ['webhook.timeoutSeconds=31', '/webhook/timeoutSeconds'],
    ['revision=1.32', '/revision'],
    ['server.nativeSidecars=always', '/server/nativeSidecars'],
    ['server.mallocArenaMax=0', '/server/mallocArenaMax'],
    ['server.mallocArenaMax=many', '/server/mallocArenaMax'],
  ])('values.schema.json refuses %s, naming the field', async (set, field) => {
    await expect(template('mesh', [set])).rejects.toThrow(field);
  });

  it('revision canary: 1-31 and 1-32 side by side share no object name', async () => {
    const a = await template('istio-system', ['revision=1-31'], 'injector-1-31');
    const b = await template('istio-system', ['revision=1-32'], 'injector-1-32');
    const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const keysA = new Set(a.map(key));
    expect(b.map(key).filter((k) => keysA.has(k))).toEqual([]);
    // Nor do the Deployments select each other's pods.
    const labels = (objs: Obj[]) =>
      (
        find(objs, 'Deployment') as Obj & {
          spec: { template: { metadata: { labels: Record<string, string> } } };
        }
      ).spec.template.metadata.labels;
    const selector = (objs: Obj[]) =>
      (
        find(objs, 'Deployment') as Obj & {
          spec: { selector: { matchLabels: Record<string, string> } };
        }
      ).spec.selector.matchLabels;
    const selects = (sel: Record<string, string>, l: Record<string, string>) =>
      Object.entries(sel).every(([k, v]) => l[k] === v);
    expect(selects(selector(a), labels(b))).toBe(false);
    expect(selects(selector(b), labels(a))).toBe(false);
    // Each only takes its own revision: istio.io/rev=1-32 reaches 1-32 and not 1-31.
    const [mwcA] = webhookConfigurations(a);
    const [mwcB] = webhookConfigurations(b);
    if (mwcA === undefined || mwcB === undefined) throw new Error('no webhook configuration');
    const ns = { 'kubernetes.io/metadata.name': 'app', 'istio.io/rev': '1-32' };
    expect(selectingEntries(mwcB, ns, {})).toEqual(['rev.namespace.inject.sidecar-injector.io']);
    expect(selectingEntries(mwcA, ns, {})).toEqual([]);
    // Named revisions never take istio-injection=enabled (that is the default revision's or tag's).
    expect(selectingEntries(mwcB, { 'istio-injection': 'enabled' }, {})).toEqual([]);
    expect(mwcB.metadata.labels?.['istio.io/rev']).toBe('1-32');
    const args = (
      find(b, 'Deployment') as Obj & {
        spec: { template: { spec: { containers: { args: string[] }[] } } };
      }
    ).spec.template.spec.containers[0]?.args;
    expect(args).toEqual(
      expect.arrayContaining(['--revision=1-32', '--istio-namespace=istio-system']),
    );
  });

  it('default revision: Istio’s four default entries, labelled istio.io/rev=default', async () => {
    const [mwc] = webhookConfigurations(await template('mesh'));
    if (mwc === undefined) throw new Error('no webhook configuration');
    expect(mwc.metadata.labels?.['istio.io/rev']).toBe('default');
    expect(mwc.webhooks.map((w) => w.name)).toEqual([
      'rev.namespace.inject.sidecar-injector.io',
      'rev.object.inject.sidecar-injector.io',
      'namespace.inject.sidecar-injector.io',
      'object.inject.sidecar-injector.io',
    ]);
    const pick = (ns: Record<string, string>, pod: Record<string, string>) =>
      selectingEntries(mwc, { 'kubernetes.io/metadata.name': 'app', ...ns }, pod);
    expect(pick({ 'istio-injection': 'enabled' }, {})).toEqual([
      'namespace.inject.sidecar-injector.io',
    ]);
    expect(pick({ 'istio-injection': 'enabled' }, { 'sidecar.istio.io/inject': 'false' })).toEqual(
      [],
    );
    expect(pick({}, { 'sidecar.istio.io/inject': 'true' })).toEqual([
      'object.inject.sidecar-injector.io',
    ]);
    expect(pick({}, {})).toEqual([]);
    // Its own namespace is never sent, whatever its labels.
    expect(
      selectingEntries(
        mwc,
        { 'kubernetes.io/metadata.name': 'mesh', 'istio-injection': 'enabled' },
        {},
      ),
    ).toEqual([]);
    for (const w of mwc.webhooks) {
      expect(w.failurePolicy).toBe('Fail');
      expect(w.timeoutSeconds).toBe(10);
      expect(w.sideEffects).toBe('None');
      expect(w.rules).toEqual([
        {
          operations: ['CREATE'],
          apiGroups: [''],
          apiVersions: ['v1'],
          resources: ['pods'],
          scope: 'Namespaced',
        },
      ]);
    }
    const tuned = webhookConfigurations(
      await template('mesh', [
        'webhook.failurePolicy=Ignore',
        'webhook.timeoutSeconds=5',
        'webhook.excludedNamespaces={batch}',
      ]),
    )[0];
    for (const w of tuned?.webhooks ?? []) {
      expect(w.failurePolicy).toBe('Ignore');
      expect(w.timeoutSeconds).toBe(5);
    }
    expect(
      selectingEntries(
        tuned as WebhookConfiguration,
        { 'kubernetes.io/metadata.name': 'batch', 'istio-injection': 'enabled' },
        {},
      ),
    ).toEqual([]);
  });

  it('tags: one configuration per tag, labelled as istioctl tag labels them, selecting the tag', async () => {
    const objs = await template('istio-system', CASES['tags']);
    const configs = webhookConfigurations(objs);
    const byName = new Map(configs.map((c) => [c.metadata.name, c]));
    expect([...byName.keys()].sort()).toEqual([
      'sidecar-injector-1-32',
      'sidecar-injector-revision-tag-default',
      'sidecar-injector-revision-tag-prod-stable',
    ]);
    const prod = byName.get('sidecar-injector-revision-tag-prod-stable');
    const def = byName.get('sidecar-injector-revision-tag-default');
    if (prod === undefined || def === undefined) throw new Error('tag configurations missing');
    expect(prod.metadata.labels).toMatchObject({
      'istio.io/tag': 'prod-stable',
      'istio.io/rev': '1-32',
      app: 'sidecar-injector',
    });
    expect(def.metadata.labels).toMatchObject({
      'istio.io/tag': 'default',
      'istio.io/rev': '1-32',
    });
    const app = { 'kubernetes.io/metadata.name': 'app' };
    expect(selectingEntries(prod, { ...app, 'istio.io/rev': 'prod-stable' }, {})).toEqual([
      'rev.namespace.inject.sidecar-injector.io',
    ]);
    expect(selectingEntries(prod, app, { 'istio.io/rev': 'prod-stable' })).toEqual([
      'rev.object.inject.sidecar-injector.io',
    ]);
    expect(selectingEntries(prod, { ...app, 'istio-injection': 'enabled' }, {})).toEqual([]);
    // The default tag also takes istio-injection=enabled and sidecar.istio.io/inject=true.
    expect(selectingEntries(def, { ...app, 'istio-injection': 'enabled' }, {})).toEqual([
      'namespace.inject.sidecar-injector.io',
    ]);
    expect(selectingEntries(def, app, { 'sidecar.istio.io/inject': 'true' })).toEqual([
      'object.inject.sidecar-injector.io',
    ]);
    // Every tag webhook calls the revision's own Service.
    for (const c of configs)
      for (const w of c.webhooks) expect(w.clientConfig.service.name).toBe('sidecar-injector-1-32');
    await expect(template('mesh', ['revisionTags={prod}'])).rejects.toThrow(/named revision/);
  });

  it('`tag set` against the chart-installed revision writes the entries the chart renders for that tag', async () => {
    const objs = await template('istio-system', CASES['tags']);
    const configs = webhookConfigurations(objs) as unknown as TagWebhookConfiguration[];
    const installed = configs.filter((c) => c.metadata.labels?.['istio.io/tag'] === undefined);
    for (const tag of ['prod-stable', 'default']) {
      const chart = configs.find((c) => c.metadata.labels?.['istio.io/tag'] === tag);
      const plan = planTagSet(installed, { tag, revision: '1-32', overwrite: false });
      expect(plan.configuration.metadata.name).toBe(chart?.metadata.name);
      expect(plan.configuration.webhooks, tag).toEqual(chart?.webhooks);
      expect(plan.configuration.metadata.labels).toMatchObject({
        'istio.io/tag': tag,
        'istio.io/rev': '1-32',
        app: 'sidecar-injector',
      });
    }
  });

  it('RBAC: webhook configurations are read for the tags; Events are written only when enabled', async () => {
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
    const rules = async (set: readonly string[]): Promise<Rule[]> =>
      find(await template('mesh', set), 'ClusterRole')['rules'] as Rule[];
    const on = await rules([]);
    expect(on).toContainEqual({
      apiGroups: ['admissionregistration.k8s.io'],
      resources: ['mutatingwebhookconfigurations'],
      verbs: ['list', 'watch'],
    });
    expect(on).toContainEqual({
      apiGroups: [''],
      resources: ['events'],
      verbs: ['create', 'patch'],
    });
    const off = await rules(['server.events=false']);
    expect(off.flatMap((r) => r.resources)).not.toContain('events');
    const args = (objs: Obj[]): string[] =>
      (
        find(objs, 'Deployment')['spec'] as {
          template: { spec: { containers: { args: string[] }[] } };
        }
      ).template.spec.containers[0]?.args ?? [];
    expect(args(await template('mesh'))).toContain('--events=on');
    expect(args(await template('mesh', ['server.events=false']))).toContain('--events=off');
  });

  it('ships its own ConfigMaps only when asked, with the chart’s tags in values.revisionTags', async () => {
    expect((await template('mesh')).some((o) => o.kind === 'ConfigMap')).toBe(false);
    const objs = await template('mesh', CASES['own ConfigMaps, namespace and HPA']);
    const injector = find(objs, 'ConfigMap', 'istio-sidecar-injector-1-32') as Obj & {
      data: Record<string, string>;
    };
    const values = JSON.parse(injector.data['values'] ?? '') as Record<string, unknown>;
    expect(values['revisionTags']).toEqual(['prod-stable']);
    expect(values['revision']).toBe('1-32');
    expect(find(objs, 'ConfigMap', 'istio-1-32').metadata.namespace).toBe('mesh');
    expect(find(objs, 'Role').metadata.namespace).toBe('mesh');
    const ns = find(objs, 'Namespace');
    expect(ns.metadata.name).toBe('mesh');
    expect(ns.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'istio-injection': 'disabled',
    });
    expect(find(objs, 'HorizontalPodAutoscaler')).toBeDefined();
    expect((find(objs, 'Deployment')['spec'] as Record<string, unknown>)['replicas']).toBe(
      undefined,
    );
    await expect(template('istio-system', ['configMaps.create=true'])).rejects.toThrow(
      /istiod's ConfigMaps/,
    );
  });

  it('takes the image from global.hub/global.tag (image.* wins) and the digest over the tag', async () => {
    const image = async (set: string[]) =>
      (
        find(await template('mesh', set), 'Deployment') as Obj & {
          spec: { template: { spec: { containers: { image: string }[] } } };
        }
      ).spec.template.spec.containers[0]?.image;
    expect(await image([])).toBe('sidecar-injector:0.1.0');
    expect(await image([...(CASES['image'] ?? [])])).toBe(
      'registry.example/mesh/sidecar-injector:1.2.3',
    );
    expect(await image(['global.hub=a.example', 'image.hub=b.example', 'image.tag=9'])).toBe(
      'b.example/sidecar-injector:9',
    );
    expect(await image(['image.name=c.example/x/injector', 'image.digest=sha256:abc'])).toBe(
      'c.example/x/injector@sha256:abc',
    );
  });

  it('monitoring: scrape annotations, PodMonitor and ServiceMonitor on the metrics port, rules and dashboard', async () => {
    const objs = await template('mesh', CASES['monitoring']);
    const dep = find(objs, 'Deployment') as Obj & {
      spec: {
        selector: { matchLabels: object };
        template: {
          metadata: { annotations: Record<string, string> };
          spec: {
            containers: { args: string[]; ports: { name: string; containerPort: number }[] }[];
          };
        };
      };
    };
    const pod = dep.spec.template;
    expect(pod.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '15014',
      'prometheus.io/path': '/metrics',
    });
    expect(pod.spec.containers[0]?.args).toContain('--metrics-port=15014');
    expect(pod.spec.containers[0]?.ports).toContainEqual({
      name: 'http-monitoring',
      containerPort: 15014,
      protocol: 'TCP',
    });
    const pm = find(objs, 'PodMonitor') as Obj & {
      spec: { podMetricsEndpoints: { port: string }[]; selector: { matchLabels: object } };
    };
    expect(pm.spec.podMetricsEndpoints[0]?.port).toBe('http-monitoring');
    expect(pm.spec.selector.matchLabels).toEqual(dep.spec.selector.matchLabels);
    const sm = find(objs, 'ServiceMonitor') as Obj & { spec: { endpoints: { port: string }[] } };
    expect(sm.spec.endpoints[0]?.port).toBe('http-monitoring');
    const rule = find(objs, 'PrometheusRule') as Obj & {
      spec: {
        groups: { rules: { alert: string; expr: string; annotations: Record<string, string> }[] }[];
      };
    };
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThanOrEqual(5);
    for (const r of rules) {
      expect(r.annotations['runbook_url']).toBe(`docs/runbooks.md#${r.alert.toLowerCase()}`);
      // Only this release's pods: istiod exports metrics of the same names.
      expect(r.expr).toContain('namespace="mesh",container="injector"');
    }
    const dash = find(objs, 'ConfigMap', 'sidecar-injector-dashboard') as Obj & {
      data: Record<string, string>;
    };
    expect(JSON.parse(dash.data['sidecar-injector.json'] ?? '')).toMatchObject({
      uid: 'sidecar-injector',
    });
  });

  it(
    'istiod’s webhook cert patcher selects none of our webhook configurations',
    { timeout: 180_000 },
    async () => {
      const configs: WebhookConfiguration[] = [];
      for (const set of Object.values(CASES))
        configs.push(...webhookConfigurations(await template('mesh', set)));
      expect(configs.length).toBeGreaterThanOrEqual(Object.keys(CASES).length);
      for (const rev of candidateRevisions(configs))
        for (const c of configs)
          expect(entriesPatchedByIstiod(c, rev), `${c.metadata.name} vs istiod ${rev}`).toEqual([]);
      // Istio's tooling still sees revisions and tags: every configuration carries istio.io/rev.
      for (const c of configs) expect(c.metadata.labels?.['istio.io/rev']).toMatch(/^[a-z0-9-]+$/);
    },
  );
});
