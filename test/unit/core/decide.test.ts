import { describe, expect, it } from 'vitest';
import { DECISION_REASONS, decide, type DecisionReason } from '../../../src/core/decide.js';
import { DEFAULT_INJECTOR_CONFIG } from '../../../src/core/config/defaults.js';
import type { InjectorConfig, LabelSelector } from '../../../src/core/config/types.js';
import type { Pod } from '../../../src/core/pod-types.js';
import { parseSelectorString } from '../../../src/core/selectors.js';
import { loadCases, type InjectRequiredCase, type SelectorSpec } from './decide-cases.js';

function toSelector(spec: SelectorSpec): LabelSelector {
  return spec.selectorString !== undefined
    ? parseSelectorString(spec.selectorString)
    : { matchLabels: spec.matchLabels ?? {} };
}

function injector(overrides: Partial<InjectorConfig>): InjectorConfig {
  return { ...DEFAULT_INJECTOR_CONFIG, ...overrides };
}

function pod(opts: {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  hostNetwork?: boolean;
  namespace?: string;
}): Pod {
  return {
    metadata: {
      name: 'p',
      ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
      ...(opts.labels === undefined ? {} : { labels: opts.labels }),
      ...(opts.annotations === undefined ? {} : { annotations: opts.annotations }),
    },
    spec: { hostNetwork: opts.hostNetwork ?? false, containers: [{ name: 'app' }] },
  };
}

const required = loadCases().webhookTests.TestInjectRequired.cases;

describe('decide: Istio TestInjectRequired table', () => {
  it('has all 36 transcribed cases', () => {
    expect(required).toHaveLength(36);
  });

  it.each(required.map((c, i) => [`${i} ${c.name}`, c] as [string, InjectRequiredCase]))(
    '%s',
    (_name, c) => {
      const result = decide({
        pod: pod({
          labels: c.podLabels,
          annotations: c.podAnnotations,
          hostNetwork: c.hostNetwork,
          namespace: c.namespace,
        }),
        namespace: c.namespace,
        injector: injector({
          policy: c.policy,
          alwaysInjectSelector: (c.alwaysInjectSelector ?? []).map(toSelector),
          neverInjectSelector: (c.neverInjectSelector ?? []).map(toSelector),
        }),
        mode: 'webhook',
      });
      expect(result.inject).toBe(c.wantInject);
      expect(result.message.length).toBeGreaterThan(0);
    },
  );
});

describe('decide: reasons (webhook)', () => {
  const never = [{ matchLabels: { never: 'yes' } }];
  const always = [{ matchLabels: { always: 'yes' } }];
  const cases: [
    string,
    Parameters<typeof pod>[0],
    Partial<InjectorConfig>,
    boolean,
    DecisionReason,
  ][] = [
    [
      'host network',
      { hostNetwork: true, labels: { 'sidecar.istio.io/inject': 'true' } },
      {},
      false,
      'host-network',
    ],
    ['kube-system', { namespace: 'kube-system' }, {}, false, 'ignored-namespace'],
    ['kube-public', { namespace: 'kube-public' }, {}, false, 'ignored-namespace'],
    ['kube-node-lease', { namespace: 'kube-node-lease' }, {}, false, 'ignored-namespace'],
    ['local-path-storage', { namespace: 'local-path-storage' }, {}, false, 'ignored-namespace'],
    [
      'label false',
      { labels: { 'sidecar.istio.io/inject': 'false' } },
      {},
      false,
      'pod-label-opt-out',
    ],
    [
      'annotation false',
      { annotations: { 'sidecar.istio.io/inject': 'false' } },
      {},
      false,
      'pod-annotation-opt-out',
    ],
    [
      'label true, policy disabled',
      { labels: { 'sidecar.istio.io/inject': 'true' } },
      { policy: 'disabled' },
      true,
      'pod-label-opt-in',
    ],
    [
      'annotation true, policy disabled',
      { annotations: { 'sidecar.istio.io/inject': 'true' } },
      { policy: 'disabled' },
      true,
      'pod-annotation-opt-in',
    ],
    [
      'label beats annotation',
      {
        labels: { 'sidecar.istio.io/inject': 'false' },
        annotations: { 'sidecar.istio.io/inject': 'true' },
      },
      {},
      false,
      'pod-label-opt-out',
    ],
    [
      'invalid label hides valid annotation',
      {
        labels: { 'sidecar.istio.io/inject': 'random' },
        annotations: { 'sidecar.istio.io/inject': 'false' },
      },
      {},
      true,
      'policy-enabled',
    ],
    [
      'empty label value hides annotation',
      {
        labels: { 'sidecar.istio.io/inject': '' },
        annotations: { 'sidecar.istio.io/inject': 'false' },
      },
      {},
      true,
      'policy-enabled',
    ],
    [
      'case-sensitive True',
      { labels: { 'sidecar.istio.io/inject': 'True' } },
      { policy: 'disabled' },
      false,
      'policy-disabled',
    ],
    [
      'never selector',
      { labels: { never: 'yes' } },
      { neverInjectSelector: never },
      false,
      'never-inject-selector',
    ],
    [
      'always selector',
      { labels: { always: 'yes' } },
      { policy: 'disabled', alwaysInjectSelector: always },
      true,
      'always-inject-selector',
    ],
    [
      'never wins over always',
      { labels: { always: 'yes', never: 'yes' } },
      { neverInjectSelector: never, alwaysInjectSelector: always },
      false,
      'never-inject-selector',
    ],
    [
      'opt-in beats never selector',
      { labels: { never: 'yes' }, annotations: { 'sidecar.istio.io/inject': 'true' } },
      { neverInjectSelector: never },
      true,
      'pod-annotation-opt-in',
    ],
    [
      'empty selector is skipped',
      { labels: { a: 'b' } },
      { policy: 'disabled', alwaysInjectSelector: [{}] },
      false,
      'policy-disabled',
    ],
    ['policy enabled', {}, {}, true, 'policy-enabled'],
    ['policy disabled', {}, { policy: 'disabled' }, false, 'policy-disabled'],
    [
      'invalid policy beats opt-in',
      { labels: { 'sidecar.istio.io/inject': 'true' } },
      { policy: 'Enabled' },
      false,
      'invalid-policy',
    ],
  ];

  it.each(cases)('%s', (_name, podOpts, config, inject, reason) => {
    const result = decide({
      pod: pod(podOpts),
      namespace: podOpts.namespace ?? 'default',
      injector: injector(config),
      mode: 'webhook',
    });
    expect(result).toMatchObject({ inject, reason });
    expect(result.message).toContain(DECISION_REASONS[reason]);
  });

  it('uses request.namespace when the pod has none', () => {
    const result = decide({
      pod: pod({}),
      namespace: 'kube-system',
      injector: injector({}),
      mode: 'webhook',
    });
    expect(result.reason).toBe('ignored-namespace');
    expect(result.message).toContain('kube-system');
  });

  it('names the matching selector index', () => {
    const result = decide({
      pod: pod({ labels: { x: '1' } }),
      namespace: 'default',
      injector: injector({
        neverInjectSelector: [{ matchLabels: { y: '1' } }, { matchLabels: { x: '1' } }],
      }),
      mode: 'webhook',
    });
    expect(result.message).toContain('neverInjectSelector[1]');
  });

  it('warns about an unrecognised inject value, naming it, within 120 characters', () => {
    const result = decide({
      pod: pod({ annotations: { 'sidecar.istio.io/inject': 'yes' } }),
      namespace: 'default',
      injector: injector({}),
      mode: 'webhook',
    });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain('"yes"');
    expect(result.warnings[0]).toContain('annotation');
    expect(result.warnings[0]?.length).toBeLessThanOrEqual(120);
  });

  it('clips a very long unrecognised value so the warning stays short', () => {
    const result = decide({
      pod: pod({ labels: { 'sidecar.istio.io/inject': 'x'.repeat(500) } }),
      namespace: 'default',
      injector: injector({}),
      mode: 'webhook',
    });
    expect(result.warnings[0]?.length).toBeLessThanOrEqual(120);
    expect(result.warnings[0]).toContain('label');
  });

  it('has no warning for true, false or absent values', () => {
    for (const value of ['true', 'false', undefined]) {
      const annotations: Record<string, string> =
        value === undefined ? {} : { 'sidecar.istio.io/inject': value };
      const result = decide({
        pod: pod({ annotations }),
        namespace: 'd',
        injector: injector({}),
        mode: 'webhook',
      });
      expect(result.warnings).toEqual([]);
    }
  });

  it('skips a selector with an unsupported operator, with a warning', () => {
    const bad = { matchExpressions: [{ key: 'a', operator: 'Gt' }] } as unknown as LabelSelector;
    const result = decide({
      pod: pod({ labels: { a: '1' } }),
      namespace: 'default',
      injector: injector({ neverInjectSelector: [bad] }),
      mode: 'webhook',
    });
    expect(result.inject).toBe(true);
    expect(result.warnings[0]).toContain('neverInjectSelector[0]');
  });
});

describe('decide: kube-inject mode', () => {
  const cases: [
    string,
    Parameters<typeof pod>[0],
    Partial<InjectorConfig>,
    boolean,
    DecisionReason,
  ][] = [
    ['ignores a disabled policy', {}, { policy: 'disabled' }, true, 'policy-enabled'],
    ['ignores an invalid policy', {}, { policy: 'bogus' }, true, 'policy-enabled'],
    [
      'ignores never selectors',
      { labels: { n: '1' } },
      { neverInjectSelector: [{ matchLabels: { n: '1' } }] },
      true,
      'policy-enabled',
    ],
    [
      'honours the annotation opt-out',
      { annotations: { 'sidecar.istio.io/inject': 'false' } },
      {},
      false,
      'pod-annotation-opt-out',
    ],
    [
      'honours the label opt-out',
      { labels: { 'sidecar.istio.io/inject': 'false' } },
      {},
      false,
      'pod-label-opt-out',
    ],
    ['host network', { hostNetwork: true }, {}, false, 'host-network'],
    [
      'template namespace kube-system',
      { namespace: 'kube-system' },
      {},
      false,
      'ignored-namespace',
    ],
  ];
  it.each(cases)('%s', (_name, podOpts, config, inject, reason) => {
    const result = decide({
      pod: pod(podOpts),
      namespace: 'ignored',
      injector: injector(config),
      mode: 'kube-inject',
    });
    expect(result).toMatchObject({ inject, reason });
  });

  it('does not use the request namespace for the ignored-namespace check', () => {
    const result = decide({
      pod: pod({}),
      namespace: 'kube-system',
      injector: injector({}),
      mode: 'kube-inject',
    });
    expect(result.inject).toBe(true);
  });
});

describe('DECISION_REASONS', () => {
  it('has a non-empty text for every code', () => {
    for (const text of Object.values(DECISION_REASONS)) expect(text.length).toBeGreaterThan(10);
  });
});

describe('decide: malformed pods do not throw', () => {
  it.each([
    ['numeric label value', { metadata: { labels: { 'sidecar.istio.io/inject': 1 } } }],
    ['null annotation value', { metadata: { annotations: { 'sidecar.istio.io/inject': null } } }],
    ['no metadata, no spec', {}],
  ])('%s', (_name, raw) => {
    const result = decide({
      pod: raw as unknown as Pod,
      namespace: 'default',
      injector: injector({}),
      mode: 'webhook',
    });
    expect(result.inject).toBe(true);
    expect(result.reason).toBe('policy-enabled');
  });
});
