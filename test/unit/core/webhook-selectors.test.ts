import { describe, expect, it } from 'vitest';
import {
  evaluateWebhookSelectors,
  webhookEntries,
  webhookEntriesOptionsOf,
  WEBHOOK_SELECTOR_REASONS,
  type WebhookEntryName,
  type WebhookSelectorReason,
} from '../../../src/core/webhook-selectors.js';
import { defaultInjectionConfig } from '../../../src/core/config/defaults.js';
import type { JsonObject } from '../../../src/core/json.js';

type Row = [
  name: string,
  input: {
    revision?: string;
    tags?: string[];
    auto?: boolean;
    ns?: string;
    nsLabels?: Record<string, string>;
    podLabels?: Record<string, string>;
  },
  entry: WebhookEntryName | undefined,
  reason: WebhookSelectorReason,
  messagePart: string,
];

const rows: Row[] = [
  [
    'namespace enabled',
    { nsLabels: { 'istio-injection': 'enabled' } },
    'namespace',
    'namespace-injection-label',
    'Namespace label istio-injection=enabled matches',
  ],
  [
    'namespace enabled beats pod revision',
    { nsLabels: { 'istio-injection': 'enabled' }, podLabels: { 'istio.io/rev': 'canary' } },
    'namespace',
    'namespace-injection-label',
    'istio-injection=enabled',
  ],
  [
    'namespace disabled beats pod true',
    {
      nsLabels: { 'istio-injection': 'disabled' },
      podLabels: { 'sidecar.istio.io/inject': 'true' },
    },
    undefined,
    'namespace-injection-disabled',
    'istio-injection=disabled',
  ],
  [
    'namespace other value disables',
    { nsLabels: { 'istio-injection': 'yes' } },
    undefined,
    'namespace-injection-disabled',
    'istio-injection=yes',
  ],
  [
    'istio-injection beats istio.io/rev',
    { nsLabels: { 'istio-injection': 'disabled', 'istio.io/rev': 'default' } },
    undefined,
    'namespace-injection-disabled',
    'disables',
  ],
  [
    'namespace rev default',
    { nsLabels: { 'istio.io/rev': 'default' } },
    'rev.namespace',
    'namespace-revision-label',
    'Namespace label istio.io/rev=default matches',
  ],
  [
    'namespace rev canary for canary',
    { revision: 'canary', nsLabels: { 'istio.io/rev': 'canary' } },
    'rev.namespace',
    'namespace-revision-label',
    'istio.io/rev=canary matches',
  ],
  [
    'namespace rev other',
    { revision: 'canary', nsLabels: { 'istio.io/rev': 'stable' } },
    undefined,
    'revision-mismatch',
    'istio.io/rev=stable',
  ],
  [
    'pod rev label',
    { revision: 'canary', podLabels: { 'istio.io/rev': 'canary' } },
    'rev.object',
    'pod-revision-label',
    'Pod label istio.io/rev=canary matches',
  ],
  [
    'pod rev other',
    { revision: 'canary', podLabels: { 'istio.io/rev': 'x' } },
    undefined,
    'revision-mismatch',
    'Pod label istio.io/rev=x',
  ],
  [
    'pod inject true, default revision',
    { podLabels: { 'sidecar.istio.io/inject': 'true' } },
    'object',
    'pod-inject-label',
    'sidecar.istio.io/inject=true matches',
  ],
  [
    'pod inject true, non-default revision',
    { revision: 'canary', podLabels: { 'sidecar.istio.io/inject': 'true' } },
    undefined,
    'not-default-revision',
    'not canary',
  ],
  [
    'namespace enabled, non-default revision',
    { revision: 'canary', nsLabels: { 'istio-injection': 'enabled' } },
    undefined,
    'not-default-revision',
    'default revision',
  ],
  [
    'pod opt-out in enabled namespace',
    {
      nsLabels: { 'istio-injection': 'enabled' },
      podLabels: { 'sidecar.istio.io/inject': 'false' },
    },
    undefined,
    'pod-label-opt-out',
    'inject=false',
  ],
  [
    'pod opt-out in revision namespace',
    { nsLabels: { 'istio.io/rev': 'default' }, podLabels: { 'sidecar.istio.io/inject': 'false' } },
    undefined,
    'pod-label-opt-out',
    'inject=false',
  ],
  [
    'pod true with pod rev of another revision',
    { podLabels: { 'sidecar.istio.io/inject': 'true', 'istio.io/rev': 'canary' } },
    undefined,
    'revision-mismatch',
    'istio.io/rev=canary',
  ],
  ['unlabelled', {}, undefined, 'no-injection-label', 'istio-injection=enabled'],
  ['unlabelled with auto', { auto: true }, 'auto', 'namespaces-by-default', 'by default'],
  [
    'auto skips system namespaces',
    { auto: true, ns: 'kube-system' },
    undefined,
    'ignored-namespace',
    'kube-system',
  ],
  [
    'auto skips pods with an inject label',
    { auto: true, podLabels: { 'sidecar.istio.io/inject': 'maybe' } },
    undefined,
    'no-injection-label',
    'No injection label',
  ],
  [
    'auto needs the default revision',
    { auto: true, revision: 'canary' },
    undefined,
    'no-injection-label',
    'istio.io/rev=canary',
  ],
  [
    'tag pointing at us',
    { revision: 'canary', tags: ['prod'], nsLabels: { 'istio.io/rev': 'prod' } },
    'rev.namespace',
    'namespace-revision-label',
    'istio.io/rev=prod',
  ],
  [
    'default tag makes us default',
    { revision: 'canary', tags: ['default'], nsLabels: { 'istio-injection': 'enabled' } },
    'namespace',
    'namespace-injection-label',
    'matches',
  ],
  [
    'empty revision means default',
    { revision: '', podLabels: { 'sidecar.istio.io/inject': 'true' } },
    'object',
    'pod-inject-label',
    'matches',
  ],
];

describe('evaluateWebhookSelectors', () => {
  it.each(rows)('%s', (_name, input, entry, reason, messagePart) => {
    const result = evaluateWebhookSelectors({
      revision: input.revision ?? 'default',
      tags: input.tags ?? [],
      enableNamespacesByDefault: input.auto ?? false,
      namespaceName: input.ns ?? 'apps',
      namespaceLabels: input.nsLabels ?? {},
      podLabels: input.podLabels ?? {},
    });
    expect(result.matched).toBe(entry !== undefined);
    expect(result.entry).toBe(entry);
    expect(result.reason).toBe(reason);
    expect(result.message).toContain(messagePart);
  });

  it('has a text for every reason', () => {
    for (const text of Object.values(WEBHOOK_SELECTOR_REASONS)) expect(text).not.toBe('');
  });
});

describe('evaluateWebhookSelectors: hints for common label mistakes', () => {
  const base = { revision: 'default', namespaceName: 'apps', podLabels: {} };
  it('an unknown istio-injection value says only "enabled" turns injection on', () => {
    const result = evaluateWebhookSelectors({
      ...base,
      namespaceLabels: { 'istio-injection': 'abc' },
    });
    expect(result.message).toBe(
      'Namespace label istio-injection=abc disables injection (only "enabled" turns it on)',
    );
  });
  it('istio-injection=disabled has no hint', () => {
    const result = evaluateWebhookSelectors({
      ...base,
      namespaceLabels: { 'istio-injection': 'disabled' },
    });
    expect(result.message).toBe('Namespace label istio-injection=disabled disables injection');
  });
  it('both namespace labels: the ignored istio.io/rev is named', () => {
    const result = evaluateWebhookSelectors({
      ...base,
      namespaceLabels: { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' },
    });
    expect(result.entry).toBe('namespace');
    expect(result.message).toContain('istio.io/rev=canary is ignored');
  });
  it('an unknown pod inject label value is named', () => {
    const result = evaluateWebhookSelectors({
      ...base,
      namespaceLabels: {},
      podLabels: { 'sidecar.istio.io/inject': 'yes' },
    });
    expect(result.reason).toBe('no-injection-label');
    expect(result.message).toContain('sidecar.istio.io/inject=yes is neither "true" nor "false"');
  });
});

describe('webhookEntries', () => {
  it('renders the four default-revision entries in chart order', () => {
    expect(webhookEntries({ revision: 'default' }).map((e) => e.name)).toEqual([
      'rev.namespace',
      'rev.object',
      'namespace',
      'object',
    ]);
  });
  it('adds auto only when namespaces are enabled by default', () => {
    const names = webhookEntries({ revision: 'default', enableNamespacesByDefault: true }).map(
      (e) => e.name,
    );
    expect(names).toContain('auto');
  });
  it('renders only the revision entries for a non-default revision', () => {
    const entries = webhookEntries({ revision: 'canary', enableNamespacesByDefault: true });
    expect(entries.map((e) => [e.name, e.revision])).toEqual([
      ['rev.namespace', 'canary'],
      ['rev.object', 'canary'],
    ]);
  });
  it('builds each option set once and hands out the same frozen entries', () => {
    const a = webhookEntries({ revision: 'canary', tags: ['prod'] });
    const b = webhookEntries({ revision: 'canary', tags: ['prod'] });
    expect(b).toBe(a);
    expect(Object.isFrozen(a[0]?.namespaceSelector)).toBe(true);
    expect(webhookEntries({ revision: 'canary' })).not.toBe(a);
  });
  it('derives the options once per configuration object', () => {
    const config = defaultInjectionConfig();
    expect(webhookEntriesOptionsOf(config)).toBe(webhookEntriesOptionsOf(config));
  });
});

describe('webhookEntriesOptionsOf', () => {
  it.each<[string, string, JsonObject, ReturnType<typeof webhookEntriesOptionsOf>]>([
    [
      'the default revision',
      'default',
      {},
      { revision: '', tags: [], enableNamespacesByDefault: false },
    ],
    [
      'a revision with tags (non-strings ignored)',
      'canary',
      { revisionTags: ['prod', 7, 'default'] },
      { revision: 'canary', tags: ['prod', 'default'], enableNamespacesByDefault: false },
    ],
    [
      'namespaces injected by default',
      'default',
      { sidecarInjectorWebhook: { enableNamespacesByDefault: true } },
      { revision: '', tags: [], enableNamespacesByDefault: true },
    ],
    [
      'a string "true" is not the boolean',
      'default',
      { sidecarInjectorWebhook: { enableNamespacesByDefault: 'true' } },
      { revision: '', tags: [], enableNamespacesByDefault: false },
    ],
  ])('%s', (_name, revision, values, want) => {
    const config = { ...defaultInjectionConfig(), revision, values };
    expect(webhookEntriesOptionsOf(config)).toEqual(want);
  });
});
