import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getPath } from '../../../../src/core/json.js';
import { isInjectorError } from '../../../../src/errors.js';
import { applySetFlags } from '../../../../src/core/config/set-flags.js';
import {
  configError,
  formatConfigIssues,
  loadInjectionConfig,
  loadInjectionConfigOrThrow,
  type ConfigSourceTexts,
} from '../../../../src/core/config/load.js';
import {
  DEFAULT_MESH,
  DEFAULT_VALUES,
  defaultInjectionConfig,
} from '../../../../src/core/config/defaults.js';
import type { ConfigIssue, InjectionConfig } from '../../../../src/core/config/types.js';
import { CORPUS_DIR } from '../../../helpers/shared.js';
import { loadCases } from '../decide-cases.js';

function ok(sources: ConfigSourceTexts, revision?: string): InjectionConfig {
  const result = loadInjectionConfig(sources, revision === undefined ? {} : { revision });
  if (!result.ok) throw new Error(formatConfigIssues(result.issues));
  return result.config;
}

function issues(sources: ConfigSourceTexts): ConfigIssue[] {
  const result = loadInjectionConfig(sources);
  return result.ok ? [] : result.issues;
}

describe('loadInjectionConfig: defaults', () => {
  it.each([{}, { config: '', values: '  ', mesh: '\n' }, { values: '{}' }, { set: [] }])(
    'empty sources %j give the embedded defaults',
    (sources) => {
      const config = ok(sources);
      expect(config.injector).toEqual(defaultInjectionConfig().injector);
      expect(config.values).toEqual(DEFAULT_VALUES);
      expect(config.mesh).toEqual(DEFAULT_MESH);
      expect(config.revision).toBe('default');
    },
  );

  it('embeds the product image defaults and the chart defaults', () => {
    const { values, mesh, injector } = ok({});
    expect(getPath(values, 'global.hub')).toBe('docker.io/istio');
    expect(getPath(values, 'global.tag')).toBe('1.32.0');
    expect(getPath(values, 'global.proxy.statusPort')).toBe(15020);
    expect(getPath(values, 'global.proxy.resources.limits.cpu')).toBe('2000m');
    expect(getPath(values, 'pilot.cni.provider')).toBe('default');
    expect(mesh.defaultConfig.discoveryAddress).toBe('istiod.istio-system.svc:15012');
    expect(mesh.enablePrometheusMerge).toBe(true);
    expect(mesh.inboundTrafficPolicy?.mode).toBe('PASSTHROUGH');
    expect(injector.policy).toBe('enabled');
    expect(injector.defaultTemplates).toEqual(['sidecar']);
  });

  it('returns a deep-frozen configuration', () => {
    const config = ok({ values: '{"global":{"hub":"x"}}' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.values['global'])).toBe(true);
    expect(Object.isFrozen(config.mesh.defaultConfig)).toBe(true);
    expect(Object.isFrozen(DEFAULT_VALUES)).toBe(true);
  });
});

describe('loadInjectionConfig: values', () => {
  it('deep-merges JSON values over the defaults', () => {
    const { values } = ok({
      values: '{"global":{"hub":"example.com/istio","proxy":{"statusPort":123}}}',
    });
    expect(getPath(values, 'global.hub')).toBe('example.com/istio');
    expect(getPath(values, 'global.proxy.statusPort')).toBe(123);
    expect(getPath(values, 'global.proxy.image')).toBe('proxyv2');
    expect(getPath(values, 'global.tag')).toBe('1.32.0');
  });

  it('accepts YAML values and keeps unknown fields', () => {
    const { values } = ok({
      values: 'global:\n  tag: latest\n  somethingNew: 3\nextra:\n  a: b\n',
    });
    expect(getPath(values, 'global.tag')).toBe('latest');
    expect(getPath(values, 'global.somethingNew')).toBe(3);
    expect(getPath(values, 'extra.a')).toBe('b');
  });

  it('accepts a numeric tag and a numeric-string port (normalised to a number)', () => {
    const { values } = ok({ values: '{"global":{"tag":1.32,"proxy":{"statusPort":"15021"}}}' });
    expect(getPath(values, 'global.tag')).toBe(1.32);
    expect(getPath(values, 'global.proxy.statusPort')).toBe(15021);
  });

  it('accepts numeric and canonical-or-not quantities in the proxy resources', () => {
    const { values } = ok({
      values:
        '{"global":{"proxy":{"resources":{"limits":{"cpu":2,"memory":"1e9"},"requests":{"cpu":"0"}}}}}',
    });
    expect(getPath(values, 'global.proxy.resources.limits')).toEqual({ cpu: 2, memory: '1e9' });
  });

  it('drops a default key set to null (Helm semantics)', () => {
    const { values } = ok({
      values: '{"global":{"proxy":{"resources":{"limits":{"cpu":null,"memory":"500Mi"}}}}}',
    });
    expect(getPath(values, 'global.proxy.resources.limits')).toEqual({ memory: '500Mi' });
    expect(getPath(values, 'global.proxy.resources.requests')).toEqual({
      cpu: '100m',
      memory: '128Mi',
    });
  });

  it('reports every problem with its path, not just the first', () => {
    const found = issues({
      values: JSON.stringify({
        global: {
          imagePullPolicy: 'Sometimes',
          logAsJson: 'yes',
          proxy: { statusPort: 'abc', includeIPRanges: 'bad', excludeInboundPorts: '1,,2' },
          imagePullSecrets: ['ok', 3],
        },
        sidecarInjectorWebhook: { rewriteAppHTTPProbe: 'true', injectedAnnotations: { a: 1 } },
        pilot: { cni: { enabled: 1 } },
      }),
    });
    const text = formatConfigIssues(found);
    expect(text).toContain(
      'values.global.proxy.statusPort: expected an integer 0-65535, got "abc"',
    );
    expect(text).toContain(
      'values.global.imagePullPolicy: expected one of , Always, IfNotPresent, Never, got "Sometimes"',
    );
    expect(text).toContain(
      'values.global.logAsJson: expected a boolean (true or false), got "yes"',
    );
    expect(text).toContain("values.global.proxy.includeIPRanges: failed parsing cidr 'bad'");
    expect(text).toContain('values.global.proxy.excludeInboundPorts: failed parsing port');
    expect(text).toContain('values.global.imagePullSecrets[1]: expected a string, got 3');
    expect(text).toContain('values.sidecarInjectorWebhook.rewriteAppHTTPProbe: expected a boolean');
    expect(text).toContain(
      'values.sidecarInjectorWebhook.injectedAnnotations.a: expected a string, got 1',
    );
    expect(text).toContain('values.pilot.cni.enabled: expected a boolean');
    expect(found).toHaveLength(9);
  });

  it.each([
    ['{"global": 3}', 'values.global', 'expected a map'],
    ['{"global":{"proxy":"x"}}', 'values.global.proxy', 'expected a map'],
    ['[1,2]', 'values', 'expected a map at the top level'],
    ['{"global": {', 'values', 'not valid YAML/JSON'],
    [
      'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'values',
      'not valid YAML/JSON',
    ],
    [
      '{"global":{"proxy":{"statusPort":70000}}}',
      'values.global.proxy.statusPort',
      'expected an integer 0-65535, got 70000',
    ],
    [
      '{"global":{"proxy":{"readinessPeriodSeconds":-1}}}',
      'values.global.proxy.readinessPeriodSeconds',
      'expected an integer 0-4294967295',
    ],
    [
      '{"global":{"proxy":{"resources":[]}}}',
      'values.global.proxy.resources',
      'expected a map, got a list',
    ],
    [
      '{"sidecarInjectorWebhook":{"neverInjectSelector":[{"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]}]}}',
      'values.sidecarInjectorWebhook.neverInjectSelector[0].matchExpressions[0].operator',
      'expected one of In, NotIn, Exists, DoesNotExist, got "Gt"',
    ],
    [
      '{"sidecarInjectorWebhook":{"alwaysInjectSelector":[{"matchExpressions":[{"key":"a","operator":"In"}]}]}}',
      'values.sidecarInjectorWebhook.alwaysInjectSelector[0].matchExpressions[0].values',
      'operator In needs at least one value',
    ],
    [
      '{"sidecarInjectorWebhook":{"reinvocationPolicy":"Always"}}',
      'values.sidecarInjectorWebhook.reinvocationPolicy',
      'expected one of Never, IfNeeded',
    ],
    [
      '{"global":{"proxy":{"resources":{"limits":{"cpu":"lots"}}}}}',
      'values.global.proxy.resources.limits.cpu',
      'expected a resource quantity such as "100m" or "1Gi", got "lots"',
    ],
    [
      '{"global":{"proxy":{"resources":{"requests":{"memory":[1]}}}}}',
      'values.global.proxy.resources.requests.memory',
      'expected a resource quantity',
    ],
    [
      '{"meshConfig":{"enablePrometheusMerge":"no"}}',
      'values.meshConfig.enablePrometheusMerge',
      'expected a boolean',
    ],
  ])('%s -> %s', (values, path, message) => {
    const found = issues({ values });
    expect(found.find((i) => i.path === path)?.message ?? found).toContain(message);
  });
});

describe('loadInjectionConfig: config', () => {
  const config = [
    'policy: disabled',
    'defaultTemplates: [sidecar, extra]',
    'aliases:',
    '  both: [sidecar, extra]',
    'neverInjectSelector:',
    '  - matchLabels: {no: "yes"}',
    'alwaysInjectSelector:',
    '  - matchExpressions: [{key: team, operator: In, values: [a]}]',
    'injectedAnnotations:',
    '  injected: "1"',
    'template: "{{ fail }}"',
    'templates:',
    '  sidecar: "metadata: {}"',
    '  gateway: "metadata: {}"',
    '  extra: "metadata: {}"',
  ].join('\n');

  it('reads every field; the templates come from the text; legacy template is ignored', () => {
    const { injector, templates } = ok({ config });
    expect(templates?.has('extra')).toBe(true);
    expect(injector).toEqual({
      policy: 'disabled',
      defaultTemplates: ['sidecar', 'extra'],
      aliases: { both: ['sidecar', 'extra'] },
      // YAML 1.1, as istiod reads it: the plain key `no` is the boolean false.
      neverInjectSelector: [{ matchLabels: { false: 'yes' } }],
      alwaysInjectSelector: [
        { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] },
      ],
      injectedAnnotations: { injected: '1' },
      customTemplates: {},
    });
  });

  it('defaults empty defaultTemplates to [sidecar] and keeps an unknown policy for the decision', () => {
    const { injector } = ok({ config: 'policy: sometimes\ndefaultTemplates: []' });
    expect(injector.defaultTemplates).toEqual(['sidecar']);
    expect(injector.policy).toBe('sometimes');
  });

  it('reads every scalar into its Go string field as istiod does (YAML 1.1, Go number text)', () => {
    const { injector } = ok({
      config: [
        'policy: 3',
        'defaultTemplates: [sidecar, on]',
        'injectedAnnotations: {a: yes, b: 0777, c: 1.50, d: 1e6, e: 1_000, f: "yes", g: 2024-01-02}',
        'neverInjectSelector:',
        '  - matchLabels: {y: n}',
        'templates:',
        '  sidecar: "metadata: {}"',
        '  true: "metadata: {}"',
      ].join('\n'),
    });
    expect(injector.policy).toBe('3');
    expect(injector.defaultTemplates).toEqual(['sidecar', 'true']);
    expect(injector.injectedAnnotations).toEqual({
      a: 'true',
      b: '511',
      c: '1.5',
      d: '1e+06',
      e: '1000',
      f: 'yes',
      g: '2024-01-02',
    });
    expect(injector.neverInjectSelector).toEqual([{ matchLabels: { true: 'false' } }]);
  });

  it('reports bad config fields by path', () => {
    const found = issues({
      config:
        'policy: [3]\naliases:\n  a: b\nneverInjectSelector: {}\ninjectedAnnotations: [x]\ntemplates:\n  t: {a: 4}',
    });
    expect(found.map((i) => i.path).sort()).toEqual([
      'config.aliases.a',
      'config.injectedAnnotations',
      'config.neverInjectSelector',
      'config.policy',
      'config.templates.t',
    ]);
  });

  it('derives the injector config from values when no config is given (as the chart does)', () => {
    const { injector } = ok({
      values: JSON.stringify({
        global: { proxy: { autoInject: 'disabled' } },
        sidecarInjectorWebhook: {
          neverInjectSelector: [{ matchLabels: { a: 'b' } }],
          alwaysInjectSelector: [{ matchLabels: { c: 'd' } }],
          injectedAnnotations: { x: 'y' },
          defaultTemplates: ['sidecar', 'spire'],
          templates: { spire: 'spec: {}', sidecar: 'custom' },
        },
      }),
    });
    expect(injector).toEqual({
      policy: 'disabled',
      defaultTemplates: ['sidecar', 'spire'],
      aliases: {},
      neverInjectSelector: [{ matchLabels: { a: 'b' } }],
      alwaysInjectSelector: [{ matchLabels: { c: 'd' } }],
      injectedAnnotations: { x: 'y' },
      // Templates from values are user templates, even under a built-in name.
      customTemplates: { spire: 'spec: {}', sidecar: 'custom' },
    });
  });
});

describe('loadInjectionConfig: mesh', () => {
  it('merges defaultConfig and its proxyMetadata key-wise', () => {
    const { mesh } = ok({
      mesh: 'proxyListenPort: 15002\ndefaultConfig:\n  proxyMetadata: {A: "1"}\n  drainDuration: 23s\n',
      istioOperator: 'spec:\n  meshConfig:\n    defaultConfig:\n      proxyMetadata: {B: "2"}\n',
    });
    expect(mesh.proxyListenPort).toBe(15002);
    expect(mesh.defaultConfig.drainDuration).toBe('23s');
    expect(mesh.defaultConfig.proxyMetadata).toEqual({ A: '1', B: '2' });
    expect(mesh.defaultConfig.discoveryAddress).toBe('istiod.istio-system.svc:15012');
    expect(mesh.trustDomain).toBe('cluster.local');
  });

  it('replaces top-level fields and appends extension providers by name', () => {
    const { mesh } = ok({
      mesh: 'inboundTrafficPolicy: {mode: LOCALHOST}\nextensionProviders: [{name: a, x: 1}]',
      set: ['meshConfig.enablePrometheusMerge=false'],
      istioOperator: 'spec:\n  meshConfig:\n    extensionProviders: [{name: a, x: 2}, {name: b}]',
    });
    expect(mesh.inboundTrafficPolicy).toEqual({ mode: 'LOCALHOST' });
    expect(mesh.enablePrometheusMerge).toBe(false);
    expect(mesh.extensionProviders).toEqual([{ name: 'a', x: 2 }, { name: 'b' }]);
  });

  it('derives the chart mesh from values when no mesh is given', () => {
    const { mesh, revision } = ok({
      values: JSON.stringify({
        revision: 'canary',
        global: { istioNamespace: 'mesh-system', meshID: 'm1', variant: 'distroless' },
        meshConfig: { enablePrometheusMerge: false, defaultConfig: { proxyMetadata: { X: 'y' } } },
      }),
    });
    expect(revision).toBe('canary');
    expect(mesh.defaultConfig.discoveryAddress).toBe('istiod-canary.mesh-system.svc:15012');
    expect(mesh.defaultConfig['meshId']).toBe('m1');
    expect(mesh.defaultConfig.image).toEqual({ imageType: 'distroless' });
    expect(mesh.defaultConfig.proxyMetadata).toEqual({ X: 'y' });
    expect(mesh.rootNamespace).toBe('mesh-system');
    expect(mesh.enablePrometheusMerge).toBe(false);
  });

  it('reports mesh and defaultConfig type problems by path', () => {
    const found = issues({
      mesh: 'proxyListenPort: x\ninboundTrafficPolicy: {mode: local}\ndefaultConfig:\n  statusPort: abc\n  interceptionMode: MAGIC\n  drainDuration: 5 minutes\n  proxyMetadata: {A: 1}\n',
    });
    expect(found.map((i) => i.path).sort()).toEqual([
      'mesh.defaultConfig.drainDuration',
      'mesh.defaultConfig.interceptionMode',
      'mesh.defaultConfig.proxyMetadata.A',
      'mesh.defaultConfig.statusPort',
      'mesh.inboundTrafficPolicy.mode',
      'mesh.proxyListenPort',
    ]);
  });

  it('the revision option wins over values.revision', () => {
    expect(ok({ values: '{"revision":"a"}' }, 'b').revision).toBe('b');
    expect(ok({}, '').revision).toBe('default');
  });
});

describe('applySetFlags', () => {
  it.each([
    ['values.global.proxy.statusPort=0', 'values', 'global.proxy.statusPort', 0],
    [
      'values.global.proxy.holdApplicationUntilProxyStarts=true',
      'values',
      'global.proxy.holdApplicationUntilProxyStarts',
      true,
    ],
    ['values.global.mountMtlsCerts=false', 'values', 'global.mountMtlsCerts', false],
    [
      'values.global.proxy.includeIPRanges=172.30.0.0/16,172.20.0.0/16',
      'values',
      'global.proxy.includeIPRanges',
      '172.30.0.0/16,172.20.0.0/16',
    ],
    ['values.global.tag=1.32', 'values', 'global.tag', '1.32'],
    ['values.global.tag=007', 'values', 'global.tag', '007'],
    ['values.global.imagePullPolicy=', 'values', 'global.imagePullPolicy', ''],
    ['values.global.x=a=b', 'values', 'global.x', 'a=b'],
    ['components.cni.enabled=true', 'values', 'pilot.cni.enabled', true],
    ['values.cni.provider=multus', 'values', 'pilot.cni.provider', 'multus'],
    ['spec.values.global.network=n1', 'values', 'global.network', 'n1'],
    ['revision=canary', 'values', 'revision', 'canary'],
    ['hub=example.com/istio', 'values', 'global.hub', 'example.com/istio'],
    ['tag=latest', 'values', 'global.tag', 'latest'],
    [
      'meshConfig.defaultConfig.proxyMetadata.FOO=bar',
      'mesh',
      'defaultConfig.proxyMetadata.FOO',
      'bar',
    ],
    ['values.pilot.env.ENABLE_X=true', 'values', 'pilot.env.ENABLE_X', true],
    [
      'values.global.proxy.resources.limits.cpu=null',
      'values',
      'global.proxy.resources.limits.cpu',
      null,
    ],
  ] as const)('%s', (flag, target, path, want) => {
    const overlays = applySetFlags([flag]);
    expect(overlays.issues).toEqual([]);
    expect(getPath(target === 'values' ? overlays.values : overlays.mesh, path)).toEqual(want);
  });

  it('supports escaped dots and list indexes', () => {
    const overlays = applySetFlags([
      'values.sidecarInjectorWebhook.injectedAnnotations.example\\.com/team=a',
      'values.global.imagePullSecrets[0]=s1',
      'values.global.imagePullSecrets[1]=s2',
    ]);
    expect(overlays.issues).toEqual([]);
    expect(getPath(overlays.values, 'sidecarInjectorWebhook.injectedAnnotations')).toEqual({
      'example.com/team': 'a',
    });
    expect(getPath(overlays.values, 'global.imagePullSecrets')).toEqual(['s1', 's2']);
  });

  it('reports malformed and unsupported flags, each by index', () => {
    const overlays = applySetFlags([
      'novalue',
      '=x',
      'foo.bar=1',
      'values..a=1',
      'values.global.hub=ok',
    ]);
    expect(overlays.issues.map((i) => i.path)).toEqual(['set[0]', 'set[1]', 'set[2]', 'set[3]']);
    expect(overlays.issues[2]?.message).toContain('unsupported path "foo.bar"');
    expect(getPath(overlays.values, 'global.hub')).toBe('ok');
  });

  it('flags are applied last and type-checked like values', () => {
    const config = ok({
      values: '{"global":{"proxy":{"statusPort":1}}}',
      set: ['values.global.proxy.statusPort=2'],
    });
    expect(getPath(config.values, 'global.proxy.statusPort')).toBe(2);
    const found = issues({
      set: ['values.global.proxy.statusPort=abc', 'values.global.logAsJson=1'],
    });
    expect(formatConfigIssues(found)).toContain(
      'values.global.proxy.statusPort: expected an integer 0-65535, got "abc"',
    );
    expect(formatConfigIssues(found)).toContain('values.global.logAsJson: expected a boolean');
  });
});

describe('loadInjectionConfig: conformance corpus settings', () => {
  const cases = loadCases().cases;

  const flagSets = [
    ...new Set(
      cases.filter((c) => (c.setFlags ?? []).length > 0).map((c) => JSON.stringify(c.setFlags)),
    ),
  ];
  it.each(flagSets)('setFlags %s load cleanly', (flags) => {
    const list = JSON.parse(flags) as string[];
    const config = ok({ set: list });
    for (const flag of list) {
      const [path = '', raw = ''] = flag.split('=');
      if (path === 'components.cni.enabled')
        expect(getPath(config.values, 'pilot.cni.enabled')).toBe(true);
      else if (path === 'values.cni.provider')
        expect(getPath(config.values, 'pilot.cni.provider')).toBe(raw);
      else {
        // istioctl typing: booleans and integers become typed, the rest stays text.
        const want = raw === 'true' ? true : /^\d+$/.test(raw) ? Number(raw) : raw;
        expect(getPath(config.values, path.replace(/^values\./, ''))).toEqual(want);
      }
    }
  });

  const overlays = [
    ...new Set(cases.map((c) => c.inFilePath).filter((p): p is string => typeof p === 'string')),
  ];
  it.each(overlays)('IstioOperator overlay %s loads cleanly', (file) => {
    const config = ok({ istioOperator: readFileSync(join(CORPUS_DIR, file), 'utf8') });
    expect(config.values).not.toEqual(DEFAULT_VALUES);
  });

  it('maps the overlays to the expected values', () => {
    const read = (f: string) => readFileSync(join(CORPUS_DIR, f), 'utf8');
    expect(
      getPath(
        ok({ istioOperator: read('hello-image-secrets-in-values.iop.yaml') }).values,
        'global.imagePullSecrets',
      ),
    ).toEqual(['barSecret']);
    expect(
      Object.keys(ok({ istioOperator: read('custom-template.iop.yaml') }).injector.customTemplates),
    ).toEqual(['custom']);
    expect(
      Object.keys(ok({ istioOperator: read('spire-template.iop.yaml') }).injector.customTemplates),
    ).toEqual(['spire']);
    const nulls = ok({ istioOperator: read('proxy-resources-null.iop.yaml') }).values;
    expect(getPath(nulls, 'global.proxy.resources')).toEqual({
      limits: { memory: '500Mi' },
      requests: { memory: '150Mi' },
    });
  });

  it('harness overrides of hub and tag', () => {
    const { values } = ok({
      set: ['values.global.hub=registry.istio.io/testing', 'values.global.tag=latest'],
    });
    expect(getPath(values, 'global.hub')).toBe('registry.istio.io/testing');
    expect(getPath(values, 'global.tag')).toBe('latest');
  });
});

describe('loadInjectionConfig: IstioOperator', () => {
  it('reads spec.values, spec.meshConfig, spec.components.cni.enabled, hub, tag and revision', () => {
    const config = ok({
      istioOperator: [
        'apiVersion: install.istio.io/v1alpha1',
        'kind: IstioOperator',
        'spec:',
        '  hub: example.com/istio',
        '  tag: 1.2.3',
        '  revision: blue',
        '  components:',
        '    cni:',
        '      enabled: true',
        '  values:',
        '    cni: {provider: multus}',
        '  meshConfig:',
        '    trustDomain: example.org',
      ].join('\n'),
    });
    expect(getPath(config.values, 'global.hub')).toBe('example.com/istio');
    expect(getPath(config.values, 'global.tag')).toBe('1.2.3');
    expect(getPath(config.values, 'pilot.cni')).toEqual({ enabled: true, provider: 'multus' });
    expect(config.revision).toBe('blue');
    expect(config.mesh.trustDomain).toBe('example.org');
  });

  it.each([
    ['kind: Deployment\nspec: {}', 'istioOperator.kind'],
    ['spec: 3', 'istioOperator.spec'],
    ['spec:\n  values: [1]', 'istioOperator.spec.values'],
    ['spec:\n  meshConfig: x', 'istioOperator.spec.meshConfig'],
  ])('rejects %j at %s', (doc, path) => {
    expect(issues({ istioOperator: doc }).map((i) => i.path)).toContain(path);
  });
});

describe('configError and loadInjectionConfigOrThrow', () => {
  it('wraps every issue in an INJ_ERR_CONFIG_INVALID error', () => {
    const found = issues({ values: '{"global":{"logAsJson":1,"proxy":{"statusPort":"x"}}}' });
    const error = configError(found);
    expect(error.code).toBe('INJ_ERR_CONFIG_INVALID');
    expect(error.details).toHaveLength(2);
    expect(error.message).toContain('2 problems');
    expect(error.message).toContain('values.global.proxy.statusPort');
  });

  it('throws on a bad configuration and returns a good one', () => {
    let caught: unknown;
    try {
      loadInjectionConfigOrThrow({ mesh: 'proxyListenPort: x' });
    } catch (error) {
      caught = error;
    }
    expect(isInjectorError(caught) && caught.code).toBe('INJ_ERR_CONFIG_INVALID');
    expect(loadInjectionConfigOrThrow({}).revision).toBe('default');
  });
});
