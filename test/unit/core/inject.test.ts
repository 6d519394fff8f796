import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInjectorError } from '../../../src/errors.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import { deepFreeze } from '../../../src/core/config/merge.js';
import type { InjectionConfig } from '../../../src/core/config/types.js';
import type { InjectionInput } from '../../../src/core/contracts.js';
import { buildTemplateSet } from '../../../src/core/pipeline/template-set.js';
import { inject } from '../../../src/core/inject.js';
import type { JsonObject } from '../../../src/core/json.js';
import type { Pod, StringMap } from '../../../src/core/pod-types.js';
import { applyPatchStrict } from '../../../src/core/patch/apply-strict.js';
import { validatePod } from '../../helpers/pod-schema.js';

function pod(annotations: StringMap = {}, extra: Partial<Pod> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'hello', namespace: 'shop', labels: { app: 'hello' }, annotations },
    spec: {
      containers: [
        { name: 'hello', image: 'hello:1', ports: [{ name: 'http', containerPort: 80 }] },
      ],
    },
    ...extra,
  };
}

function input(p: Pod, over: Partial<InjectionInput> = {}): InjectionInput {
  return {
    pod: p,
    namespace: 'shop',
    config: defaultInjectionConfig(),
    cluster: { nativeSidecars: true },
    mode: 'webhook',
    ...over,
  };
}

function errorOf(run: () => unknown): {
  code: string;
  message: string;
  details: readonly unknown[];
} {
  try {
    run();
  } catch (err) {
    if (isInjectorError(err)) return { code: err.code, message: err.message, details: err.details };
    throw err;
  }
  throw new Error('expected an error');
}

const names = (list: { name: string }[] | undefined): string[] => (list ?? []).map((c) => c.name);

describe('inject: status port 0 with rewritten probes', () => {
  const handlers = fc.constantFrom<JsonObject>(
    { httpGet: { path: '/h', port: 'http' } },
    { httpGet: { path: '/h', port: 80 } },
    { tcpSocket: { port: 'http' } },
    { tcpSocket: { port: 'nosuch' } },
    { grpc: { port: 80 } },
  );
  const fields = fc.constantFrom('readinessProbe', 'livenessProbe', 'startupProbe', 'preStop');
  // Texts Go's strconv.Atoi reads as 0 (istiod's rewrite port) that the annotation check accepts.
  const zeroTexts = fc.constantFrom('0', '00', ' 15021', '15020 ');

  it('is refused, naming the annotation and the probe: istiod would rewrite it to port 0 (generated)', () => {
    fc.assert(
      fc.property(handlers, fields, zeroTexts, fc.boolean(), (handler, field, text, init) => {
        const container =
          field === 'preStop' ? { lifecycle: { preStop: handler } } : { [field]: handler };
        const p = pod({ 'status.sidecar.istio.io/port': text });
        const list = init ? 'initContainers' : 'containers';
        if (field === 'preStop' && 'grpc' in handler) return; // a hook has no gRPC handler
        p.spec = {
          ...p.spec,
          [list]: [
            ...(p.spec?.[list] ?? []),
            {
              name: 'probed',
              image: 'x',
              ports: [{ name: 'http', containerPort: 80 }],
              ...container,
            },
          ],
        };
        const err = errorOf(() => inject(input(p)));
        expect(err.code).toBe('INJ_ERR_INVALID_ANNOTATION');
        expect(err.message).toContain("annotation 'status.sidecar.istio.io/port'");
        expect(err.message).toContain(
          field === 'preStop' ? 'probed.lifecycle.preStop' : `probed.${field}`,
        );
      }),
      { numRuns: 60 },
    );
  });

  it('injects when no probe is rewritten: no probes, exec probes, or rewriting turned off', () => {
    const zero = { 'status.sidecar.istio.io/port': '0' };
    const withProbe = (annotations: StringMap, livenessProbe: JsonObject): Pod => {
      const p = pod(annotations);
      const [first] = p.spec?.containers ?? [];
      return { ...p, spec: { containers: [{ ...first, name: 'hello', livenessProbe }] } };
    };
    const httpGet = { httpGet: { path: '/', port: 80 } };
    for (const p of [
      pod(zero),
      withProbe(zero, { exec: { command: ['true'] } }),
      withProbe({ ...zero, 'sidecar.istio.io/rewriteAppHTTPProbers': 'false' }, httpGet),
    ]) {
      const out = inject(input(p));
      expect(names(out.pod.spec?.initContainers)).toContain('istio-proxy');
      expect(out.pod.spec?.containers?.[0]?.livenessProbe).toEqual(
        p.spec?.containers?.[0]?.livenessProbe,
      );
    }
  });
});

describe('inject: refusals', () => {
  it('lists every invalid annotation in one error, in Istio wording', () => {
    const err = errorOf(() =>
      inject(
        input(
          pod({
            'traffic.sidecar.istio.io/includeOutboundIPRanges': 'bad',
            'sidecar.istio.io/interceptionMode': 'MAGIC',
            'proxy.istio.io/config': 'discoveryAddress: 42: [',
          }),
        ),
      ),
    );
    expect(err.code).toBe('INJ_ERR_INVALID_ANNOTATION');
    expect(err.details).toHaveLength(3);
    expect(err.message).toContain('3 errors occurred:');
    expect(err.message).toContain(
      "invalid value 'bad' for annotation 'traffic.sidecar.istio.io/includeOutboundIPRanges'",
    );
    expect(err.message).toContain(
      "invalid value 'MAGIC' for annotation 'sidecar.istio.io/interceptionMode'",
    );
    expect(err.message).toContain("for annotation 'proxy.istio.io/config'");
  });

  it.each<[StringMap, string, RegExp]>([
    [
      { 'inject.istio.io/templates': 'nope' },
      'INJ_ERR_TEMPLATE_NOT_FOUND',
      /requested template "nope" not found; have .*sidecar/,
    ],
    [
      { 'prometheus.io/port': '15090' },
      'INJ_ERR_PROMETHEUS_CONFIG',
      /port 15090 is reserved for Istio \(Envoy Prometheus\)/,
    ],
    [
      { 'proxy.istio.io/overrides': '{not json' },
      'INJ_ERR_INVALID_ANNOTATION',
      /proxy\.istio\.io\/overrides/,
    ],
  ])('%j -> %s', (annotations, code, message) => {
    const err = errorOf(() => inject(input(pod(annotations))));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('runs a user-supplied Go template from the configuration; an empty set has no sidecar', () => {
    const base = defaultInjectionConfig();
    const custom = buildTemplateSet({
      custom: 'metadata:\n  labels:\n    from-custom: {{ .ObjectMeta.Name | quote }}\n',
    });
    if (!custom.ok) throw new Error('compiles');
    const out = inject(
      input(pod({ 'inject.istio.io/templates': 'custom' }), {
        config: { ...base, templates: custom.templates },
      }),
    );
    expect(out.pod.metadata?.labels?.['from-custom']).toBe(pod().metadata?.name);
    const err = errorOf(() => inject(input(pod(), { config: { ...base, templates: new Map() } })));
    expect(err.code).toBe('INJ_ERR_TEMPLATE_NOT_FOUND');
    expect(err.message).toContain('requested template "sidecar" not found');
  });
});

describe('inject: a template text merged over a container of the same name', () => {
  // istiod merges the text as written into the typed pod, then decodes the result typed: a zero
  // the text writes replaces the pod's value, and is then omitted (inject.go applyOverlayYAML).
  const base = defaultInjectionConfig();
  const text = (field: string, value: string): string =>
    [
      'spec:',
      '  containers:',
      '  - name: agent',
      '    image: agent:1',
      '    readinessProbe:',
      '      httpGet: {path: /ready, port: 8080}',
      `      ${field}: ${value}`,
      '    env:',
      '    - name: MODE',
      `      value: ${value === '0' ? '""' : '"on"'}`,
      '',
    ].join('\n');

  it('a zero in the text wins over the old value on re-injection; a set value too (generated)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('initialDelaySeconds', 'periodSeconds', 'failureThreshold'),
        fc.constantFrom('0', '9'),
        fc.boolean(),
        (field, value, reinject) => {
          const set = buildTemplateSet({ agent: text(field, value) });
          if (!set.ok) throw new Error('compiles');
          const annotations: StringMap = { 'inject.istio.io/templates': 'agent' };
          // A status listing the container: an earlier injection, so no override is re-applied.
          if (reinject)
            annotations['sidecar.istio.io/status'] =
              '{"initContainers":[],"containers":["agent"],"volumes":[],"imagePullSecrets":[]}';
          const p = pod(annotations);
          p.spec?.containers?.push({
            name: 'agent',
            image: 'agent:0',
            readinessProbe: { [field]: 5 },
            env: [{ name: 'MODE', value: 'old' }],
          });
          const out = inject(input(p, { config: { ...base, templates: set.templates } }));
          const agent = out.pod.spec?.containers?.find((c) => c.name === 'agent');
          const probe = agent?.readinessProbe;
          const mode = agent?.env?.find((e) => e.name === 'MODE');
          if (reinject) {
            expect(probe?.[field]).toBe(value === '0' ? undefined : 9);
            expect(mode?.value).toBe(value === '0' ? undefined : 'on');
          } else {
            // A first injection re-applies the pod's own container over the template's.
            expect(probe?.[field]).toBe(5);
            expect(mode?.value).toBe('old');
          }
        },
      ),
      { numRuns: 24 },
    );
  });
});

describe('inject: results', () => {
  it('never mutates the input, never patches managedFields, and the patch reproduces the pod', () => {
    const p = pod();
    p.metadata = { ...p.metadata, managedFields: [{ manager: 'kubectl', operation: 'Update' }] };
    const before = structuredClone(p);
    const out = inject(input(deepFreeze(p)));
    expect(p).toEqual(before);
    expect(out.patch.some((op) => op.path.includes('managedFields'))).toBe(false);
    expect(out.pod.metadata?.managedFields).toEqual(before.metadata?.managedFields);
    expect(applyPatchStrict(p, out.patch)).toEqual(out.pod);
    validatePod(out.pod);
    expect(names(out.pod.spec?.initContainers)).toEqual(['istio-init', 'istio-proxy']);
  });

  it('is idempotent: re-injecting an injected pod changes nothing', () => {
    const first = inject(
      input(pod({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' })),
    );
    const second = inject(input(first.pod));
    expect(second.pod).toEqual(first.pod);
    expect(second.patch).toEqual([]);
  });

  it('re-injects a classic pod in classic mode without duplicating containers', () => {
    const classic = inject(input(pod(), { cluster: { nativeSidecars: false } }));
    expect(names(classic.pod.spec?.containers)).toEqual(['hello', 'istio-proxy']);
    const again = inject(input(classic.pod, { cluster: { nativeSidecars: false } }));
    expect(names(again.pod.spec?.containers)).toEqual(['hello', 'istio-proxy']);
    expect(names(again.pod.spec?.initContainers)).toEqual(['istio-init']);
  });

  it('writes injectedAnnotations only in webhook mode', () => {
    const base = defaultInjectionConfig();
    const config: InjectionConfig = {
      ...base,
      injector: { ...base.injector, injectedAnnotations: { 'team/owner': 'mesh' } },
    };
    expect(inject(input(pod(), { config })).pod.metadata?.annotations?.['team/owner']).toBe('mesh');
    expect(
      inject(input(pod(), { config, mode: 'kube-inject' })).pod.metadata?.annotations?.[
        'team/owner'
      ],
    ).toBeUndefined();
  });

  it('moves URL cluster/network env to the end of the proxy env and labels the network', () => {
    const out = inject(
      input(pod(), { pathEnv: { ISTIO_META_NETWORK: 'n1', ISTIO_META_CLUSTER_ID: 'c1' } }),
    );
    const proxy = out.pod.spec?.initContainers?.find((c) => c.name === 'istio-proxy');
    const env = proxy?.env ?? [];
    expect(env.slice(-2)).toEqual([
      { name: 'ISTIO_META_CLUSTER_ID', value: 'c1' },
      { name: 'ISTIO_META_NETWORK', value: 'n1' },
    ]);
    expect(env.filter((e) => e.name === 'ISTIO_META_CLUSTER_ID')).toHaveLength(1);
    expect(out.pod.metadata?.labels?.['topology.istio.io/network']).toBe('n1');
  });

  it('records user overrides on the first injection only', () => {
    const p = pod();
    p.spec?.containers?.push({
      name: 'istio-proxy',
      image: 'auto',
      securityContext: { readOnlyRootFilesystem: false },
    });
    const out = inject(input(p));
    expect(out.pod.metadata?.annotations?.['proxy.istio.io/overrides']).toBe(
      '{"initContainers":[{"name":"istio-proxy","resources":{},"securityContext":{"readOnlyRootFilesystem":false}}]}',
    );
    const proxy = out.pod.spec?.initContainers?.find((c) => c.name === 'istio-proxy');
    expect(proxy?.securityContext?.readOnlyRootFilesystem).toBe(false);
    expect(proxy?.image).not.toBe('auto');
    expect(names(out.pod.spec?.containers)).toEqual(['hello']);
    // Re-injection: the template wins for containers it injected before (status annotation).
    const again = inject(input(out.pod));
    expect(names(again.pod.spec?.initContainers)).toEqual(['istio-init', 'istio-proxy']);
    expect(again.pod.metadata?.annotations?.['proxy.istio.io/overrides']).toBe(
      out.pod.metadata?.annotations?.['proxy.istio.io/overrides'],
    );
  });

  it('a user container zero in an omitempty field keeps the injected value; a set value wins (generated)', () => {
    // istiod merges the typed container, where "" and 0 in omitempty fields are absent.
    const plain = inject(input(pod()));
    const injected = plain.pod.spec?.initContainers?.find((c) => c.name === 'istio-proxy');
    const envNames = (injected?.env ?? []).filter((e) => typeof e.value === 'string');
    const probe = injected?.readinessProbe ?? {};
    const counters = ['initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'failureThreshold'];
    fc.assert(
      fc.property(
        fc.subarray(envNames.map((e) => e.name)),
        fc.subarray(counters),
        fc.constantFrom('', 'user'),
        fc.constantFrom(0, 7),
        (envPicked, countersPicked, value, count) => {
          const p = pod();
          p.spec?.containers?.push({
            name: 'istio-proxy',
            image: 'auto',
            env: envPicked.map((name) => ({ name, value })),
            readinessProbe: Object.fromEntries(countersPicked.map((k) => [k, count])),
          });
          const out = inject(input(p));
          const proxy = out.pod.spec?.initContainers?.find((c) => c.name === 'istio-proxy');
          for (const name of envPicked) {
            const want = value === '' ? envNames.find((e) => e.name === name)?.value : value;
            expect(proxy?.env?.find((e) => e.name === name)?.value).toBe(want);
          }
          for (const k of countersPicked) {
            const got = proxy?.readinessProbe?.[k];
            expect(got).toBe(count === 0 ? probe[k] : count);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('records overrides only when the pod has no status annotation at all (any value counts)', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ maxLength: 12 }), { nil: undefined }), (status) => {
        const p = pod(status === undefined ? {} : { 'sidecar.istio.io/status': status });
        p.spec?.containers?.push({ name: 'istio-proxy', image: 'auto' });
        let out;
        try {
          out = inject(input(p));
        } catch {
          return; // A status naming containers this pod lacks is refused elsewhere.
        }
        const recorded = out.pod.metadata?.annotations?.['proxy.istio.io/overrides'];
        if (status === undefined) expect(recorded).toBeDefined();
        else expect(recorded).toBeUndefined();
      }),
    );
  });

  it('touches only the subtrees it changes on a pod with 2000 env vars', () => {
    const env = Array.from({ length: 2000 }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}` }));
    const p = pod();
    const app = p.spec?.containers?.[0];
    if (app) app.env = env;
    const out = inject(input(p));
    expect(out.patch.some((op) => op.path.startsWith('/spec/containers/0/env'))).toBe(false);
    // The untouched env list is shared, not copied.
    expect(out.pod.spec?.containers?.[0]?.env).toBe(env);
    expect(out.patch.length).toBeLessThan(20);
    expect(applyPatchStrict(p, out.patch)).toEqual(out.pod);
  });

  it.each<[StringMap, Partial<Pod['spec']>, RegExp]>([
    [{ 'sidecar.istio.io/status': '{broken' }, {}, /ignored sidecar\.istio\.io\/status/],
    [
      { 'prometheus.istio.io/scrape-targets': ':/metrics' },
      {},
      /ignored prometheus\.istio\.io\/scrape-targets/,
    ],
    [{}, { dnsPolicy: 'Default' }, /dnsPolicy "Default" is not ClusterFirst/],
    [
      { 'sidecar.istio.io/nativeSidecar': 'yes' },
      {},
      /sidecar\.istio\.io\/nativeSidecar="yes" not understood/,
    ],
  ])('warns about %j %j', (annotations, spec, warning) => {
    const p = pod(annotations);
    p.spec = { ...p.spec, ...spec };
    const out = inject(input(p));
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(warning);
    expect(out.warnings[0]?.length).toBeLessThanOrEqual(120);
  });

  it('has no warnings for a plain pod', () => {
    expect(inject(input(pod())).warnings).toEqual([]);
  });
});

describe('quantities of the injected proxy', () => {
  const proxyResources = (annotations: StringMap) => {
    const out = inject(input(pod(annotations), { cluster: { nativeSidecars: false } }));
    const proxy = out.pod.spec?.containers?.find((c) => c.name === 'istio-proxy');
    return proxy?.resources;
  };

  // Each row twice in a row: the second answer must not depend on what the first one computed.
  it.each<[StringMap, Record<string, string>]>([
    [
      { 'sidecar.istio.io/proxyCPU': '1000m', 'sidecar.istio.io/proxyMemory': '1024Mi' },
      { cpu: '1', memory: '1Gi' },
    ],
    [
      { 'sidecar.istio.io/proxyCPU': '1500m', 'sidecar.istio.io/proxyMemory': '0.5Gi' },
      { cpu: '1500m', memory: '512Mi' },
    ],
    [
      { 'sidecar.istio.io/proxyCPU': '2', 'sidecar.istio.io/proxyMemory': '1000M' },
      { cpu: '2', memory: '1G' },
    ],
    [
      { 'sidecar.istio.io/proxyCPU': '1000m', 'sidecar.istio.io/proxyMemory': '1024Mi' },
      { cpu: '1', memory: '1Gi' },
    ],
  ])('%j requests %j, canonical on every call', (annotations, requests) => {
    expect(proxyResources(annotations)?.requests).toEqual(requests);
    expect(proxyResources(annotations)?.requests).toEqual(requests);
  });

  it('the input pod keeps its own resources untouched', () => {
    const p = pod({ 'sidecar.istio.io/proxyCPU': '1000m' });
    p.spec?.containers?.push({
      name: 'istio-proxy',
      resources: { limits: { cpu: '2000m' }, claims: [{ name: 'gpu' }] },
    });
    const before = structuredClone(p);
    const out = inject(input(p, { cluster: { nativeSidecars: false } }));
    expect(p).toEqual(before);
    const proxy = out.pod.spec?.containers?.find((c) => c.name === 'istio-proxy');
    expect(proxy?.resources?.limits).toMatchObject({ cpu: '2' });
  });
});

describe('inject: rendered templates are read as istiod reads them (YAML 1.1)', () => {
  /** A template printing an annotation unquoted into string fields, as charts print values. */
  const unquoted = buildTemplateSet({
    custom: [
      'metadata:',
      '  labels:',
      '    copied: {{ index .ObjectMeta.Annotations "example.com/v" }}',
      'spec:',
      '  containers:',
      '  - name: extra',
      '    image: busybox',
      '    env:',
      '    - name: A',
      '      value: {{ index .ObjectMeta.Annotations "example.com/v" }}',
      '',
    ].join('\n'),
    vols: [
      'spec:',
      '  volumes:',
      '  {{- range $name, $v := fromJSON (index .ObjectMeta.Annotations "example.com/vols") }}',
      '  - name: {{ $name | quote }}',
      '    {{ toYaml $v | indent 4 }}',
      '  {{- end }}',
      '',
    ].join('\n'),
  });

  function run(annotations: StringMap): ReturnType<typeof inject> {
    if (!unquoted.ok) throw new Error('compiles');
    return inject(
      input(pod(annotations), {
        config: { ...defaultInjectionConfig(), templates: unquoted.templates },
      }),
    );
  }

  // go-yaml v2 (istiod's sigs.k8s.io/yaml) reads these plain scalars as bools or numbers, which
  // a string field refuses; YAML 1.2 would read most of them as the strings they look like.
  it.each(['yes', 'No', 'on', 'OFF', 'y', 'N', '0755', '1_000', '0x1F', '12', '1.5', 'true'])(
    'a string field printed as %s is refused',
    (v) => {
      const err = errorOf(() => run({ 'inject.istio.io/templates': 'custom', 'example.com/v': v }));
      expect(err.code).toBe('INJ_ERR_TEMPLATE_RENDER');
      expect(err.message).toMatch(/cannot unmarshal (bool|number) into a string/);
    },
  );

  it.each(['yess', 'istio-ca', '1:20', '0o', 'nope', 'Y2', '2024-01-02'])(
    'a string field printed as %s is that string',
    (v) => {
      const out = run({ 'inject.istio.io/templates': 'custom', 'example.com/v': v });
      expect(out.pod.metadata?.labels?.['copied']).toBe(v);
      const extra = out.pod.spec?.containers?.find((c) => c.name === 'extra');
      expect(extra?.env?.find((e) => e.name === 'A')?.value).toBe(v);
    },
  );

  it('toYaml quotes the strings YAML 1.1 would read as something else', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('yes', 'on', 'n', '0755', '1_000', '08', 'plain', '1:20', '0b11', 'Off'),
        (name) => {
          const vols = JSON.stringify({ v: { configMap: { name } } });
          const out = run({ 'inject.istio.io/templates': 'vols', 'example.com/vols': vols });
          const volume = out.pod.spec?.volumes?.find((x) => x.name === 'v');
          expect(volume?.['configMap']).toEqual({ name });
        },
      ),
    );
  });

  it('a readiness annotation with a leading zero is octal to istiod on the native path too', () => {
    const annotations = {
      'readiness.status.sidecar.istio.io/initialDelaySeconds': '010',
      'readiness.status.sidecar.istio.io/periodSeconds': '08',
    };
    const out = inject(input(pod(annotations)));
    const proxy = [
      ...(out.pod.spec?.initContainers ?? []),
      ...(out.pod.spec?.containers ?? []),
    ].find((c) => c.name === 'istio-proxy');
    expect(proxy?.readinessProbe?.['initialDelaySeconds']).toBe(8);
    expect(proxy?.readinessProbe?.['periodSeconds']).toBe(8);
  });
});
