/**
 * `inject` and `check` with --kubeconfig against a fake API server on 127.0.0.1: the revision's
 * ConfigMaps configure the injection, the namespace labels feed the selector step, and API
 * failures end with exit code 1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCheck } from '../../../src/cli/check.js';
import { runInject } from '../../../src/cli/inject.js';
import { EXIT } from '../../../src/cli/io.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { FakeApiServer } from '../../e2e/fake-apiserver.js';
import { captureIO } from './capture-io.js';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: web
`;

const api = new FakeApiServer();
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'offline-cluster-'));
  await api.start();
  kubeconfig = await api.writeKubeconfig(dir);
  api.upsert('configmaps', {
    metadata: { name: 'istio-sidecar-injector-canary', namespace: 'istio-system' },
    data: {
      config: 'policy: disabled\n',
      values: JSON.stringify({ global: { proxy: { includeIPRanges: '10.0.0.0/8' } } }),
    },
  });
  api.upsert('namespaces', { metadata: { name: 'shop', labels: { 'istio.io/rev': 'canary' } } });
});

afterAll(async () => {
  api.failWith = undefined;
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('--kubeconfig', () => {
  it('injects with the revision ConfigMaps of the cluster', async () => {
    const io = captureIO(dir, DEPLOYMENT);
    const code = await runInject(
      ['-f', '-', '--kubeconfig', kubeconfig, '--revision', 'canary'],
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(EXIT.OK);
    const pod = (parse(io.out()) as { spec: { template: Pod } }).spec.template;
    expect(pod.metadata?.annotations?.['istio.io/rev']).toBe('canary');
    const args = pod.spec?.initContainers?.find((c) => c.name === 'istio-init')?.args ?? [];
    expect(args[args.indexOf('-i') + 1]).toBe('10.0.0.0/8');
  });

  it.each([
    ['every kubelet is 1.33 or newer: native sidecar', ['v1.33.2', 'v1.34.0'], 'initContainers'],
    ['one kubelet is older: classic sidecar', ['v1.34.0', 'v1.31.7'], 'containers'],
  ])('decides native sidecars from the nodes: %s', async (_name, versions, placement) => {
    versions.forEach((kubeletVersion, i) =>
      api.upsert('nodes', {
        metadata: { name: `node-${i}` },
        status: { nodeInfo: { kubeletVersion } },
      }),
    );
    try {
      const io = captureIO(dir, DEPLOYMENT);
      expect(await runInject(['-f', '-', '--kubeconfig', kubeconfig], io)).toBe(EXIT.OK);
      const spec = (parse(io.out()) as { spec: { template: Pod } }).spec.template.spec;
      const proxyIn = spec?.initContainers?.some((c) => c.name === 'istio-proxy')
        ? 'initContainers'
        : 'containers';
      expect(proxyIn).toBe(placement);
      expect(spec?.[placement === 'containers' ? 'containers' : 'initContainers']).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'istio-proxy' })]),
      );
    } finally {
      versions.forEach((_v, i) => api.remove('nodes', `node-${i}`));
    }
  });

  it('checks with the namespace labels and the policy of the cluster', async () => {
    const io = captureIO(dir, DEPLOYMENT);
    const argv = [
      '-f',
      '-',
      '--kubeconfig',
      kubeconfig,
      '--revision',
      'canary',
      '--output',
      'json',
    ];
    expect(await runCheck(argv, io)).toBe(EXIT.OK);
    const [result] = JSON.parse(io.out()) as {
      inject: boolean;
      steps: { stage: string; pass: boolean; reason: string }[];
    }[];
    expect(result?.inject).toBe(false);
    expect(result?.steps).toEqual([
      expect.objectContaining({ stage: 'webhook', pass: true, reason: 'namespace-revision-label' }),
      expect.objectContaining({ stage: 'policy', pass: false, reason: 'policy-disabled' }),
    ]);
  });

  it("learns revision tags from the cluster's MutatingWebhookConfigurations (list forbidden: a warning)", async () => {
    api.upsert('namespaces', { metadata: { name: 'tagged', labels: { 'istio.io/rev': 'prod' } } });
    const tagged = DEPLOYMENT.replace('namespace: shop', 'namespace: tagged');
    const webhookStep = async (): Promise<{ pass: boolean; reason: string; err: string }> => {
      const io = captureIO(dir, tagged);
      const argv = ['-f', '-', '--kubeconfig', kubeconfig, '--revision', 'canary', '-o', 'json'];
      expect(await runCheck(argv, io), io.err()).toBe(EXIT.OK);
      const [result] = JSON.parse(io.out()) as { steps: { pass: boolean; reason: string }[] }[];
      return { ...(result?.steps[0] ?? { pass: false, reason: 'none' }), err: io.err() };
    };
    expect(await webhookStep()).toMatchObject({ pass: false, reason: 'revision-mismatch' });
    api.upsert('mutatingwebhookconfigurations', {
      metadata: {
        name: 'istio-revision-tag-prod',
        labels: { 'istio.io/tag': 'prod', 'istio.io/rev': 'canary' },
      },
      webhooks: [],
    });
    try {
      expect(await webhookStep()).toMatchObject({
        pass: true,
        reason: 'namespace-revision-label',
        err: '',
      });
      api.forbidden.add('mutatingwebhookconfigurations');
      const forbidden = await webhookStep();
      expect(forbidden).toMatchObject({ pass: false, reason: 'revision-mismatch' });
      expect(forbidden.err).toContain('warning: cannot list MutatingWebhookConfigurations');
    } finally {
      api.forbidden.delete('mutatingwebhookconfigurations');
      api.remove('mutatingwebhookconfigurations', 'istio-revision-tag-prod');
      api.remove('namespaces', 'tagged');
    }
  });

  it('fails with exit code 1 when the API server refuses', async () => {
    api.failWith = 403;
    try {
      const io = captureIO(dir, DEPLOYMENT);
      expect(await runInject(['-f', '-', '--kubeconfig', kubeconfig], io)).toBe(EXIT.FAILURE);
      expect(io.err()).toContain('INJ_ERR_KUBERNETES_API');
      expect(io.out()).toBe('');
    } finally {
      api.failWith = undefined;
    }
  });
});
