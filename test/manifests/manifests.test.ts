/**
 * Renders manifests/ with `kubectl kustomize` (no cluster needed), validates every object against
 * the Kubernetes OpenAPI schemas (kubernetes-models) and checks what the installation promises:
 * webhook rules and exclusions, least-privilege RBAC, HA and hardening of the Deployment.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Namespace, ServiceAccount, ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const kubectl = await run('kubectl', ['version', '--client'])
  .then(() => true)
  .catch(() => false);
if (!kubectl) console.warn('kubectl not found on PATH: manifest rendering tests are skipped');

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
};

async function render(dir: string): Promise<Obj[]> {
  const { stdout } = await run('kubectl', ['kustomize', join(ROOT, dir)], { maxBuffer: 8 << 20 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Obj);
}

interface Validatable {
  validate(): void;
}
const MODELS: Record<string, new (data: never) => Validatable> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration,
};
/** CRDs the schema package does not ship; checked semantically below. */
const CRD_KINDS = new Set(['cert-manager.io/v1/Issuer', 'cert-manager.io/v1/Certificate']);

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

describe.skipIf(!kubectl)('kustomize manifests', () => {
  it.each(DIRS)('%s renders and every object passes the Kubernetes schema', async (dir) => {
    const objs = await render(dir);
    expect(objs.length).toBeGreaterThan(5);
    for (const obj of objs) {
      const key = `${obj.apiVersion}/${obj.kind}`;
      if (CRD_KINDS.has(key)) continue;
      const Model = MODELS[key];
      expect(Model, `a schema for ${key}`).toBeDefined();
      if (Model === undefined) continue;
      expect(() => new Model(obj as never).validate(), `${key} ${obj.metadata.name}`).not.toThrow();
    }
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
    const objs = kubectl ? await render('manifests/base') : [];
    const mwc = kubectl ? find(objs, 'MutatingWebhookConfiguration') : ({} as Obj);
    type Webhook = {
      name: string;
      rules: {
        operations: string[];
        resources: string[];
        apiGroups: string[];
        apiVersions: string[];
      }[];
      sideEffects: string;
      admissionReviewVersions: string[];
      failurePolicy: string;
      timeoutSeconds: number;
      reinvocationPolicy: string;
      clientConfig: { service: { name: string; namespace: string; port: number; path: string } };
      namespaceSelector: {
        matchExpressions: { key: string; operator: string; values?: string[] }[];
      };
      objectSelector: { matchExpressions: { key: string; operator: string; values?: string[] }[] };
    };
    const webhooks = (mwc['webhooks'] ?? []) as Webhook[];

    it('carries Istio default-revision entries', () => {
      expect(webhooks.map((w) => w.name)).toEqual([
        'rev.namespace.sidecar-injector.istio.io',
        'rev.object.sidecar-injector.istio.io',
        'namespace.sidecar-injector.istio.io',
        'object.sidecar-injector.istio.io',
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

  describe('deployment, RBAC and certificates', async () => {
    const objs = kubectl ? await render('manifests/overlays/self-signed') : [];
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

    it('grants read-only access: namespaces and nodes cluster-wide, ConfigMaps in one namespace', () => {
      expect(typed(ClusterRole, 'ClusterRole').rules).toEqual([
        { apiGroups: [''], resources: ['namespaces', 'nodes'], verbs: ['get', 'list', 'watch'] },
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
