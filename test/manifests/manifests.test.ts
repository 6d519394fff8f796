/**
 * Renders manifests/ with kustomize (built by test/helm/build.sh, or `kubectl kustomize`; no
 * cluster needed), validates every object against the Kubernetes OpenAPI schemas
 * (kubernetes-models) and checks what the installation promises: webhook rules and exclusions,
 * least-privilege RBAC, HA and hardening of the Deployment, and a working `namespace:` override.
 */
import { describe, expect, it } from 'vitest';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Service, ConfigMap } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { findKustomize, ROOT, runTool } from '../helpers/tools.js';
import {
  parseObjects,
  selectingEntries,
  validateObject,
  webhookConfigurations,
  type Obj,
} from '../helpers/k8s-objects.js';
import { tempDir } from '../helpers/async.js';
import { shippedServerEnv } from '../../bench/shipped-env.js';

const kustomize = await findKustomize();
if (kustomize === undefined)
  console.warn(
    'neither kustomize (test/helm/build.sh) nor kubectl found: manifest rendering tests are skipped',
  );
const haveKustomize = kustomize !== undefined;

async function render(dir: string): Promise<Obj[]> {
  if (kustomize === undefined) return [];
  return parseObjects(await runTool(kustomize, [join(ROOT, dir)]));
}

const find = (objs: Obj[], kind: string, name?: string): Obj => {
  const found = objs.find(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (found === undefined) throw new Error(`no ${kind} ${name ?? ''} rendered`);
  return found;
};

const DIRS = [
  'manifests',
  'manifests/base',
  'manifests/overlays/self-signed',
  'manifests/overlays/cert-manager',
];

describe.skipIf(kustomize === undefined)('kustomize manifests', () => {
  it.each(DIRS)('%s renders and every object passes the Kubernetes schema', async (dir) => {
    const objs = await render(dir);
    expect(objs.length).toBeGreaterThan(5);
    for (const obj of objs) expect(() => validateObject(obj)).not.toThrow();
  });

  it('the schema check catches an invalid object (the validator is live)', () => {
    const bad = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { replicas: 'two' },
    };
    expect(() => new Deployment(bad as never).validate()).toThrow();
  });

  describe('webhook configuration', async () => {
    const objs = haveKustomize ? await render('manifests/base') : [];
    const mwc = haveKustomize ? find(objs, 'MutatingWebhookConfiguration') : ({} as Obj);
    const webhooks = webhookConfigurations(haveKustomize ? [mwc] : []).flatMap((c) => c.webhooks);

    it('carries Istio default-revision entries', () => {
      expect(webhooks.map((w) => w.name)).toEqual([
        'rev.namespace.inject.sidecar-injector.io',
        'rev.object.inject.sidecar-injector.io',
        'namespace.inject.sidecar-injector.io',
        'object.inject.sidecar-injector.io',
      ]);
    });

    it.each(webhooks.map((w) => [w.name, w] as const))(
      '%s: CREATE pods only, no side effects, v1, Fail, short timeout',
      (_n, w) => {
        expect(w.rules).toEqual([
          {
            operations: ['CREATE'],
            apiGroups: [''],
            apiVersions: ['v1'],
            resources: ['pods'],
            scope: 'Namespaced',
          },
        ]);
        expect(w.sideEffects).toBe('None');
        expect(w.admissionReviewVersions).toEqual(['v1']);
        expect(w.failurePolicy).toBe('Fail');
        expect(w.timeoutSeconds).toBeLessThanOrEqual(10);
        expect(['Never', 'IfNeeded']).toContain(w.reinvocationPolicy);
        expect(w.clientConfig.service).toEqual({
          name: 'sidecar-injector',
          namespace: 'sidecar-injector',
          path: '/inject',
          port: 443,
        });
      },
    );

    it.each(webhooks.map((w) => [w.name, w] as const))(
      '%s excludes kube-system, kube-node-lease and its own namespace by name',
      (_n, w) => {
        const exclusion = w.namespaceSelector.matchExpressions.find(
          (e) => e.key === 'kubernetes.io/metadata.name',
        );
        expect(exclusion?.operator).toBe('NotIn');
        expect(exclusion?.values).toEqual(
          expect.arrayContaining(['kube-system', 'kube-node-lease', 'sidecar-injector']),
        );
      },
    );

    it('lets a pod label sidecar.istio.io/inject=false stop every entry', () => {
      for (const w of webhooks) {
        const optOut = w.objectSelector.matchExpressions.find(
          (e) => e.key === 'sidecar.istio.io/inject',
        );
        // NotIn [false] (the call is skipped for opted-out pods) or In [true] (opt-in only).
        const stops =
          optOut?.operator === 'NotIn'
            ? optOut.values?.includes('false') === true
            : optOut?.operator === 'In' && JSON.stringify(optOut.values) === '["true"]';
        expect(stops, w.name).toBe(true);
      }
    });
  });

  it.each(DIRS)(
    '%s gives the server the NODE_OPTIONS node-options.test.ts starts Node 24 with, and MALLOC_ARENA_MAX',
    async (dir) => {
      const dep = new Deployment(find(await render(dir), 'Deployment'));
      const env = dep.spec?.template.spec?.containers[0]?.env ?? [];
      const shipped = await shippedServerEnv(ROOT);
      expect(env.filter((e) => e.name === 'NODE_OPTIONS').map((e) => e.value)).toEqual([
        shipped.NODE_OPTIONS,
      ]);
      expect(env.filter((e) => e.name === 'MALLOC_ARENA_MAX').map((e) => e.value)).toEqual([
        shipped.MALLOC_ARENA_MAX,
      ]);
    },
  );

  describe('deployment, RBAC and certificates', async () => {
    const objs = haveKustomize ? await render('manifests/overlays/self-signed') : [];
    const typed = <T>(Model: new (data: never) => T, kind: string, name?: string): T =>
      new Model(find(objs, kind, name) as never);

    it('runs two hardened replicas spread across nodes, with a PDB', () => {
      const dep = typed(Deployment, 'Deployment');
      expect(dep.spec?.replicas).toBeGreaterThanOrEqual(2);
      const pod = dep.spec?.template;
      expect(pod?.metadata?.labels?.['sidecar.istio.io/inject']).toBe('false');
      expect(pod?.spec?.affinity?.podAntiAffinity).toBeDefined();
      expect(pod?.spec?.securityContext?.runAsNonRoot).toBe(true);
      const c = pod?.spec?.containers[0];
      expect(c?.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(c?.resources?.requests).toBeDefined();
      expect(c?.resources?.limits?.['memory']).toBeDefined();
      expect(c?.readinessProbe?.httpGet).toMatchObject({
        path: '/readyz',
        port: 'https-webhook',
        scheme: 'HTTPS',
      });
      expect(c?.livenessProbe?.httpGet).toMatchObject({
        path: '/healthz',
        port: 'https-webhook',
        scheme: 'HTTPS',
      });
      expect(c?.lifecycle?.preStop).toBeDefined();
      expect(c?.ports?.[0]).toMatchObject({ name: 'https-webhook', containerPort: 9443 });
      const tls = pod?.spec?.volumes?.find((v) => v.name === 'tls');
      expect(tls?.secret?.secretName).toBe('sidecar-injector-tls');
      const pdb = typed(PodDisruptionBudget, 'PodDisruptionBudget');
      expect(pdb.spec?.selector?.matchLabels).toEqual(dep.spec?.selector.matchLabels);
      expect(pdb.spec?.minAvailable).toBe(1);
      const svc = typed(Service, 'Service');
      expect(svc.spec?.ports?.[0]).toMatchObject({ port: 443, targetPort: 'https-webhook' });
    });

    it('grants reads of namespaces, nodes, ProxyConfigs, pods and webhook configurations cluster-wide, ConfigMaps in one namespace, and writes of Events only', () => {
      expect(typed(ClusterRole, 'ClusterRole').rules).toEqual([
        { apiGroups: [''], resources: ['namespaces', 'nodes'], verbs: ['get', 'list', 'watch'] },
        {
          apiGroups: ['networking.istio.io'],
          resources: ['proxyconfigs'],
          verbs: ['get', 'list', 'watch'],
        },
        { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['mutatingwebhookconfigurations'],
          verbs: ['list', 'watch'],
        },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      ]);
      const role = typed(Role, 'Role');
      expect(role.metadata?.namespace).toBe('sidecar-injector');
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
      ]);
    });

    it('ships the default ConfigMaps in the namespace the injector reads', () => {
      const injector = typed(ConfigMap, 'ConfigMap', 'istio-sidecar-injector');
      expect(Object.keys(injector.data ?? {}).sort()).toEqual(['config', 'values']);
      expect(() => JSON.parse(injector.data?.['values'] ?? '') as unknown).not.toThrow();
      expect(Object.keys(typed(ConfigMap, 'ConfigMap', 'istio').data ?? {})).toEqual(['mesh']);
      expect(injector.metadata?.namespace).toBe('sidecar-injector');
    });

    it('self-signed overlay sets a caBundle on every webhook entry', () => {
      const mwc = typed(MutatingWebhookConfiguration, 'MutatingWebhookConfiguration');
      expect(mwc.webhooks?.length).toBe(4);
      for (const w of mwc.webhooks ?? [])
        expect(w.clientConfig.caBundle).toMatch(/^[A-Za-z0-9+/=]+$/);
    });

    it('cert-manager overlay issues the serving certificate and injects the CA', async () => {
      interface CertManagerObj extends Obj {
        spec: {
          secretName?: string;
          isCA?: boolean;
          dnsNames?: string[];
          issuerRef?: { name: string };
          ca?: { secretName: string };
        };
      }
      const cm = await render('manifests/overlays/cert-manager');
      const ref = find(cm, 'MutatingWebhookConfiguration').metadata.annotations?.[
        'cert-manager.io/inject-ca-from'
      ];
      const [ns, name] = (ref ?? '/').split('/');
      const cert = find(cm, 'Certificate', name) as CertManagerObj;
      expect(cert.metadata.namespace).toBe(ns);
      expect(cert.spec.secretName).toBe('sidecar-injector-tls');
      expect(cert.spec.dnsNames).toEqual([
        'sidecar-injector.sidecar-injector.svc',
        'sidecar-injector.sidecar-injector.svc.cluster.local',
      ]);
      const issuer = find(cm, 'Issuer', cert.spec.issuerRef?.name) as CertManagerObj;
      const ca = find(cm, 'Certificate', 'sidecar-injector-ca') as CertManagerObj;
      expect(ca.spec.isCA).toBe(true);
      expect(issuer.spec.ca?.secretName).toBe(ca.spec.secretName);
    });
  });
});

describe.skipIf(kustomize === undefined)('kustomize namespace override', () => {
  /** An overlay in a copy of the tree (kustomize only loads files below its root). */
  async function renderOverlay(kustomization: string): Promise<Obj[]> {
    const dir = await tempDir();
    try {
      await cp(join(ROOT, 'manifests'), join(dir.path, 'manifests'), { recursive: true });
      await cp(join(ROOT, 'certs'), join(dir.path, 'certs'), { recursive: true });
      await writeFile(join(dir.path, 'kustomization.yaml'), kustomization);
      if (kustomize === undefined) return [];
      return parseObjects(await runTool(kustomize, [dir.path]));
    } finally {
      await dir.cleanup();
    }
  }

  /** Everything that names the namespace follows the override; nothing says the old one. */
  function expectNamespace(objs: Obj[], ns: string): void {
    expect(objs.length).toBeGreaterThan(5);
    for (const obj of objs) expect(() => validateObject(obj)).not.toThrow();
    expect(JSON.stringify(objs)).not.toMatch(
      /sidecar-injector\.sidecar-injector|"sidecar-injector\//,
    );
    for (const o of objs)
      if (o.metadata.namespace !== undefined) expect(o.metadata.namespace, o.kind).toBe(ns);
    expect(find(objs, 'Namespace').metadata.name).toBe(ns);
    const [mwc] = webhookConfigurations(objs);
    if (mwc === undefined) throw new Error('no webhook configuration');
    for (const w of mwc.webhooks) {
      expect(w.clientConfig.service.namespace).toBe(ns);
      const exclusion = w.namespaceSelector.matchExpressions.find(
        (e) => e.key === 'kubernetes.io/metadata.name',
      );
      expect(exclusion?.values).toEqual(['kube-system', 'kube-public', 'kube-node-lease', ns]);
    }
    // Its own namespace is never sent to it, whichever injection label someone adds.
    const own = { 'kubernetes.io/metadata.name': ns, ...find(objs, 'Namespace').metadata.labels };
    for (const extra of [
      {},
      { 'istio-injection': 'enabled' },
      { 'istio.io/rev': 'default' },
    ] as Record<string, string>[])
      expect(
        selectingEntries(mwc, { ...own, ...extra }, { 'sidecar.istio.io/inject': 'true' }),
      ).toEqual([]);
  }

  it('cert-manager: an overlay with namespace: and the fixups moves DNS names, CA reference and exclusion', async () => {
    const objs = await renderOverlay(
      'namespace: mesh\nresources: [manifests/overlays/cert-manager]\ntransformers: [manifests/namespace-fixups/cert-manager]\n',
    );
    expectNamespace(objs, 'mesh');
    const serving = find(objs, 'Certificate', 'sidecar-injector-serving') as Obj & {
      spec: { dnsNames: string[] };
    };
    expect(serving.spec.dnsNames).toEqual([
      'sidecar-injector.mesh.svc',
      'sidecar-injector.mesh.svc.cluster.local',
    ]);
    const [mwc] = webhookConfigurations(objs);
    expect(mwc?.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(
      'mesh/sidecar-injector-serving',
    );
  });

  it('cert-manager: `namespace:` edited in the overlay itself works the same way', async () => {
    const dir = await tempDir();
    try {
      await cp(join(ROOT, 'manifests'), join(dir.path, 'manifests'), { recursive: true });
      const overlay = join(dir.path, 'manifests/overlays/cert-manager');
      const text = await readFile(join(overlay, 'kustomization.yaml'), 'utf8');
      expect(text).toContain('namespace: sidecar-injector\n');
      await writeFile(
        join(overlay, 'kustomization.yaml'),
        text.replace('namespace: sidecar-injector\n', 'namespace: mesh-2\n'),
      );
      if (kustomize === undefined) return;
      expectNamespace(parseObjects(await runTool(kustomize, [overlay])), 'mesh-2');
    } finally {
      await dir.cleanup();
    }
  });

  it('self-signed: an overlay with namespace: and the fixups moves the exclusion', async () => {
    expectNamespace(
      await renderOverlay(
        'namespace: mesh\nresources: [manifests]\ntransformers: [manifests/namespace-fixups/self-signed]\n',
      ),
      'mesh',
    );
  });

  it('without the fixups the override leaves the old namespace behind (what they repair)', async () => {
    const objs = await renderOverlay(
      'namespace: mesh\nresources: [manifests/overlays/cert-manager]\n',
    );
    expect(JSON.stringify(objs)).toMatch(/sidecar-injector\.sidecar-injector\.svc/);
  });
});
