/**
 * The README's cluster section against what it installs: its steps in order (image build and
 * push, Istio with its injection webhook off, our chart, a labelled namespace, Bookinfo, the
 * injected pod), every chart value it names (key in values.yaml, value allowed by the schema),
 * the image it builds being the one the chart deploys, the namespace labels the chart would set,
 * the Dockerfile's port, files and entry point, and docs/istio.md's hand-over and roll-back.
 * Without helm the rendering step is skipped (said once); the rest needs no tool.
 */
import { describe, expect, it } from 'vitest';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { findHelm, ROOT, runTool } from '../helpers/tools.js';
import { SAMPLES_DIR } from '../helpers/shared.js';

const read = (path: string) => readFile(join(ROOT, path), 'utf8');
const readme = await read('README.md');
const start = readme.indexOf('### In a cluster');
const section = readme.slice(start, readme.indexOf('\n## ', start));
const script = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
const values = parse(await read('charts/sidecar-injector/values.yaml')) as Record<string, unknown>;
const schema = JSON.parse(await read('charts/sidecar-injector/values.schema.json')) as SchemaNode;
const chart = parse(await read('charts/sidecar-injector/Chart.yaml')) as { appVersion: string };
const pkg = JSON.parse(await read('package.json')) as {
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const dockerfile = await read('Dockerfile');
const helm = await findHelm();
if (helm === undefined) console.warn('helm not found: the README install is not rendered');

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  enum?: unknown[];
}

/** The command lines of the script (comments dropped, continuations joined). */
const commands = script
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

function lineIndex(pattern: RegExp): number {
  const i = commands.findIndex((c) => pattern.test(c));
  expect(i, `README cluster step matching ${String(pattern)}`).toBeGreaterThanOrEqual(0);
  return i;
}

/** `--set a.b=c` values given for our chart anywhere in the section (istiod's lines excluded). */
function ourSets(): [string, string][] {
  const found: [string, string][] = [];
  for (const line of section.split('\n')) {
    if (line.includes('istio/istiod')) continue;
    for (const m of line.matchAll(/--set ([A-Za-z0-9_.]+)=([^\s`)]+)/g)) {
      found.push([m[1] ?? '', m[2] ?? '']);
    }
  }
  return found;
}

const ourInstall = (): string =>
  commands.find((c) => c.startsWith('helm install sidecar-injector charts/sidecar-injector')) ?? '';

describe("the README's cluster section", () => {
  it('names every step, in order, from the image build to an injected Bookinfo pod', () => {
    const steps = [
      /^docker build -t \S+ \.$/,
      /^docker push \S+$/,
      /^helm install istiod istio\/istiod .*--set global\.operatorManageWebhooks=true/,
      /^kubectl create namespace sidecar-injector$/,
      /^helm install sidecar-injector charts\/sidecar-injector -n sidecar-injector /,
      /^kubectl label namespace \S+ istio-injection=enabled$/,
      /^kubectl apply -f \S+\/samples\/bookinfo\/platform\/kube\/bookinfo\.yaml$/,
      /^kubectl get pods -l app=details .*# details istio-proxy$/,
    ].map(lineIndex);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });

  it('pushes the image it builds, tagged with the version the chart and the package carry', () => {
    const built = /^docker build -t (\S+) \.$/m.exec(script)?.[1];
    const pushed = /^docker push (\S+)$/m.exec(script)?.[1];
    expect(built).toBe('$REGISTRY/sidecar-injector:' + pkg.version);
    expect(pushed).toBe(built);
    expect(chart.appVersion).toBe(pkg.version);
    // The kustomize path sets the same image on the base's container.
    expect(section).toContain(`kustomize edit set image sidecar-injector=${built}`);
  });

  it('every chart value it sets exists in values.yaml and is allowed by the schema', () => {
    const sets = ourSets();
    expect(sets.map(([k]) => k)).toEqual(
      expect.arrayContaining(['global.hub', 'global.tag', 'revision', 'revisionTags']),
    );
    for (const [key, value] of sets) {
      let node: unknown = values;
      let rule: SchemaNode | undefined = schema;
      for (const part of key.split('.')) {
        expect(
          node !== null && typeof node === 'object' && Object.hasOwn(node, part),
          `${key}: no such value`,
        ).toBe(true);
        node = (node as Record<string, unknown>)[part];
        rule = rule?.properties?.[part];
      }
      if (rule?.enum !== undefined) expect(rule.enum, `${key}=${value}`).toContain(value);
    }
  });

  it('labels the namespace as the chart would (no injection, the Pod Security level it runs under)', () => {
    const label = commands.find((c) => c.startsWith('kubectl label namespace sidecar-injector '));
    const ns = values.namespace as { podSecurity: { enforce: string } };
    expect(label?.split(' ').slice(4).sort()).toEqual(
      [
        'istio-injection=disabled',
        `pod-security.kubernetes.io/enforce=${ns.podSecurity.enforce}`,
      ].sort(),
    );
  });

  it.skipIf(helm === undefined)(
    'the chart deploys the image the README pushed, with the README flags',
    { timeout: 120_000 },
    async () => {
      if (helm === undefined) return;
      const registry = 'registry.example/you';
      const argv = ourInstall()
        .replaceAll('$REGISTRY', registry)
        .split(/\s+/)
        .filter((a) => a !== '' && a !== '--wait');
      expect(argv.slice(0, 3)).toEqual(['helm', 'install', 'sidecar-injector']);
      const rendered = await runTool(helm, [
        'template',
        ...argv.slice(2).map((a) => (a === 'charts/sidecar-injector' ? join(ROOT, a) : a)),
        '--kube-version',
        '1.33.0',
      ]);
      const deployment = parseAllDocuments(rendered)
        .map((d) => d.toJS() as { kind?: string; spec?: unknown } | null)
        .find((o) => o?.kind === 'Deployment') as {
        spec: { template: { spec: { containers: { image: string }[] } } };
      };
      const image = deployment.spec.template.spec.containers[0]?.image;
      expect(image).toBe(
        (/^docker push (\S+)$/m.exec(script)?.[1] ?? '').replace('$REGISTRY', registry),
      );
    },
  );

  it('the Bookinfo pod it looks at exists in the sample, with the container it names', async () => {
    const objects = parseAllDocuments(await readFile(join(SAMPLES_DIR, 'bookinfo.yaml'), 'utf8'))
      .map((d) => d.toJS() as Record<string, unknown> | null)
      .filter((o) => o?.kind === 'Deployment') as {
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: { containers: { name: string }[] };
        };
      };
    }[];
    const details = objects.filter((d) => d.spec.template.metadata.labels['app'] === 'details');
    expect(details.length).toBeGreaterThan(0);
    expect(details[0]?.spec.template.spec.containers.map((c) => c.name)).toEqual(['details']);
  });
});

describe('the Dockerfile the README builds', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('exposes the port the chart serves on and starts the package binary with serve', () => {
    const server = values.server as { port: number };
    expect(/^EXPOSE (\d+)$/m.exec(runtime)?.[1]).toBe(String(server.port));
    expect(runtime).toMatch(
      new RegExp(`^ENTRYPOINT \\["node", "${pkg.bin['sidecar-injector'] ?? '?'}"\\]$`, 'm'),
    );
    expect(runtime).toMatch(/^CMD \["serve"\]$/m);
    expect(runtime).toMatch(/^USER node$/m);
  });

  it('copies only files that exist and runs only scripts package.json has', async () => {
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of (m[1] ?? '').split(/\s+/)) await access(join(ROOT, source));
    }
    for (const m of dockerfile.matchAll(/npm run (\S+)/g)) {
      expect(Object.keys(pkg.scripts)).toContain(m[1]);
    }
    // The runtime stage is the bundle alone: it installs no packages and copies no node_modules.
    expect(runtime).not.toMatch(/npm (ci|install)/);
    expect(runtime).not.toMatch(/node_modules/);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist\/bin \.\/dist\/bin$/m);
  });
});

describe("docs/istio.md's hand-over and roll-back", () => {
  it('hand over before removing istiod’s webhooks, and roll back in reverse', async () => {
    const doc = await read('docs/istio.md');
    const handOver = doc.indexOf('## Hand-over without an uninjected window');
    const rollBack = doc.indexOf('## Roll-back');
    expect(handOver).toBeGreaterThan(0);
    expect(rollBack).toBeGreaterThan(handOver);
    const hand = doc.slice(handOver, rollBack);
    const back = doc.slice(rollBack);
    // Ours is installed before istiod's webhooks are turned off, and turned back on before ours goes.
    expect(hand.indexOf('helm install')).toBeGreaterThan(0);
    expect(hand.indexOf('global.operatorManageWebhooks=true')).toBeGreaterThan(
      hand.indexOf('helm install'),
    );
    expect(back.indexOf('global.operatorManageWebhooks=false')).toBeGreaterThan(0);
    expect(back.indexOf('helm uninstall')).toBeGreaterThan(
      back.indexOf('global.operatorManageWebhooks=false'),
    );
  });
});
