/**
 * Istio's Bookinfo sample (read at run time from ../shared/samples) through `inject` and `check`:
 * every Deployment's pod template injected, Services and ServiceAccounts byte-identical, and the
 * walk-through of docs/offline.md (egress ranges with --set, patches for kustomize, check).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Operation } from 'fast-json-patch';
import { parse } from 'yaml';
import { runCheck } from '../../../src/cli/check.js';
import { runInject } from '../../../src/cli/inject.js';
import { EXIT } from '../../../src/cli/io.js';
import { applyPatchStrict } from '../../../src/core/patch/apply-strict.js';
import type { Container, Pod } from '../../../src/core/pod-types.js';
import { splitDocuments, type ManifestDocument } from '../../../src/offline/documents.js';
import { SAMPLES_DIR } from '../../helpers/shared.js';
import { captureIO } from '../cli/capture-io.js';

const BOOKINFO = join(SAMPLES_DIR, 'bookinfo.yaml');

interface Workload {
  kind: string;
  apiVersion: string;
  metadata: { name: string };
  spec: { replicas?: number; selector?: unknown; template: Pod };
}

async function inject(argv: string[], stdin = ''): Promise<string> {
  const io = captureIO(SAMPLES_DIR, stdin);
  const code = await runInject(argv, io);
  expect(io.err()).toBe('');
  expect(code).toBe(EXIT.OK);
  return io.out();
}

const kindOf = (d: ManifestDocument): string =>
  (d.value as { kind?: string } | null)?.kind ?? '(empty)';
const env = (c: Container | undefined, name: string): string | undefined =>
  c?.env?.find((e) => e.name === name)?.value;

let source: string;
let injected: string;
let input: ManifestDocument[];
let output: ManifestDocument[];

beforeAll(async () => {
  source = await readFile(BOOKINFO, 'utf8');
  injected = await inject(['-f', BOOKINFO]);
  input = splitDocuments(source, 'bookinfo.yaml');
  output = splitDocuments(injected, 'out');
});

describe('inject -f bookinfo.yaml', () => {
  it('keeps the documents, in order', () => {
    expect(output.map(kindOf)).toEqual(input.map(kindOf));
    expect(input.filter((d) => kindOf(d) === 'Deployment')).toHaveLength(6);
  });

  it('leaves Services and ServiceAccounts byte-identical', () => {
    const untouched = input.filter((d) => kindOf(d) !== 'Deployment');
    expect(untouched.filter((d) => ['Service', 'ServiceAccount'].includes(kindOf(d)))).toHaveLength(
      8,
    );
    for (const d of untouched) expect(output[d.index - 1]?.text).toBe(d.text);
  });

  it('injects every Deployment pod template and nothing else of the Deployment', () => {
    for (const d of input.filter((doc) => kindOf(doc) === 'Deployment')) {
      const before = d.value as unknown as Workload;
      const after = output[d.index - 1]?.value as unknown as Workload;
      const name = before.metadata.name;
      expect({ ...after, spec: { ...after.spec, template: null } }).toEqual({
        ...before,
        spec: { ...before.spec, template: null },
      });
      const pod = after.spec.template;
      const init = pod.spec?.initContainers ?? [];
      expect(init.map((c) => c.name)).toEqual(['istio-init', 'istio-proxy']);
      const proxy = init[1];
      expect(proxy?.restartPolicy).toBe('Always');
      expect(env(proxy, 'ISTIO_META_WORKLOAD_NAME')).toBe(name);
      expect(env(proxy, 'ISTIO_META_OWNER')).toBe(
        `kubernetes://apis/apps/v1/namespaces/default/deployments/${name}`,
      );
      const appContainers = before.spec.template.spec?.containers?.map((c) => c.name);
      expect(pod.spec?.containers?.map((c) => c.name)).toEqual(appContainers);
      const status = JSON.parse(pod.metadata?.annotations?.['sidecar.istio.io/status'] ?? '{}') as {
        initContainers: string[];
      };
      expect(status.initContainers).toEqual(['istio-init', 'istio-proxy']);
      expect(pod.metadata?.labels?.['service.istio.io/canonical-name']).toBe(
        before.spec.template.metadata?.labels?.app,
      );
    }
  });

  it('is idempotent', async () => {
    expect(await inject(['-f', '-'], injected)).toBe(injected);
  });

  it('puts the proxy in containers with --native-sidecars disabled', async () => {
    const classic = splitDocuments(
      await inject(['-f', BOOKINFO, '--native-sidecars', 'disabled']),
      'out',
    );
    const deployment = classic.find((d) => kindOf(d) === 'Deployment')
      ?.value as unknown as Workload;
    const spec = deployment.spec.template.spec;
    expect(spec?.initContainers?.map((c) => c.name)).toEqual(['istio-init']);
    expect(spec?.containers?.map((c) => c.name)).toEqual(['details', 'istio-proxy']);
  });

  it('limits the captured egress with --set values.global.proxy.includeIPRanges', async () => {
    const ranges = '172.30.0.0/16,172.20.0.0/16';
    const out = splitDocuments(
      await inject(['-f', BOOKINFO, '--set', `values.global.proxy.includeIPRanges=${ranges}`]),
      'out',
    );
    const deployments = out.filter((d) => kindOf(d) === 'Deployment');
    expect(deployments).toHaveLength(6);
    for (const d of deployments) {
      const args =
        (d.value as unknown as Workload).spec.template.spec?.initContainers?.[0]?.args ?? [];
      expect(args[args.indexOf('-i') + 1]).toBe(ranges);
    }
  });

  it('prints kustomize patches that turn each Deployment into its injected form', async () => {
    const entries = parse(await inject(['-f', BOOKINFO, '--output', 'patch'])) as {
      target: { group: string; version: string; kind: string; name: string };
      patch: string;
    }[];
    const deployments = input.filter((d) => kindOf(d) === 'Deployment');
    expect(entries.map((e) => e.target)).toEqual(
      deployments.map((d) => ({
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        name: (d.value as unknown as Workload).metadata.name,
      })),
    );
    entries.forEach((entry, i) => {
      const d = deployments[i];
      expect(d).toBeDefined();
      if (d === undefined) return;
      const ops = JSON.parse(entry.patch) as Operation[];
      expect(ops.every((op) => op.path.startsWith('/spec/template/'))).toBe(true);
      expect(applyPatchStrict(d.value, ops)).toEqual(output[d.index - 1]?.value);
    });
  });
});

describe('check -f bookinfo.yaml', () => {
  it.each([
    ['istio-injection=enabled', true, 'namespace-injection-label'],
    ['istio.io/rev=default', true, 'namespace-revision-label'],
    ['istio-injection=disabled', false, 'namespace-injection-disabled'],
    ['team=books', false, 'no-injection-label'],
  ])('with namespace labels %s', async (labels, inject, reason) => {
    const io = captureIO(SAMPLES_DIR);
    const argv = ['-f', BOOKINFO, '--namespace-labels', labels, '--output', 'json'];
    expect(await runCheck(argv, io)).toBe(EXIT.OK);
    const results = JSON.parse(io.out()) as {
      kind: string;
      inject: boolean;
      steps: { stage: string; reason: string }[];
    }[];
    expect(results).toHaveLength(6);
    for (const r of results) {
      expect([r.kind, r.inject, r.steps[0]?.stage, r.steps[0]?.reason]).toEqual([
        'Deployment',
        inject,
        'webhook',
        reason,
      ]);
    }
  });
});
