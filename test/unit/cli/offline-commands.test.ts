/**
 * The command layer over the real pipeline and an in-memory cluster reader: flags, inputs (file,
 * directory, stdin), output file and exit codes. The injected output itself is checked by
 * golden.test.ts and bookinfo.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CHECK_FLAGS, createCheckCommand } from '../../../src/cli/check.js';
import { INJECT_FLAGS, createInjectCommand } from '../../../src/cli/inject.js';
import { EXIT } from '../../../src/cli/io.js';
import { parseFlags } from '../../../src/cli/flags.js';
import { CONFIG_FLAGS, FILENAME_FLAG, configRequest } from '../../../src/cli/offline-command.js';
import type { FetchConfigOptions } from '../../../src/k8s/fetch-config.js';
import type { ClusterReader } from '../../../src/k8s/cluster-reader.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { captureIO } from './capture-io.js';

const POD = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: app
    image: app
`;

/** A cluster whose namespaces all carry istio-injection=enabled and whose one node runs 1.32. */
interface MemoryCluster extends ClusterReader {
  configReads: FetchConfigOptions[];
}

function memoryCluster(): MemoryCluster {
  const configReads: FetchConfigOptions[] = [];
  return {
    configReads,
    configSources: (options) => {
      configReads.push(options);
      return Promise.resolve({});
    },
    nodeVersions: () => Promise.resolve([{ name: 'n1', kubeletVersion: 'v1.32.4' }]),
    namespace: (_kubeconfig, name) =>
      Promise.resolve({ name, labels: { 'istio-injection': 'enabled' }, annotations: {} }),
    webhookConfigurationLabels: () => Promise.resolve([]),
  };
}

/** Whether the injected pods of a YAML output run the proxy as a native sidecar. */
function nativeProxies(yaml: string): boolean[] {
  return parseAllDocuments(yaml).map((d) => {
    const pod = d.toJS() as Pod;
    return (pod.spec?.initContainers ?? []).some((c) => c.name === 'istio-proxy');
  });
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'offline-cli-'));
  await writeFile(join(dir, 'b.yaml'), POD('b'));
  await writeFile(join(dir, 'a.yml'), POD('a'));
  await writeFile(join(dir, 'c.json'), JSON.stringify(parse(POD('c'))));
  await writeFile(join(dir, 'notes.txt'), 'not a manifest');
  // istioctl kube-inject's single files (config, values, mesh).
  await writeFile(join(dir, 'c'), 'policy: enabled\n');
  await writeFile(join(dir, 'v'), '{}\n');
  await writeFile(join(dir, 'm'), 'defaultConfig:\n  proxyMetadata:\n    FROM_MESH_FILE: "1"\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function names(yaml: string): string[] {
  return parseAllDocuments(yaml).map(
    (d) => (d.toJS() as { metadata: { name: string } }).metadata.name,
  );
}

describe('inject command', () => {
  it('reads a directory in name order, *.yaml|*.yml|*.json only', async () => {
    const io = captureIO(dir);
    const code = await createInjectCommand(memoryCluster())(['-f', '.'], io);
    expect(io.err()).toBe('');
    expect(code).toBe(EXIT.OK);
    expect(names(io.out())).toEqual(['a', 'b', 'c']);
  });

  it('reads standard input with -f - and writes --output-file <file>', async () => {
    const io = captureIO(dir, POD('from-stdin'));
    const code = await createInjectCommand(memoryCluster())(
      ['-f', '-', '--output-file', 'out.txt'],
      io,
    );
    expect(code).toBe(EXIT.OK);
    expect(io.out()).toBe('');
    const written = await readFile(join(dir, 'out.txt'), 'utf8');
    expect(names(written)).toEqual(['from-stdin']);
    expect(written).toContain('istio-proxy');
  });

  it('passes configuration flags through and defaults native sidecars to enabled', async () => {
    const specs = [FILENAME_FLAG, ...INJECT_FLAGS, ...CONFIG_FLAGS];
    const request = (args: string[]) => configRequest(parseFlags(args, {}, specs), dir);
    const args = [
      '-f',
      'a.yml',
      '--config-dir',
      'cfg',
      '--revision',
      'canary',
      '--set',
      'values.a=1',
      '--set=meshConfig.b=2',
    ];
    const plain = ['-f', 'a.yml', '--native-sidecars', 'disabled', '--revision', 'default'];
    expect([request(args), request(plain)]).toEqual([
      {
        configDir: join(dir, 'cfg'),
        istioNamespace: 'istio-system',
        revision: 'canary',
        set: ['values.a=1', 'meshConfig.b=2'],
      },
      { istioNamespace: 'istio-system', revision: '', set: [] },
    ]);
    const run = createInjectCommand(memoryCluster());
    const outputs: string[] = [];
    for (const argv of [['-f', 'a.yml', '--revision', 'canary'], plain]) {
      const io = captureIO(dir);
      expect(await run(argv, io), io.err()).toBe(EXIT.OK);
      outputs.push(io.out());
    }
    expect(outputs.flatMap(nativeProxies)).toEqual([true, false]);
  });

  it.each([
    [
      'auto with --kubeconfig follows the nodes (a 1.32 kubelet: off)',
      ['--kubeconfig', 'kc'],
      false,
    ],
    ['auto without a cluster is on', [], true],
    ['enabled wins over the nodes', ['--kubeconfig', 'kc', '--native-sidecars', 'enabled'], true],
    ['disabled wins', ['--native-sidecars', 'disabled'], false],
  ])('native sidecars: %s', async (_name, extra, expected) => {
    const io = captureIO(dir);
    expect(await createInjectCommand(memoryCluster())(['-f', 'a.yml', ...extra], io)).toBe(EXIT.OK);
    expect(nativeProxies(io.out())).toEqual([expected]);
  });

  it('--kubeconfig reads the configuration ConfigMaps of the revision from the cluster', async () => {
    const cluster = memoryCluster();
    const argv = ['-f', 'a.yml', '--kubeconfig', 'kc', '--revision', 'canary'];
    expect(await createInjectCommand(cluster)(argv, captureIO(dir))).toBe(EXIT.OK);
    expect(cluster.configReads).toEqual([
      { kubeconfigPath: join(dir, 'kc'), istioNamespace: 'istio-system', revision: 'canary' },
    ]);
  });

  it.each([
    [['--injectConfigFile', 'c', '--valuesFile', 'v', '--meshConfigFile', 'm']],
    [['--inject-config-file', 'c', '--values-file=v', '--mesh-config-file', 'm']],
  ])("istioctl kube-inject's file flags: %j", async (flags) => {
    for (const [create, own] of [
      [createInjectCommand, INJECT_FLAGS],
      [createCheckCommand, CHECK_FLAGS],
    ] as const) {
      const specs = [FILENAME_FLAG, ...own, ...CONFIG_FLAGS];
      const argv = ['-f', 'a.yml', ...flags];
      expect(configRequest(parseFlags(argv, {}, specs), dir).files).toEqual({
        config: join(dir, 'c'),
        values: join(dir, 'v'),
        mesh: join(dir, 'm'),
      });
      const io = captureIO(dir);
      expect(await create(memoryCluster())(argv, io), io.err()).toBe(EXIT.OK);
    }
    // The files were read: the mesh file's proxy metadata reaches the injected proxy.
    const io = captureIO(dir);
    expect(await createInjectCommand(memoryCluster())(['-f', 'a.yml', ...flags], io)).toBe(EXIT.OK);
    expect(io.out()).toContain('FROM_MESH_FILE');
  });

  it.each([['-o'], ['--output'], ['-o='], ['--output=']])(
    '%s json is the format, never a file named json',
    async (flag) => {
      const io = captureIO(dir);
      const argv = flag.endsWith('=') ? ['-f', '.', `${flag}json`] : ['-f', '.', flag, 'json'];
      expect(await createInjectCommand(memoryCluster())(argv, io)).toBe(EXIT.OK);
      expect((JSON.parse(io.out()) as { kind: string }).kind).toBe('List');
      await expect(readFile(join(dir, 'json'), 'utf8')).rejects.toThrow(/ENOENT/);
    },
  );

  it.each(['xml', 'out.yaml', 'JSON', ''])(
    '-o %j is a usage error naming the formats',
    async (format) => {
      const io = captureIO(dir);
      expect(await createInjectCommand(memoryCluster())(['-f', '.', '-o', format], io)).toBe(
        EXIT.USAGE,
      );
      expect(io.err()).toContain('--output: expected one of yaml|json|patch');
      expect(io.out()).toBe('');
      await expect(readFile(join(dir, format || 'x'), 'utf8')).rejects.toThrow(/ENOENT/);
    },
  );

  it('prints JSON with --output json (a List for several documents)', async () => {
    const io = captureIO(dir);
    expect(await createInjectCommand(memoryCluster())(['-f', '.', '--output', 'json'], io)).toBe(
      EXIT.OK,
    );
    const out = JSON.parse(io.out()) as { kind: string; items: { metadata: { name: string } }[] };
    expect(out.kind).toBe('List');
    expect(out.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['no -f', [], 'flag --filename is required'],
    ['an unknown flag', ['-f', 'a.yml', '--frobnicate'], 'unknown flag --frobnicate'],
    [
      'a bad --output',
      ['-f', 'a.yml', '--output', 'xml'],
      '--output: expected one of yaml|json|patch, got "xml"',
    ],
    [
      'a bad --native-sidecars',
      ['-f', 'a.yml', '--native-sidecars', 'yes'],
      'expected one of auto|enabled|disabled, got "yes"',
    ],
    ['an argument that is not a flag', ['-f', 'a.yml', 'b.yml'], 'unexpected argument(s): b.yml'],
    ['a flag given twice', ['-f', 'a.yml', '-f', 'b.yml'], '--filename: given more than once'],
    ['a value for --help', ['--help=yes'], '--help: takes no value'],
    [
      'both config sources',
      ['-f', 'a.yml', '--config-dir', 'x', '--kubeconfig', 'y'],
      'either --config-dir or --kubeconfig',
    ],
    ['a --set without =', ['-f', 'a.yml', '--set', 'values.a'], 'expected <path>=<value>'],
    ['a flag without its value', ['-f'], '--filename: missing value'],
    [
      'an invalid configuration',
      ['-f', 'a.yml', '--set', 'values.global.proxy.statusPort=abc'],
      'INJ_ERR_CONFIG_INVALID: injector configuration has 1 problem:\nvalues.global.proxy.statusPort',
    ],
  ])('exits 2 on %s', async (_name, argv, message) => {
    const io = captureIO(dir);
    expect(await createInjectCommand(memoryCluster())(argv, io)).toBe(EXIT.USAGE);
    expect(io.err()).toContain(message);
    expect(io.out()).toBe('');
  });

  it('lists every usage problem at once, before reading any input', async () => {
    const io = captureIO(dir);
    const argv = [
      '--output',
      'xml',
      '--bogus',
      '--set',
      'novalue',
      '--config-dir',
      'x',
      '--kubeconfig',
      'y',
    ];
    expect(await createInjectCommand(memoryCluster())(argv, io)).toBe(EXIT.USAGE);
    for (const problem of [
      'flag --filename is required',
      '--output: expected one of yaml|json|patch, got "xml"',
      'unknown flag --bogus',
      '--set: expected <path>=<value>',
      'use either --config-dir or --kubeconfig, not both',
    ]) {
      expect(io.err()).toContain(problem);
    }
    expect(io.out()).toBe('');
  });

  it.each([
    [
      'a missing file',
      ['-f', 'missing.yaml'],
      'INJ_ERR_MANIFEST_INVALID: missing.yaml: cannot read',
    ],
    [
      'an unwritable output',
      ['-f', 'a.yml', '--output-file', 'no/such/dir/out.yaml'],
      'cannot write',
    ],
  ])('exits 1 on %s', async (_name, argv, message) => {
    const io = captureIO(dir);
    expect(await createInjectCommand(memoryCluster())(argv, io)).toBe(EXIT.FAILURE);
    expect(io.err()).toContain(message);
  });

  it('exits 1 naming the file and document of an invalid manifest', async () => {
    const io = captureIO(dir, `${POD('ok')}---\nkind: Deployment\nspec: [\n`);
    expect(await createInjectCommand(memoryCluster())(['-f', '-'], io)).toBe(EXIT.FAILURE);
    expect(io.err()).toContain('INJ_ERR_MANIFEST_INVALID: <stdin>: document 2');
  });

  it('prints the flags with --help', async () => {
    const io = captureIO(dir);
    expect(await createInjectCommand(memoryCluster())(['--help'], io)).toBe(EXIT.OK);
    expect(io.out()).toContain('--native-sidecars auto|enabled|disabled');
  });
});

describe('check command', () => {
  const manifest = `${POD('plain')}---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata:
      labels: {sidecar.istio.io/inject: "false"}
    spec:
      containers: [{name: web, image: web}]
`;

  it('uses --namespace-labels (plus the metadata.name label) and --namespace', async () => {
    const io = captureIO(dir, manifest);
    const argv = [
      '-f',
      '-',
      '--namespace',
      'apps',
      '--namespace-labels',
      'istio-injection=enabled,team',
      '--output',
      'json',
    ];
    expect(await createCheckCommand(memoryCluster())(argv, io)).toBe(EXIT.OK);
    const results = JSON.parse(io.out()) as {
      name: string;
      namespace: string;
      inject: boolean;
      reason: string;
      steps: { message: string }[];
    }[];
    expect(results.map((r) => [r.name, r.namespace, r.inject, r.reason])).toEqual([
      ['plain', 'apps', true, 'policy-enabled'],
      ['web', 'shop', false, 'pod-label-opt-out'],
    ]);
    expect(results[0]?.steps[0]).toEqual({
      stage: 'webhook',
      pass: true,
      reason: 'namespace-injection-label',
      message: 'Namespace label istio-injection=enabled matches',
    });
    // Only the given labels count: without istio-injection the namespace selector misses.
    const bare = captureIO(dir, manifest);
    const withoutLabel = argv.map((a) => (a.startsWith('istio-injection') ? 'team' : a));
    expect(await createCheckCommand(memoryCluster())(withoutLabel, bare)).toBe(EXIT.OK);
    const [plain] = JSON.parse(bare.out()) as { steps: { reason: string; pass: boolean }[] }[];
    expect(plain?.steps[0]).toMatchObject({ pass: false, reason: 'no-injection-label' });
  });

  it('reads namespace labels from the cluster with --kubeconfig', async () => {
    const io = captureIO(dir, manifest);
    expect(await createCheckCommand(memoryCluster())(['-f', '-', '--kubeconfig', 'kc'], io)).toBe(
      EXIT.OK,
    );
    const lines = io.out().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^Pod default\/plain: will be injected: webhook: Namespace label istio-injection=enabled matches/,
    );
    expect(lines[1]).toMatch(/^Deployment shop\/web: will NOT be injected: /);
  });

  it('leaves labels unknown without --namespace-labels or --kubeconfig', async () => {
    const io = captureIO(dir, POD('p'));
    expect(await createCheckCommand(memoryCluster())(['-f', '-', '--output', 'json'], io)).toBe(
      EXIT.OK,
    );
    const [result] = JSON.parse(io.out()) as { steps: { reason: string }[] }[];
    expect(result?.steps[0]?.reason).toBe('namespace-labels-unknown');
  });

  it.each([
    [
      'conflicting label sources',
      ['-f', '-', '--namespace-labels', 'a=b', '--kubeconfig', 'kc'],
      'not both',
    ],
    ['a label without key', ['-f', '-', '--namespace-labels', '=x'], '"=x" has no label key'],
    ['a bad --output', ['-f', '-', '--output', 'yaml'], 'expected one of text|json, got "yaml"'],
  ])('exits 2 on %s', async (_name, argv, message) => {
    const io = captureIO(dir, POD('p'));
    expect(await createCheckCommand(memoryCluster())(argv, io)).toBe(EXIT.USAGE);
    expect(io.err()).toContain(message);
  });
});
