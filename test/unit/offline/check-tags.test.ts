/**
 * Revision tags in `check` and `check --cluster`: they are learned from MutatingWebhookConfiguration
 * labels (`istio.io/tag`, `istio.io/rev`) by the function the server's informer uses
 * (tagsPointingAt), from the manifests, from `--kubeconfig`, or from the cluster snapshot.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { createCheckCommand } from '../../../src/cli/check.js';
import {
  createClusterCheckCommand,
  type ClusterCheckReport,
} from '../../../src/cli/check-cluster.js';
import { EXIT } from '../../../src/cli/io.js';
import type { NamespaceInfo } from '../../../src/core/contracts.js';
import type { Pod, StringMap } from '../../../src/core/pod-types.js';
import type { ClusterReader } from '../../../src/k8s/cluster-reader.js';
import type { ClusterSnapshot } from '../../../src/k8s/fetch-audit.js';
import { captureIO } from '../cli/capture-io.js';

const POD = `apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers: [{name: app, image: app}]
`;

function tagDocument(tag: string, revision: string): string {
  return stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: `istio-revision-tag-${tag}`,
      labels: { 'istio.io/tag': tag, 'istio.io/rev': revision },
    },
    webhooks: [],
  });
}

function reader(
  clusterLabels: StringMap[] | undefined,
  namespaceLabels: StringMap = {},
): ClusterReader {
  return {
    configSources: () => Promise.resolve({}),
    nodeVersions: () => Promise.resolve([]),
    namespace: (_kubeconfig, name) =>
      Promise.resolve({ name, labels: namespaceLabels, annotations: {} }),
    webhookConfigurationLabels: () => Promise.resolve(clusterLabels),
  };
}

interface Step {
  stage: string;
  pass: boolean;
  reason: string;
  message: string;
}

async function webhookStep(
  stdin: string,
  args: readonly string[],
  cluster = reader([]),
): Promise<{ step: Step | undefined; err: string }> {
  const io = captureIO('/', stdin);
  const code = await createCheckCommand(cluster)(['-f', '-', '-o', 'json', ...args], io);
  expect(code, io.err()).toBe(EXIT.OK);
  const [result] = JSON.parse(io.out()) as { steps: Step[] }[];
  return { step: result?.steps.find((s) => s.stage === 'webhook'), err: io.err() };
}

const tagName = fc.constantFrom('prod', 'stable', 'canary', 'default', 'x-1');
const revisionName = fc.constantFrom('default', '1-32', '1-31');

describe('check: revision tags from the manifests', () => {
  it('a namespace labelled with a tag is selected once the tag configuration is among the manifests', async () => {
    const labels = ['--namespace-labels', 'istio.io/rev=prod'];
    const without = await webhookStep(POD, labels);
    expect(without.step).toMatchObject({ pass: false, reason: 'revision-mismatch' });
    const stream = `${POD}---\n${tagDocument('prod', 'default')}`;
    const withTag = await webhookStep(stream, labels);
    expect(withTag.step).toMatchObject({
      pass: true,
      reason: 'namespace-revision-label',
      message: 'Namespace label istio.io/rev=prod matches',
    });
    // A tag of another revision does not select this one.
    const elsewhere = await webhookStep(`${POD}---\n${tagDocument('prod', '1-32')}`, labels);
    expect(elsewhere.step).toMatchObject({ pass: false, reason: 'revision-mismatch' });
  });

  it('the default tag pointing at a revision makes istio-injection=enabled select it', async () => {
    const args = ['--revision', '1-32', '--namespace-labels', 'istio-injection=enabled'];
    expect((await webhookStep(POD, args)).step).toMatchObject({
      pass: false,
      reason: 'not-default-revision',
    });
    const inList = stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [parseYaml(tagDocument('default', '1-32'))],
    });
    expect((await webhookStep(`${POD}---\n${inList}`, args)).step).toMatchObject({
      pass: true,
      reason: 'namespace-injection-label',
    });
  });

  it('property: check selects a tag-labelled namespace or pod exactly when a tag document points that tag at the checked revision', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(tagName, revisionName), { maxLength: 4 }),
        revisionName,
        tagName,
        fc.boolean(),
        async (pairs, self, used, onNamespace) => {
          const stream = [POD, ...pairs.map(([t, r]) => tagDocument(t, r))].join('---\n');
          const pod = onNamespace
            ? stream
            : stream.replace(
                'metadata: {name: app}',
                `metadata: {name: app, labels: {istio.io/rev: ${used}}}`,
              );
          const { step } = await webhookStep(pod, [
            '--revision',
            self,
            '--namespace-labels',
            onNamespace ? `istio.io/rev=${used}` : '',
          ]);
          const pointsHere = used === self || pairs.some(([t, r]) => t === used && r === self);
          expect(step?.pass).toBe(pointsHere);
        },
      ),
      { numRuns: 60 },
    );
  });

  // A plain scalar such as 132 is read as the string "132", as istioctl reads it into a Go string;
  // a list cannot be one.
  it('labels that are not strings are a clear manifest error', async () => {
    const bad = `${POD}---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata:\n  name: t\n  labels: {istio.io/tag: prod, istio.io/rev: [132]}\n`;
    const io = captureIO('/', bad);
    expect(await createCheckCommand(reader([]))(['-f', '-'], io)).toBe(EXIT.FAILURE);
    expect(io.err()).toContain(
      'INJ_ERR_MANIFEST_INVALID: <stdin>: document 2: MutatingWebhookConfiguration metadata.labels[istio.io/rev]: must be a string, got [132]',
    );
  });
});

describe('check --kubeconfig: revision tags from the cluster', () => {
  it("learns tags from the cluster's MutatingWebhookConfigurations, and says so when it cannot list them", async () => {
    const tagged = reader([{ 'istio.io/tag': 'prod', 'istio.io/rev': 'default' }], {
      'istio.io/rev': 'prod',
    });
    const found = await webhookStep(POD, ['--kubeconfig', 'kc'], tagged);
    expect(found.step).toMatchObject({ pass: true, reason: 'namespace-revision-label' });
    expect(found.err).toBe('');

    const forbidden = await webhookStep(
      POD,
      ['--kubeconfig', 'kc'],
      reader(undefined, { 'istio.io/rev': 'prod' }),
    );
    expect(forbidden.step).toMatchObject({ pass: false, reason: 'revision-mismatch' });
    expect(forbidden.err).toContain('cannot list MutatingWebhookConfigurations');
  });
});

describe('check --cluster: revision tags learned from the snapshot', () => {
  const uninjected: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop' },
    spec: { containers: [{ name: 'web', image: 'web' }] },
  };
  const run = async (webhooks: ClusterSnapshot['webhooks']): Promise<ClusterCheckReport> => {
    const namespaces = new Map<string, NamespaceInfo>([
      ['shop', { name: 'shop', labels: { 'istio.io/rev': 'prod' }, annotations: {} }],
    ]);
    const io = captureIO('/');
    const command = createClusterCheckCommand({
      cluster: reader([]),
      snapshot: () => Promise.resolve({ pods: [uninjected], namespaces, webhooks }),
      verify: () => ({ ok: true }),
    });
    expect(await command(['--cluster', '--output', 'json'], io), io.err()).toBe(EXIT.OK);
    const text = captureIO('/');
    await command(['--cluster'], text);
    const report = JSON.parse(io.out()) as ClusterCheckReport;
    if (report.revisionTags.length > 0) {
      expect(text.out()).toContain(
        `Revision tags pointing at this revision: ${report.revisionTags.join(', ')}.`,
      );
    }
    return report;
  };

  it('a pod without a sidecar in a namespace labelled with a tag of this revision is reported', async () => {
    const tag = {
      name: 'istio-revision-tag-prod',
      labels: { 'istio.io/tag': 'prod', 'istio.io/rev': 'default' },
      webhooks: [],
    };
    const found = await run([tag]);
    expect(found.revisionTags).toEqual(['prod']);
    expect(found.pods.map((f) => [f.problem, f.pod])).toEqual([['missing-sidecar', 'web-1']]);
    // The same tag pointing at another revision: the namespace is not ours to inject.
    const other = await run([{ ...tag, labels: { ...tag.labels, 'istio.io/rev': '1-32' } }]);
    expect(other.revisionTags).toEqual([]);
    expect(other.pods).toEqual([]);
  });
});
