/**
 * `inject` with ProxyConfig resources: documents among the manifests and `--proxy-config` files
 * configure the injected proxies (Istio's precedence, src/core/proxy-config-resources.ts) and
 * are not printed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runInject } from '../../../src/cli/inject.js';
import { EXIT } from '../../../src/cli/io.js';
import type { Container, Pod } from '../../../src/core/pod-types.js';
import { captureIO } from '../cli/capture-io.js';

const DEPLOYMENT = (name: string, labels: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: shop
spec:
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}${labels}}
    spec:
      containers:
      - name: app
        image: app
`;

const PROXY_CONFIG = (
  namespace: string,
  name: string,
  spec: string,
) => `apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
${spec}
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inject-proxyconfig-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function proxyOf(doc: unknown): Container | undefined {
  const pod = (doc as { spec: { template: Pod } }).spec.template;
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
    (c) => c.name === 'istio-proxy',
  );
}

function proxyConfigEnv(doc: unknown): Record<string, unknown> {
  const text = proxyOf(doc)?.env?.find((e) => e.name === 'PROXY_CONFIG')?.value ?? '{}';
  return JSON.parse(text) as Record<string, unknown>;
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO(dir);
  const code = await runInject(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('inject with ProxyConfig resources', () => {
  it('documents in the input apply to the pods and are left out of the output', async () => {
    const input = [
      PROXY_CONFIG(
        'istio-system',
        'mesh-wide',
        '  concurrency: 1\n  environmentVariables: {ROOT: "yes"}',
      ),
      DEPLOYMENT('web', ', tier: front'),
      PROXY_CONFIG(
        'shop',
        'front',
        '  selector:\n    matchLabels: {tier: front}\n  concurrency: 4',
      ),
      DEPLOYMENT('api', ''),
    ].join('---\n');
    await writeFile(join(dir, 'in.yaml'), input);
    const { code, out, err } = await run(['-f', 'in.yaml']);
    expect(err).toBe('');
    expect(code).toBe(EXIT.OK);
    const docs = parseAllDocuments(out).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind)).toEqual(['Deployment', 'Deployment']);
    const [web, api] = docs;
    expect(proxyConfigEnv(web)).toMatchObject({ concurrency: 4, proxyMetadata: { ROOT: 'yes' } });
    expect(proxyConfigEnv(api)).toMatchObject({ concurrency: 1, proxyMetadata: { ROOT: 'yes' } });
    expect(proxyOf(api)?.env).toEqual(expect.arrayContaining([{ name: 'ROOT', value: 'yes' }]));

    // JSON output leaves them out too.
    const json = await run(['-f', 'in.yaml', '-o', 'json']);
    const list = JSON.parse(json.out) as { items: { kind: string }[] };
    expect(list.items.map((i) => i.kind)).toEqual(['Deployment', 'Deployment']);
  });

  it('--proxy-config files apply; a workload match wins over the pod annotation, as in Istio', async () => {
    await writeFile(
      join(dir, 'pc.yaml'),
      PROXY_CONFIG(
        'shop',
        'web',
        '  selector:\n    matchLabels: {app: web}\n  image: {imageType: distroless}',
      ),
    );
    const annotated = DEPLOYMENT('web', '').replace(
      '      labels: {app: web}',
      '      labels: {app: web}\n      annotations:\n        proxy.istio.io/config: "image: {imageType: debug}\\nconcurrency: 7"',
    );
    await writeFile(join(dir, 'web.yaml'), annotated);
    const { code, out, err } = await run(['-f', 'web.yaml', '--proxy-config', 'pc.yaml']);
    expect(err).toBe('');
    expect(code).toBe(EXIT.OK);
    const [web] = parseAllDocuments(out).map((d) => d.toJS() as unknown);
    expect(proxyConfigEnv(web)).toMatchObject({
      concurrency: 7,
      image: { imageType: 'distroless' },
    });
    expect(proxyOf(web)?.image).toMatch(/-distroless$/);
  });

  it('an invalid ProxyConfig is refused with its place, field and reason', async () => {
    await writeFile(
      join(dir, 'bad.yaml'),
      [DEPLOYMENT('web', ''), PROXY_CONFIG('shop', 'bad', '  concurrency: -2')].join('---\n'),
    );
    const { code, out, err } = await run(['-f', 'bad.yaml']);
    expect(code).toBe(EXIT.FAILURE);
    expect(out).toBe('');
    expect(err).toContain('INJ_ERR_MANIFEST_INVALID');
    expect(err).toContain('bad.yaml: document 2');
    expect(err).toContain('spec.concurrency: expected an integer 0-2147483647, got -2');
  });

  it('a --proxy-config file holding something else, or missing, is refused', async () => {
    await writeFile(join(dir, 'not-pc.yaml'), DEPLOYMENT('x', ''));
    await writeFile(join(dir, 'web2.yaml'), DEPLOYMENT('web', ''));
    const other = await run(['-f', 'web2.yaml', '--proxy-config', 'not-pc.yaml']);
    expect(other.code).toBe(EXIT.FAILURE);
    expect(other.err).toContain(
      'expected a networking.istio.io/v1beta1 ProxyConfig, got apps/v1 Deployment',
    );
    const missing = await run(['-f', 'web2.yaml', '--proxy-config', 'nowhere.yaml']);
    expect(missing.code).toBe(EXIT.FAILURE);
    expect(missing.err).toContain('--proxy-config');
    expect(missing.err).toContain('nowhere.yaml');
  });

  it('a selector without labels is applied to no pod, with a warning', async () => {
    await writeFile(
      join(dir, 'empty-selector.yaml'),
      [
        DEPLOYMENT('web', ''),
        PROXY_CONFIG('shop', 'none', '  selector: {}\n  concurrency: 5'),
      ].join('---\n'),
    );
    const { code, out, err } = await run(['-f', 'empty-selector.yaml']);
    expect(code).toBe(EXIT.OK);
    expect(err).toContain('ProxyConfig "shop/none"): workload selector specified without labels');
    const [web] = parseAllDocuments(out).map((d) => d.toJS() as unknown);
    expect(proxyConfigEnv(web)['concurrency']).not.toBe(5);
  });
});
