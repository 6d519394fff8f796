/**
 * End to end without a real cluster: the fake API server serves list/watch to our informers and,
 * on pod CREATE, calls the webhook over TLS exactly as the real API server would (selectors from
 * manifests/base, caBundle verification, strict patch application, Pod schema validation).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { FakeApiServer, type KObject } from './fake-apiserver.js';
import { AdmissionChain, readWebhooks, WebhookCallFailed } from './admission.js';
import { startClusterRuntime, type ClusterRuntime } from '../../src/k8s/runtime.js';
import { buildApp, type InjectorApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { generateDevCertificates } from '../../src/tls/dev-cert.js';
import type { Pod } from '../../src/core/pod-types.js';
import { eventually, FAST_BACKOFF, memoryLogger, tempDir } from '../helpers/async.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NS = 'sidecar-injector';

function workload(
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'web-', labels: { app: 'web', ...labels }, annotations },
    spec: {
      containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] }],
    },
  };
}

const containerNames = (pod: Pod, list: 'containers' | 'initContainers'): string[] =>
  (pod.spec?.[list] ?? []).map((c) => c.name);

const injected = (pod: Pod): boolean =>
  [...containerNames(pod, 'containers'), ...containerNames(pod, 'initContainers')].includes(
    'istio-proxy',
  );

function node(name: string, kubeletVersion: string): KObject {
  return { metadata: { name }, status: { nodeInfo: { kubeletVersion } } };
}

function injectorConfigMap(config: string): KObject {
  return { metadata: { name: 'istio-sidecar-injector', namespace: NS }, data: { config } };
}

// The API server's own serving certificate, verified by the informers through the kubeconfig CA.
const apiServerCerts = await generateDevCertificates({ hosts: ['127.0.0.1'] });

describe('webhook behind a (fake) API server', () => {
  const api = new FakeApiServer({ tls: apiServerCerts });
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let runtime: ClusterRuntime;
  let app: InjectorApp;
  let chain: AdmissionChain;
  let ca: string;
  let port: number;
  const registry = new Registry();

  beforeAll(async () => {
    dir = await tempDir();
    await api.start();
    for (const name of [NS, 'kube-system', 'shop', 'canary-apps']) {
      api.upsert('namespaces', { metadata: { name } });
    }
    api.upsert('nodes', node('node-a', 'v1.33.2'));
    api.upsert('nodes', node('node-b', 'v1.34.0'));
    api.upsert('configmaps', injectorConfigMap('policy: enabled'));
    const { logger } = memoryLogger();
    runtime = await startClusterRuntime({
      kubeconfigPath: await api.writeKubeconfig(dir.path),
      istioNamespace: NS,
      revision: 'default',
      nativeSidecars: 'auto',
      logger,
      registry,
      backoff: FAST_BACKOFF,
    });
    await runtime.whenSynced();
    const certs = await generateDevCertificates({ hosts: [`sidecar-injector.${NS}.svc`] });
    ca = certs.ca;
    app = buildApp({
      config: runtime.config,
      logger,
      metrics: createMetrics({ registry, processMetrics: false }),
      namespaces: runtime.namespaces,
      facts: runtime.facts,
      clusterReadiness: runtime.readiness,
      tls: { key: certs.key, cert: certs.cert },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
    const webhooks = await readWebhooks(
      join(ROOT, 'manifests/base/mutatingwebhookconfiguration.yaml'),
    );
    chain = new AdmissionChain({
      api,
      webhooks,
      caBundle: ca,
      endpoint: { host: '127.0.0.1', port },
    });
  });

  afterAll(async () => {
    chain?.close();
    await app?.close();
    await runtime?.stop();
    await api.stop();
    await dir?.cleanup();
  });

  /** Relabels a namespace and waits until the webhook's cache has seen it. */
  async function label(name: string, labels: Record<string, string>): Promise<void> {
    api.upsert('namespaces', { metadata: { name, labels } });
    await eventually(async () => {
      const r = await runtime.namespaces.resolve(name);
      return r.source === 'cache' && JSON.stringify(r.namespace?.labels) === JSON.stringify(labels);
    }, `namespace ${name} relabelled in the cache`);
  }

  async function setPolicy(policy: string): Promise<void> {
    api.upsert('configmaps', injectorConfigMap(`policy: ${policy}`));
    await eventually(() => runtime.config.current().injector.policy === policy, `policy ${policy}`);
  }

  function scrape(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      get(
        {
          host: '127.0.0.1',
          port,
          path,
          ca,
          servername: `sidecar-injector.${NS}.svc`,
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      ).on('error', reject);
    });
  }

  it('is ready over TLS once the informers have synced', async () => {
    expect(api.url).toMatch(/^https:/);
    expect(runtime.readiness.synced()).toBe(true);
    expect((await scrape('/readyz')).status).toBe(200);
  });

  it('injects the next pod once its namespace is labelled, and stops when the label goes', async () => {
    const before = await chain.createPod('shop', workload());
    expect(before.calls).toEqual([]);
    expect(injected(before.pod)).toBe(false);

    await label('shop', { 'istio-injection': 'enabled' });
    const after = await chain.createPod('shop', workload());
    expect(after.calls.map((c) => c.webhook)).toEqual(['namespace.inject.sidecar-injector.io']);
    expect(injected(after.pod)).toBe(true);
    expect(after.pod.metadata?.annotations?.['sidecar.istio.io/status']).toBeDefined();

    // Admission was answered from the informer caches: no namespace GET on the request path.
    expect(api.requests.filter((r) => r.path === '/api/v1/namespaces/shop')).toEqual([]);

    await label('shop', {});
    const removed = await chain.createPod('shop', workload());
    expect(removed.calls).toEqual([]);
    expect(injected(removed.pod)).toBe(false);
  });

  it('renders native sidecars while every node runs kubelet >= 1.33, classic ones otherwise', async () => {
    await label('shop', { 'istio-injection': 'enabled' });
    const native = await chain.createPod('shop', workload());
    expect(containerNames(native.pod, 'initContainers')).toContain('istio-proxy');
    expect(containerNames(native.pod, 'containers')).not.toContain('istio-proxy');

    api.upsert('nodes', node('node-old', 'v1.32.7'));
    await eventually(
      () => !runtime.facts.factsFor(workload(), undefined).nativeSidecars,
      'old node seen',
    );
    const classic = await chain.createPod('shop', workload());
    expect(containerNames(classic.pod, 'containers')).toContain('istio-proxy');
    expect(containerNames(classic.pod, 'initContainers')).not.toContain('istio-proxy');

    api.remove('nodes', 'node-old');
    await eventually(
      () => runtime.facts.factsFor(workload(), undefined).nativeSidecars,
      'old node gone',
    );
  });

  it.each([
    ['the label', { 'sidecar.istio.io/inject': 'false' }, {}, 0],
    ['the annotation', {}, { 'sidecar.istio.io/inject': 'false' }, 1],
  ])('lets a pod opt out by %s', async (_how, labels, annotations, calls) => {
    await label('shop', { 'istio-injection': 'enabled' });
    const result = await chain.createPod('shop', workload(labels, annotations));
    // A label stops the API server from calling at all; an annotation is honoured by the server.
    expect(result.calls).toHaveLength(calls);
    expect(injected(result.pod)).toBe(false);
  });

  it('injects only pods that opt in while the ConfigMap policy is disabled', async () => {
    await label('shop', { 'istio-injection': 'enabled' });
    await setPolicy('disabled');
    try {
      const plain = await chain.createPod('shop', workload());
      expect(plain.calls).toHaveLength(1);
      expect(injected(plain.pod)).toBe(false);
      const optedIn = await chain.createPod(
        'shop',
        workload({}, { 'sidecar.istio.io/inject': 'true' }),
      );
      expect(injected(optedIn.pod)).toBe(true);
    } finally {
      await setPolicy('enabled');
    }
    expect(injected((await chain.createPod('shop', workload())).pod)).toBe(true);
  });

  it.each([
    ['namespace istio.io/rev=default', { 'istio.io/rev': 'default' }, {}, true],
    ['namespace istio.io/rev=canary (another revision)', { 'istio.io/rev': 'canary' }, {}, false],
    [
      'pod istio.io/rev=default in an unlabelled namespace',
      {},
      { 'istio.io/rev': 'default' },
      true,
    ],
    ['pod istio.io/rev=canary in an unlabelled namespace', {}, { 'istio.io/rev': 'canary' }, false],
    [
      'istio-injection=enabled wins over pod istio.io/rev=canary',
      { 'istio-injection': 'enabled' },
      { 'istio.io/rev': 'canary' },
      true,
    ],
  ])('revision labels: %s', async (_case, nsLabels, podLabels, expected) => {
    await label('canary-apps', nsLabels);
    const result = await chain.createPod('canary-apps', workload(podLabels));
    expect(injected(result.pod)).toBe(expected);
  });

  it('answers the same over HTTP/1.1 as over HTTP/2', async () => {
    await label('shop', { 'istio-injection': 'enabled' });
    const webhooks = await readWebhooks(
      join(ROOT, 'manifests/base/mutatingwebhookconfiguration.yaml'),
    );
    const http1 = new AdmissionChain({
      api,
      webhooks,
      caBundle: ca,
      endpoint: { host: '127.0.0.1', port },
      protocol: 'http1',
    });
    const viaHttp1 = await http1.createPod('shop', workload());
    const viaH2 = await chain.createPod('shop', workload());
    expect(injected(viaHttp1.pod)).toBe(true);
    expect(viaHttp1.pod).toEqual(viaH2.pod);
    expect(chain.negotiatedProtocol()).toBe('h2');
    expect(http1.negotiatedProtocol()).toBeUndefined();
  });

  it('is refused by a client that trusts another CA', async () => {
    const other = await generateDevCertificates({ hosts: [`sidecar-injector.${NS}.svc`] });
    const webhooks = await readWebhooks(
      join(ROOT, 'manifests/base/mutatingwebhookconfiguration.yaml'),
    );
    const untrusting = new AdmissionChain({
      api,
      webhooks,
      caBundle: other.ca,
      endpoint: { host: '127.0.0.1', port },
    });
    await label('shop', { 'istio-injection': 'enabled' });
    try {
      // failurePolicy Fail: a webhook that cannot be called rejects the pod.
      await expect(untrusting.createPod('shop', workload())).rejects.toBeInstanceOf(
        WebhookCallFailed,
      );
    } finally {
      untrusting.close();
    }
  });

  it('is idempotent when called again on its own output (reinvocationPolicy IfNeeded)', async () => {
    await label('shop', { 'istio-injection': 'enabled' });
    const first = await chain.createPod('shop', workload());
    expect(injected(first.pod)).toBe(true);
    // A reinvocation sends the already mutated pod; the result must not change (spec §2.3).
    const again = await chain.createPod('shop', first.pod);
    expect(again.calls).toHaveLength(1);
    expect(again.pod).toEqual(first.pod);
  });

  it('never touches excluded namespaces, whatever their labels', async () => {
    await label('kube-system', { 'istio-injection': 'enabled' });
    const result = await chain.createPod(
      'kube-system',
      workload({ 'sidecar.istio.io/inject': 'true' }),
    );
    expect(result.calls).toEqual([]);
    expect(injected(result.pod)).toBe(false);
  });

  it('keeps answering from its caches while the API server is away, and catches up after', async () => {
    await label('shop', { 'istio-injection': 'enabled' });
    await api.stop();
    try {
      // The watch is gone; admissions still come (the API server's webhook client is separate).
      const during = await chain.createPod('shop', workload());
      expect(injected(during.pod)).toBe(true);
      expect(runtime.readiness.synced()).toBe(true);
      // Changes made while the watch is down, then compaction: the informer must relist.
      api.upsert('namespaces', {
        metadata: { name: 'late', labels: { 'istio-injection': 'enabled' } },
      });
      api.upsert('configmaps', injectorConfigMap('policy: disabled'));
      api.compact();
    } finally {
      await api.start();
    }
    await eventually(
      () => runtime.config.current().injector.policy === 'disabled',
      'policy after recovery',
    );
    await eventually(
      async () => (await runtime.namespaces.resolve('late')).source === 'cache',
      'new namespace cached',
    );
    const late = await chain.createPod('late', workload({}, { 'sidecar.istio.io/inject': 'true' }));
    expect(injected(late.pod)).toBe(true);
    await setPolicy('enabled');
  });

  it('keeps the last good configuration when the ConfigMap breaks, and counts the error', async () => {
    await label('shop', { 'istio-injection': 'enabled' });
    await setPolicy('disabled');
    const errorsBefore = /sidecar_injector_config_reload_errors_total (\d+)/.exec(
      (await scrape('/metrics')).body,
    )?.[1];
    api.upsert('configmaps', injectorConfigMap('policy: [unclosed'));
    await eventually(async () => {
      const m = /sidecar_injector_config_reload_errors_total (\d+)/.exec(
        (await scrape('/metrics')).body,
      );
      return Number(m?.[1]) === Number(errorsBefore) + 1;
    }, 'reload error visible on /metrics');
    // Still the last good (disabled) policy, and still ready.
    expect(injected((await chain.createPod('shop', workload())).pod)).toBe(false);
    expect((await scrape('/readyz')).status).toBe(200);
    await setPolicy('enabled');
    expect(injected((await chain.createPod('shop', workload())).pod)).toBe(true);
  });
});
