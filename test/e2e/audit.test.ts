/**
 * The cluster audit end to end against the in-process fake API server: pods admitted while the
 * webhook was down (failurePolicy Ignore) are reported with their owner and restart command, a
 * copied webhook configuration is reported as an overlap, a wrong caBundle is reported, the
 * informers come back after an API outage, and every report clears once fixed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { FakeApiServer, type KObject } from './fake-apiserver.js';
import { AdmissionChain, readWebhooks } from './admission.js';
import { buildApp, type InjectorApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { generateDevCertificates } from '../../src/tls/dev-cert.js';
import { verifyCaBundle } from '../../src/tls/ca-bundle.js';
import { createStaticConfigProvider } from '../../src/config-sources/static.js';
import { defaultInjectionConfig } from '../../src/core/config/defaults.js';
import type { Pod } from '../../src/core/pod-types.js';
import { loadKubeConfig } from '../../src/k8s/kubeconfig.js';
import { createNamespaceCache, toNamespaceInfo } from '../../src/k8s/namespace-cache.js';
import { createPodAudit, type PodAudit } from '../../src/k8s/pod-audit.js';
import { createWebhookAudit, type WebhookAudit } from '../../src/k8s/webhook-audit.js';
import { AcceptingKubeConfig, ACCEPT_PARTIAL_METADATA } from '../../src/k8s/kubeconfig.js';
import { runClusterCheck } from '../../src/cli/check-cluster.js';
import { eventually, FAST_BACKOFF, memoryLogger, tempDir } from '../helpers/async.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MANIFEST = join(ROOT, 'manifests/base/mutatingwebhookconfiguration.yaml');
const NS = 'sidecar-injector';

function deploymentPod(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      labels: { app: 'web', 'pod-template-hash': '7d9f8b' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d9f8b',
          uid: 'u1',
          controller: true,
        },
      ],
    },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('cluster audit against a (fake) API server', () => {
  const api = new FakeApiServer();
  const registry = new Registry();
  const { logger, lines } = memoryLogger();
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: InjectorApp;
  let podAudit: PodAudit;
  let webhookAudit: WebhookAudit;
  let stopNamespaces: () => Promise<void>;
  let downChain: AdmissionChain;
  let upChain: AdmissionChain;
  let ourConfiguration: KObject;
  let caBase64: string;
  let kubeconfigPath: string;
  let certPath: string;

  beforeAll(async () => {
    dir = await tempDir();
    await api.start();
    for (const name of [NS, 'kube-system']) api.upsert('namespaces', { metadata: { name } });
    api.upsert('namespaces', {
      metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } },
    });
    const certs = await generateDevCertificates({ hosts: [`sidecar-injector.${NS}.svc`] });
    caBase64 = Buffer.from(certs.ca).toString('base64');
    const shipped = parse(await readFile(MANIFEST, 'utf8')) as KObject & {
      webhooks: { clientConfig: object }[];
    };
    ourConfiguration = {
      ...shipped,
      webhooks: shipped.webhooks.map((w) => ({
        ...w,
        clientConfig: { ...w.clientConfig, caBundle: caBase64 },
      })),
    };
    api.upsert('mutatingwebhookconfigurations', ourConfiguration);

    kubeconfigPath = await api.writeKubeconfig(dir.path);
    certPath = join(dir.path, 'serving.pem');
    await writeFile(certPath, certs.cert);
    const kubeConfig = loadKubeConfig(kubeconfigPath);
    const config = createStaticConfigProvider(defaultInjectionConfig());
    const namespaces = createNamespaceCache({
      kubeConfig,
      watchKubeConfig: AcceptingKubeConfig.from(kubeconfigPath, ACCEPT_PARTIAL_METADATA),
      logger,
      backoff: FAST_BACKOFF,
    });
    namespaces.informer.start();
    stopNamespaces = () => namespaces.informer.stop();
    podAudit = createPodAudit({
      kubeConfig,
      logger,
      registry,
      config,
      namespace: (name) => {
        const found = namespaces.informer.get(name);
        return found === undefined ? undefined : toNamespaceInfo(found, name);
      },
      namespacesSynced: () => namespaces.informer.synced(),
      intervalMs: 100,
      minIntervalMs: 50,
      backoff: FAST_BACKOFF,
    });
    webhookAudit = createWebhookAudit({
      kubeConfig,
      logger,
      registry,
      ownConfiguration: 'sidecar-injector',
      service: { namespace: NS, name: 'sidecar-injector' },
      servedCertificate: () => certs.cert,
      verify: verifyCaBundle,
      backoff: FAST_BACKOFF,
    });
    podAudit.start();
    webhookAudit.start();

    app = buildApp({
      config,
      logger,
      metrics: createMetrics({ registry: new Registry(), processMetrics: false }),
      staticFacts: { nativeSidecars: false },
      tls: { key: certs.key, cert: certs.cert },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const webhooks = await readWebhooks(MANIFEST);
    // The same entries with failurePolicy Ignore, while nothing listens behind the Service.
    downChain = new AdmissionChain({
      api,
      webhooks: webhooks.map((w) => ({ ...w, failurePolicy: 'Ignore' as const })),
      caBundle: certs.ca,
      endpoint: { host: '127.0.0.1', port: await closedPort() },
      protocol: 'http1',
    });
    upChain = new AdmissionChain({
      api,
      webhooks,
      caBundle: certs.ca,
      endpoint: { host: '127.0.0.1', port: (app.server.address() as AddressInfo).port },
    });
    await eventually(() => podAudit.informer.synced() && webhookAudit.informer.synced(), 'synced');
  });

  afterAll(async () => {
    downChain?.close();
    upChain?.close();
    await app?.close();
    await podAudit?.stop();
    await webhookAudit?.stop();
    await stopNamespaces?.();
    await api.stop();
    await dir?.cleanup();
  });

  async function admit(chain: AdmissionChain, name: string): Promise<void> {
    const { pod } = await chain.createPod('shop', deploymentPod(name));
    api.upsert('pods', pod as KObject);
  }

  const missing = () => podAudit.findings().filter((f) => f.problem === 'missing-sidecar');

  it('reports pods admitted without a sidecar while the webhook was down, then clears after the restart', async () => {
    await admit(downChain, 'web-7d9f8b-down1');
    await eventually(() => missing().length === 1, 'uninjected pod reported', 10_000);
    expect(missing()[0]).toMatchObject({
      namespace: 'shop',
      pod: 'web-7d9f8b-down1',
      owner: { kind: 'ReplicaSet', name: 'web-7d9f8b' },
      workload: { kind: 'Deployment', name: 'web' },
      fix: 'kubectl rollout restart deployment/web -n shop',
    });
    const text = await registry.metrics();
    expect(text).toContain(
      'sidecar_injector_pods_missing_sidecar{namespace="shop",owner_kind="Deployment"} 1',
    );
    expect(
      lines().filter((l) => l.msg === 'pod missing-sidecar' && l.podName === 'web-7d9f8b-down1'),
    ).toHaveLength(1);

    // What `kubectl rollout restart` leads to: the old pod goes, a new one is admitted (webhook up).
    api.remove('pods', 'web-7d9f8b-down1', 'shop');
    await admit(upChain, 'web-7d9f8b-up1');
    expect(
      api.get('pods', 'web-7d9f8b-up1', 'shop')?.metadata.annotations?.['sidecar.istio.io/status'],
    ).toBeDefined();
    await eventually(() => missing().length === 0, 'report cleared', 10_000);
    expect(lines().some((l) => l.msg === 'pod missing-sidecar cleared')).toBe(true);
    expect(await registry.metrics()).not.toContain('sidecar_injector_pods_missing_sidecar{');
    expect(podAudit.findings()).toEqual([]);
  });

  it('reports nothing about the shipped webhook configuration with the right caBundle', async () => {
    await eventually(() => webhookAudit.informer.list().length === 1, 'configuration cached');
    expect(webhookAudit.refresh()).toEqual([]);
  });

  it('reports a copied webhook configuration as an overlap until it is deleted', async () => {
    api.upsert('mutatingwebhookconfigurations', {
      ...structuredClone(ourConfiguration),
      metadata: { name: 'sidecar-injector-copy' },
    });
    await eventually(
      () =>
        webhookAudit
          .findings()
          .some((f) => f.code === 'overlap' && f.configuration === 'sidecar-injector-copy'),
      'overlap reported',
    );
    expect(webhookAudit.readinessDetail().findings.length).toBeGreaterThan(0);
    expect(await registry.metrics()).toMatch(
      /sidecar_injector_webhook_findings\{code="overlap"\} [1-9]/,
    );
    api.remove('mutatingwebhookconfigurations', 'sidecar-injector-copy');
    await eventually(() => webhookAudit.findings().length === 0, 'overlap cleared');
  });

  it('reports a caBundle that does not verify the served certificate until it is fixed', async () => {
    const other = await generateDevCertificates({ hosts: ['elsewhere'] });
    const wrong = structuredClone(ourConfiguration) as KObject & {
      webhooks: { clientConfig: { caBundle: string } }[];
    };
    wrong.webhooks[0]!.clientConfig.caBundle = Buffer.from(other.ca).toString('base64');
    api.upsert('mutatingwebhookconfigurations', wrong);
    await eventually(
      () => webhookAudit.findings().some((f) => f.code === 'ca-bundle-mismatch'),
      'caBundle mismatch reported',
    );
    expect(webhookAudit.findings().filter((f) => f.code === 'ca-bundle-mismatch')).toHaveLength(1);
    api.upsert('mutatingwebhookconfigurations', ourConfiguration);
    await eventually(() => webhookAudit.findings().length === 0, 'caBundle finding cleared');
  });

  it('keeps auditing across an API server outage', async () => {
    await api.stop();
    await admit(downChain, 'web-7d9f8b-down2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api.start();
    await eventually(
      () => missing().some((f) => f.pod === 'web-7d9f8b-down2'),
      'pod created during the outage reported',
      15_000,
    );
  });

  it('check --cluster lists the same findings with the restart command, and nothing once fixed', async () => {
    api.upsert('mutatingwebhookconfigurations', {
      ...structuredClone(ourConfiguration),
      metadata: { name: 'sidecar-injector-copy' },
    });
    const run = async (): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await runClusterCheck(
        [
          '--cluster',
          '-n',
          'shop',
          '--kubeconfig',
          kubeconfigPath,
          '--istio-namespace',
          NS,
          '--tls-cert',
          certPath,
        ],
        {
          stdout: (t) => (out += t),
          stderr: (t) => (err += t),
          readStdin: () => Promise.resolve(''),
          env: {},
          cwd: dir.path,
        },
      );
      return { code, out, err };
    };
    const found = await run();
    expect(found.err).toBe('');
    expect(found.code).toBe(0);
    expect(found.out).toContain(
      'shop/Deployment/web: missing-sidecar (1 pod(s): web-7d9f8b-down2)',
    );
    expect(found.out).toContain('fix:    kubectl rollout restart deployment/web -n shop');
    expect(found.out).toMatch(/warning overlap sidecar-injector-copy\//);
    expect(found.out).not.toContain('note: caBundles not checked');

    api.remove('mutatingwebhookconfigurations', 'sidecar-injector-copy');
    api.remove('pods', 'web-7d9f8b-down2', 'shop');
    const clean = await run();
    expect(clean.out).toContain('Pods: every running pod matches the current configuration.');
    expect(clean.out).toContain('Webhooks: no overlap, caBundle or policy problem found.');
  });

  it('creates one Event per workload when enabled, rate-limited', async () => {
    const kubeConfig = loadKubeConfig(kubeconfigPath);
    const withEvents = createPodAudit({
      kubeConfig,
      logger,
      registry: new Registry(),
      config: createStaticConfigProvider(defaultInjectionConfig()),
      namespace: (name) =>
        name === 'shop'
          ? { name, labels: { 'istio-injection': 'enabled' }, annotations: {} }
          : undefined,
      namespacesSynced: () => true,
      intervalMs: 60_000,
      events: { enabled: true, perMinute: 1 },
      backoff: FAST_BACKOFF,
    });
    for (const name of ['web-7d9f8b-e1', 'web-7d9f8b-e2']) await admit(downChain, name);
    const other = deploymentPod('api-5c4b3a-e1');
    other.metadata = {
      ...other.metadata,
      labels: { app: 'api', 'pod-template-hash': '5c4b3a' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'api-5c4b3a',
          uid: 'u2',
          controller: true,
        },
      ],
    };
    api.upsert('pods', (await downChain.createPod('shop', other)).pod as KObject);
    withEvents.start();
    try {
      await eventually(() => withEvents.findings().length === 3, 'three pods reported');
      await eventually(() => api.events.length === 1, 'one Event');
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Two workloads, a budget of one Event per minute: the second is dropped, not queued.
      expect(api.events).toHaveLength(1);
      const event = api.events[0] as KObject & {
        involvedObject: object;
        reason: string;
        message: string;
      };
      expect(event.reason).toBe('SidecarMissing');
      expect(event.involvedObject).toMatchObject({ namespace: 'shop', apiVersion: 'apps/v1' });
      expect(event.message).toMatch(/kubectl rollout restart deployment\/(web|api) -n shop/);
      expect(lines().some((l) => l.msg === 'pod audit Events rate-limited')).toBe(true);
    } finally {
      await withEvents.stop();
      for (const name of ['web-7d9f8b-e1', 'web-7d9f8b-e2', 'api-5c4b3a-e1'])
        api.remove('pods', name, 'shop');
    }
  });
});
