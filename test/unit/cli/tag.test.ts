/** `sidecar-injector tag` against an in-memory cluster that keeps resourceVersions as the API server does. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { createTagCommand, type TagCluster } from '../../../src/cli/tag.js';
import { EXIT } from '../../../src/cli/io.js';
import type { TagWebhookConfiguration } from '../../../src/core/revision-tags.js';
import { InjectorError } from '../../../src/errors.js';
import { captureIO } from './capture-io.js';

const SHIPPED = parse(
  readFileSync(
    new URL('../../../manifests/base/mutatingwebhookconfiguration.yaml', import.meta.url),
    'utf8',
  ),
) as TagWebhookConfiguration;

class MemoryCluster implements TagCluster {
  readonly objects = new Map<string, TagWebhookConfiguration>();
  readonly namespaces = new Map<string, Record<string, string>>();
  readonly writes: string[] = [];
  private rv = 1;

  add(c: TagWebhookConfiguration): void {
    this.objects.set(c.metadata.name, {
      ...structuredClone(c),
      metadata: { ...structuredClone(c.metadata), resourceVersion: String(this.rv++) },
    });
  }

  listWebhookConfigurations(): Promise<TagWebhookConfiguration[]> {
    return Promise.resolve([...this.objects.values()].map((c) => structuredClone(c)));
  }
  namespacesLabelled(value: string): Promise<string[]> {
    return Promise.resolve(
      [...this.namespaces].filter(([, l]) => l['istio.io/rev'] === value).map(([n]) => n),
    );
  }
  create(c: TagWebhookConfiguration): Promise<void> {
    if (this.objects.has(c.metadata.name)) {
      return Promise.reject(new InjectorError('INJ_ERR_TAG_CONFLICT', 'exists (409)'));
    }
    this.writes.push(`create ${c.metadata.name}`);
    this.add(c);
    return Promise.resolve();
  }
  replace(c: TagWebhookConfiguration): Promise<void> {
    const stored = this.objects.get(c.metadata.name);
    if (stored?.metadata.resourceVersion !== c.metadata.resourceVersion) {
      return Promise.reject(
        new InjectorError('INJ_ERR_TAG_CONFLICT', 'stale resourceVersion (409)'),
      );
    }
    this.writes.push(`replace ${c.metadata.name}`);
    this.add(c);
    return Promise.resolve();
  }
  remove(name: string): Promise<void> {
    this.writes.push(`delete ${name}`);
    this.objects.delete(name);
    return Promise.resolve();
  }
}

function clusterWithRevisions(): MemoryCluster {
  const cluster = new MemoryCluster();
  cluster.add(SHIPPED);
  const canary = structuredClone(SHIPPED);
  canary.metadata = {
    name: 'sidecar-injector-1-32',
    labels: { 'istio.io/rev': '1-32', app: 'sidecar-injector' },
  };
  canary.webhooks = (canary.webhooks ?? []).filter((w) => w.name.startsWith('rev.'));
  for (const w of canary.webhooks) {
    for (const r of [
      ...(w.namespaceSelector?.matchExpressions ?? []),
      ...(w.objectSelector?.matchExpressions ?? []),
    ]) {
      if (r.key === 'istio.io/rev' && r.operator === 'In') r.values = ['1-32'];
    }
  }
  cluster.add(canary);
  return cluster;
}

async function run(cluster: MemoryCluster, ...argv: string[]) {
  const io = captureIO('/');
  const paths: (string | undefined)[] = [];
  const code = await createTagCommand((path) => {
    paths.push(path);
    return Promise.resolve(cluster);
  })(argv, io);
  return { code, out: io.out(), err: io.err(), paths };
}

describe('tag set', () => {
  it('creates the tag configuration pointing at the revision and tells how to use it', async () => {
    const cluster = clusterWithRevisions();
    const r = await run(cluster, 'set', 'prod', '--revision', '1-32');
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('Revision tag "prod" created, referencing revision "1-32"');
    expect(r.out).toContain('kubectl label namespace <NAMESPACE> istio.io/rev=prod');
    expect(cluster.writes).toEqual(['create sidecar-injector-revision-tag-prod']);
    const tag = cluster.objects.get('sidecar-injector-revision-tag-prod');
    expect(tag?.metadata.labels).toMatchObject({ 'istio.io/tag': 'prod', 'istio.io/rev': '1-32' });
    expect(tag?.webhooks?.[0]?.clientConfig).toEqual(SHIPPED.webhooks?.[0]?.clientConfig);
  });

  it('--dry-run prints the YAML and writes nothing', async () => {
    const cluster = clusterWithRevisions();
    const r = await run(cluster, 'set', '-r', '1-32', 'prod', '--dry-run');
    expect(r.code).toBe(EXIT.OK);
    expect(cluster.writes).toEqual([]);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS() as TagWebhookConfiguration);
    expect(docs.map((d) => [d.kind, d.metadata.name])).toEqual([
      ['MutatingWebhookConfiguration', 'sidecar-injector-revision-tag-prod'],
    ]);
  });

  it('refuses to move an existing tag without --overwrite, then moves it with it', async () => {
    const cluster = clusterWithRevisions();
    expect((await run(cluster, 'set', 'prod', '--revision', 'default')).code).toBe(EXIT.OK);
    const refused = await run(cluster, 'set', 'prod', '--revision', '1-32');
    expect(refused.code).toBe(EXIT.FAILURE);
    expect(refused.err).toContain(
      'INJ_ERR_TAG_CONFLICT: revision tag "prod" already exists (sidecar-injector-revision-tag-prod -> default); pass --overwrite to point it at 1-32',
    );
    const moved = await run(cluster, 'set', 'prod', '--revision', '1-32', '--overwrite');
    expect(moved.code).toBe(EXIT.OK);
    expect(moved.out).toContain('Revision tag "prod" updated');
    expect(
      cluster.objects.get('sidecar-injector-revision-tag-prod')?.metadata.labels?.['istio.io/rev'],
    ).toBe('1-32');
  });

  it('the default tag neutralises the default revision, after creating the tag', async () => {
    const cluster = clusterWithRevisions();
    const r = await run(cluster, 'set', 'default', '--revision', '1-32');
    expect(r.code).toBe(EXIT.OK);
    expect(cluster.writes).toEqual([
      'create sidecar-injector-revision-tag-default',
      'replace sidecar-injector',
    ]);
    expect(r.out).toContain(
      'Neutralised the default-revision entries of MutatingWebhookConfiguration sidecar-injector',
    );
  });

  it.each<[string[], string]>([
    [['set', '--revision', '1-32'], 'tag set needs a tag name'],
    [['set', 'prod'], 'tag set needs --revision'],
    [['set', 'prod', 'stable', '--revision', '1-32'], 'unexpected argument(s): stable'],
    [['set', 'prod', '--revision', '1-32', '-o', 'json'], '--output does not apply to tag set'],
    [['rename', 'prod'], 'unknown tag subcommand "rename"'],
    [['set', 'Prod', '--revision', '1-32'], 'tag "Prod": must consist of lower-case letters'],
  ])('usage error: %j', async (argv, message) => {
    const cluster = clusterWithRevisions();
    const r = await run(cluster, ...argv);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toContain('INJ_ERR_CLI_USAGE');
    expect(r.err).toContain(message);
    expect(cluster.writes).toEqual([]);
  });

  it('a revision nobody serves is INJ_ERR_REVISION_NOT_FOUND', async () => {
    const r = await run(clusterWithRevisions(), 'set', 'prod', '--revision', '1-99');
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.err).toContain(
      'INJ_ERR_REVISION_NOT_FOUND: no sidecar-injector MutatingWebhookConfiguration of revision 1-99',
    );
  });

  it('passes --kubeconfig resolved against the working directory', async () => {
    const r = await run(clusterWithRevisions(), 'list', '--kubeconfig', 'kc.yaml');
    expect(r.paths).toEqual(['/kc.yaml']);
  });
});

describe('tag list and remove', () => {
  it('lists tags with their revision and namespaces, as a table or JSON', async () => {
    const cluster = clusterWithRevisions();
    expect((await run(cluster)).code).toBe(EXIT.USAGE);
    expect((await run(cluster, 'list')).out).toBe('No revision tags found.\n');
    await run(cluster, 'set', 'prod', '--revision', '1-32');
    cluster.namespaces.set('shop', { 'istio.io/rev': 'prod' });
    const table = await run(cluster, 'list');
    expect(table.out.split('\n')[0]).toMatch(/^TAG\s+REVISION\s+NAMESPACES\s+CONFIGURATIONS$/);
    expect(table.out.split('\n')[1]).toMatch(
      /^prod\s+1-32\s+shop\s+sidecar-injector-revision-tag-prod$/,
    );
    const json = JSON.parse((await run(cluster, 'list', '-o', 'json')).out) as unknown;
    expect(json).toEqual([
      {
        tag: 'prod',
        revision: '1-32',
        namespaces: ['shop'],
        configurations: ['sidecar-injector-revision-tag-prod'],
      },
    ]);
  });

  it('remove refuses while namespaces use the tag, unless --skip-confirmation', async () => {
    const cluster = clusterWithRevisions();
    await run(cluster, 'set', 'prod', '--revision', '1-32');
    cluster.namespaces.set('shop', { 'istio.io/rev': 'prod' });
    const refused = await run(cluster, 'remove', 'prod');
    expect(refused.code).toBe(EXIT.FAILURE);
    expect(refused.err).toContain(
      'INJ_ERR_TAG_CONFLICT: 1 namespace(s) still use tag "prod" (shop)',
    );
    const dry = await run(cluster, 'remove', 'prod', '--dry-run');
    expect(dry.out).toBe(
      'would delete MutatingWebhookConfiguration sidecar-injector-revision-tag-prod\n',
    );
    expect(cluster.objects.has('sidecar-injector-revision-tag-prod')).toBe(true);
    const removed = await run(cluster, 'remove', 'prod', '-y');
    expect(removed.code).toBe(EXIT.OK);
    expect(cluster.objects.has('sidecar-injector-revision-tag-prod')).toBe(false);
    const again = await run(cluster, 'remove', 'prod', '-y');
    expect(again.err).toContain('INJ_ERR_TAG_NOT_FOUND');
  });
});
