import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { Operation } from 'fast-json-patch';
import { isInjectorError, type InjectorError } from '../../../src/errors.js';
import { injectManifest } from '../../../src/offline/manifest.js';
import {
  objectPatch,
  patchEntries,
  renderJson,
  renderPatches,
  renderYaml,
} from '../../../src/offline/output.js';
import { applyPatchStrict } from '../../../src/core/patch/apply-strict.js';
import { BAD_ANNOTATION, fakeInjector, type FakeCall } from './fake-injector.js';

const SERVICE = `# The service comes first
apiVersion: v1
kind: Service
metadata:
  name: hello   # trailing comment
spec:
  ports:
  - port: 80
`;

const DEPLOYMENT = `---
# hello deployment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: shop
spec:
  replicas: 2 # two of them
  template:
    metadata:
      labels:
        app: hello
    spec:
      # the application
      containers:
      - name: hello
        image: "hello:1.0"
        ports:
        - containerPort: 80
`;

const CONFIGMAP = `---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  key: "value"   # quoted on purpose
`;

function run(text: string, calls: FakeCall[] = []) {
  const result = injectManifest(text, 'in.yaml', fakeInjector(calls));
  return { result, yaml: renderYaml(result, text) };
}

function docs(text: string): unknown[] {
  return parseAllDocuments(text).map((d) => d.toJS() as unknown);
}

function catchError(fn: () => unknown): InjectorError {
  try {
    fn();
  } catch (error) {
    if (isInjectorError(error)) return error;
    throw error;
  }
  throw new Error('expected an InjectorError');
}

describe('injectManifest + renderYaml', () => {
  const stream = SERVICE + DEPLOYMENT + CONFIGMAP;

  it('keeps untouched documents byte for byte and in order', () => {
    const { yaml } = run(stream);
    expect(yaml.startsWith(SERVICE)).toBe(true);
    expect(yaml.endsWith(CONFIGMAP)).toBe(true);
    expect(docs(yaml).map((d) => (d as { kind: string }).kind)).toEqual([
      'Service',
      'Deployment',
      'ConfigMap',
    ]);
  });

  it('injects the pod template and keeps comments, key order and sequence style', () => {
    const { yaml } = run(stream);
    const deployment = yaml.slice(SERVICE.length, yaml.length - CONFIGMAP.length);
    expect(deployment).toContain('# hello deployment');
    expect(deployment).toContain('replicas: 2 # two of them');
    expect(deployment).toContain('# the application');
    // kubectl-style sequences (`- ` at the parent's indentation) stay that way.
    expect(deployment).toContain('      containers:\n      - name: hello');
    expect(deployment.indexOf('apiVersion')).toBeLessThan(deployment.indexOf('kind'));
    const value = parse(deployment) as {
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: { initContainers: { name: string }[] };
        };
      };
    };
    expect(value.spec.template.metadata.labels).toEqual({
      app: 'hello',
      'security.istio.io/tlsMode': 'istio',
    });
    expect(value.spec.template.spec.initContainers.map((c) => c.name)).toEqual(['istio-proxy']);
  });

  it('hands the injector the pod template and the owning workload', () => {
    const calls: FakeCall[] = [];
    run(stream, calls);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.workload).toEqual({
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      name: 'hello',
      namespace: 'shop',
    });
    expect(calls[0]?.pod.metadata?.labels).toEqual({ app: 'hello' });
    expect(calls[0]?.pod.spec?.containers?.[0]?.name).toBe('hello');
  });

  it('is idempotent: injecting the output again changes nothing', () => {
    const once = run(stream).yaml;
    expect(run(once).yaml).toBe(once);
  });

  it('keeps the text of a document whose workload is already injected', () => {
    const injected = `apiVersion: v1
kind: Pod
metadata: {name:   p,   labels: {security.istio.io/tlsMode: istio},
  annotations: {sidecar.istio.io/status: '{"owner":"p"}'}}
spec:
    initContainers: [{name: istio-proxy, image: proxyv2, restartPolicy: Always}]
    containers: [{name: app, image: app}]
`;
    const { result, yaml } = run(injected);
    expect(yaml).toBe(injected);
    expect(result.documents[0]?.changed).toBe(false);
    expect(renderPatches([result])).toBe('[]\n');
  });

  it.each([
    ['empty input', ''],
    ['only comments', '# nothing here\n'],
    ['only non-workloads', SERVICE + CONFIGMAP],
  ])('returns %s unchanged', (_name, text) => {
    expect(run(text).yaml).toBe(text);
  });

  it('injects every workload of a List and leaves other items alone', () => {
    const list = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: a}
  spec: {template: {spec: {containers: [{name: a, image: a}]}}}
- apiVersion: v1
  kind: Service
  metadata: {name: s}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec: {containers: [{name: p, image: p}]}
`;
    const calls: FakeCall[] = [];
    const { result, yaml } = run(list, calls);
    expect(calls.map((c) => `${c.workload.kind}/${c.workload.name}`)).toEqual([
      'Deployment/a',
      'Pod/p',
    ]);
    expect(result.documents[0]?.objects.map((o) => o.location)).toEqual([
      'document 1, items[0]',
      'document 1, items[2].items[0]',
    ]);
    const out = parse(yaml) as {
      items: [unknown, unknown, { items: [{ metadata: unknown; spec: unknown }] }];
    };
    expect(out.items[1]).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } });
    expect(out.items[2].items[0].metadata).toEqual({
      name: 'p',
      labels: { 'security.istio.io/tlsMode': 'istio' },
      annotations: { 'sidecar.istio.io/status': '{"owner":"p"}' },
    });
  });

  it('writes CronJob metadata to spec.jobTemplate.metadata', () => {
    const cron = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          labels: {inner: "yes"}
        spec:
          containers:
          - name: tick
            image: busybox
`;
    const calls: FakeCall[] = [];
    const out = parse(run(cron, calls).yaml) as {
      spec: {
        jobTemplate: {
          metadata: { labels: Record<string, string> };
          spec: { template: { metadata: unknown; spec: { initContainers: unknown[] } } };
        };
      };
    };
    // The Job's metadata, not the pod template's, is what kube-inject reads and writes.
    expect(calls[0]?.pod.metadata).toBeUndefined();
    expect(out.spec.jobTemplate.metadata.labels).toEqual({ 'security.istio.io/tlsMode': 'istio' });
    expect(out.spec.jobTemplate.spec.template.metadata).toEqual({ labels: { inner: 'yes' } });
    expect(out.spec.jobTemplate.spec.template.spec.initContainers).toHaveLength(1);
  });

  it('accepts JSON input and writes YAML or JSON', () => {
    const json = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'app', image: 'app' }] },
    });
    const { result, yaml } = run(json);
    const expected = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        labels: { 'security.istio.io/tlsMode': 'istio' },
        annotations: { 'sidecar.istio.io/status': '{"owner":"p"}' },
      },
      spec: {
        containers: [{ name: 'app', image: 'app' }],
        initContainers: [{ name: 'istio-proxy', image: 'proxyv2', restartPolicy: 'Always' }],
      },
    };
    expect(parse(yaml)).toEqual(expected);
    expect(yaml.trimStart().startsWith('{')).toBe(false);
    expect(JSON.parse(renderJson([result]))).toEqual(expected);
  });

  it('leaves skipped workloads as they were and reports them', () => {
    const hostNetwork = `apiVersion: apps/v1
kind: Deployment
metadata: {name: net, namespace: infra}
spec:
  template:
    spec:
      hostNetwork: true
      containers: [{name: c, image: c}]
`;
    const { result, yaml } = run(hostNetwork);
    expect(yaml).toBe(hostNetwork);
    expect(result.warnings).toEqual([
      'in.yaml: document 1: skipping Deployment "infra/net": host networking is enabled',
    ]);
    expect(patchEntries([result])).toEqual([]);
  });
});

describe('errors name the file, the document, the object and the field', () => {
  it('reports YAML syntax errors with document and line', () => {
    const error = catchError(() => run(`${SERVICE}---\nkind: Pod\nmetadata: [a\n`));
    expect(error.code).toBe('INJ_ERR_MANIFEST_INVALID');
    expect(error.message).toContain('in.yaml: document 2: not valid YAML at line');
  });

  it('prefixes injector errors with the location and the template path of the field', () => {
    const bad = DEPLOYMENT.replace(
      'labels:\n        app: hello',
      `annotations: {"${BAD_ANNOTATION}": "x"}`,
    );
    const error = catchError(() => run(SERVICE + bad));
    expect(error.code).toBe('INJ_ERR_INVALID_ANNOTATION');
    expect(error.message).toContain('in.yaml: document 2 (Deployment "shop/hello")');
    expect(error.message).toContain(`spec.template.metadata.annotations[${BAD_ANNOTATION}]`);
    expect(error.details[0]?.field).toBe(`spec.template.metadata.annotations[${BAD_ANNOTATION}]`);
  });

  it.each([
    [
      'ReplicationController',
      'kind: ReplicationController\nmetadata: {name: rc}\nspec: {}\n',
      'spec.template',
    ],
    [
      'CronJob',
      'kind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {}}\n',
      'spec.jobTemplate.spec.template',
    ],
    ['List items', 'kind: List\nitems: {a: 1}\n', 'items'],
    ['pod spec', 'kind: Pod\nmetadata: {name: p}\nspec: [1]\n', 'spec'],
  ])('rejects a %s without a usable template', (_name, text, field) => {
    const error = catchError(() => run(`${SERVICE}---\n${text}`));
    expect(error.code).toBe('INJ_ERR_MANIFEST_INVALID');
    expect(error.message).toContain('in.yaml: document 2');
    expect(error.details[0]?.field).toBe(field);
  });
});

describe('patch output', () => {
  const stream = SERVICE + DEPLOYMENT + CONFIGMAP;

  it('gives, applied to each input object, the rewritten object', () => {
    const { result, yaml } = run(stream);
    const entries = parse(renderPatches([result])) as {
      target: Record<string, string>;
      patch: string;
    }[];
    expect(entries.map((e) => e.target)).toEqual([
      { group: 'apps', version: 'v1', kind: 'Deployment', name: 'hello', namespace: 'shop' },
    ]);
    const input = docs(stream)[1];
    const output = docs(yaml)[1];
    const ops = JSON.parse(entries[0]?.patch ?? '[]') as Operation[];
    expect(ops.every((op) => op.path.startsWith('/spec/template/'))).toBe(true);
    expect(applyPatchStrict(input, ops)).toEqual(output);
  });

  it('is relative to each List item', () => {
    const list = `kind: List\napiVersion: v1\nitems:\n- kind: Pod\n  apiVersion: v1\n  metadata: {name: p}\n  spec: {containers: [{name: p}]}\n`;
    const { result } = run(list);
    const object = result.documents[0]?.objects[0];
    expect(object).toBeDefined();
    if (object === undefined) return;
    const ops = objectPatch(object.before, object.after);
    expect(ops.map((o) => o.path).sort()).toEqual([
      '/metadata/annotations',
      '/metadata/labels',
      '/spec/initContainers',
    ]);
    expect(applyPatchStrict(object.before, ops)).toEqual(object.after);
  });

  it('prints an empty list when nothing was injected', () => {
    expect(renderPatches([run(SERVICE).result])).toBe('[]\n');
  });
});
