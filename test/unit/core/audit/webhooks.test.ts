import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { LabelSelector, LabelSelectorRequirement } from '../../../../src/core/config/types.js';
import type { StringMap } from '../../../../src/core/pod-types.js';
import {
  auditWebhooks,
  canSelectNamespace,
  interceptsPodCreate,
  selectorsIntersect,
  type MutatingWebhook,
  type WebhookAuditOptions,
  type WebhookConfiguration,
} from '../../../../src/core/audit/webhooks.js';
import {
  webhookEntries,
  type WebhookEntriesOptions,
} from '../../../../src/core/webhook-selectors.js';

const MANIFEST = fileURLToPath(
  new URL('../../../../manifests/base/mutatingwebhookconfiguration.yaml', import.meta.url),
);
const shipped = parse(readFileSync(MANIFEST, 'utf8')) as {
  metadata: { name: string; labels: Record<string, string> };
  webhooks: MutatingWebhook[];
};
const ours: WebhookConfiguration = {
  name: shipped.metadata.name,
  labels: shipped.metadata.labels,
  webhooks: shipped.webhooks,
};
const options: WebhookAuditOptions = {
  ownConfiguration: 'sidecar-injector',
  service: { namespace: 'sidecar-injector', name: 'sidecar-injector' },
};
const POD_RULES = [
  { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
];

/** The configuration Istio's chart renders for a revision (entries built by the core). */
function istiod(name: string, entries: WebhookEntriesOptions): WebhookConfiguration {
  return {
    name,
    labels: { 'istio.io/rev': entries.revision || 'default' },
    webhooks: webhookEntries(entries).map((e) => ({
      name: `${e.name}.${e.revision}.sidecar-injector.istio.io`,
      clientConfig: { service: { name: 'istiod', namespace: 'istio-system', path: '/inject' } },
      rules: POD_RULES,
      namespaceSelector: structuredClone<LabelSelector>(e.namespaceSelector),
      objectSelector: structuredClone<LabelSelector>(e.objectSelector),
      failurePolicy: 'Fail',
    })),
  };
}

describe('auditWebhooks', () => {
  it('finds nothing wrong with the shipped configuration alone', () => {
    expect(auditWebhooks([ours], options)).toEqual([]);
  });

  it('reports a missing own configuration', () => {
    expect(auditWebhooks([], options).map((f) => f.code)).toEqual(['own-configuration-missing']);
  });

  it('reports a copy of our configuration as an overlap on every entry', () => {
    const copy = { ...structuredClone(ours), name: 'sidecar-injector-old' };
    const found = auditWebhooks([ours, copy], options).filter((f) => f.code === 'overlap');
    expect(found.map((f) => f.webhook)).toEqual(ours.webhooks.map((w) => w.name));
    expect(found[0]?.message).toContain('a copy');
    expect(found[0]?.fix).toContain(
      'kubectl delete mutatingwebhookconfiguration sidecar-injector-old',
    );
  });

  it("reports istiod's default-revision injector beside us, not another revision's", () => {
    const found = auditWebhooks(
      [
        ours,
        istiod('istio-sidecar-injector', { revision: '' }),
        istiod('istio-sidecar-injector-canary', { revision: 'canary' }),
      ],
      options,
    ).filter((f) => f.code === 'overlap');
    expect(new Set(found.map((f) => f.configuration))).toEqual(new Set(['istio-sidecar-injector']));
  });

  it('ignores pod webhooks that are not injectors, and entries not called for pod CREATE', () => {
    const policy: WebhookConfiguration = {
      name: 'policy-engine',
      webhooks: [
        {
          name: 'mutate.policy.example.com',
          rules: POD_RULES,
          clientConfig: { service: { name: 'pe', namespace: 'pe' } },
        },
      ],
    };
    const updates: WebhookConfiguration = {
      name: 'istio-updates',
      labels: { 'istio.io/rev': 'default' },
      webhooks: [{ name: 'u.istio.io', rules: [{ ...POD_RULES[0], operations: ['UPDATE'] }] }],
    };
    expect(auditWebhooks([ours, policy, updates], options)).toEqual([]);
  });

  it('judges entry names as injectors use them, not by a domain that contains the words', () => {
    const entry = (name: string): WebhookConfiguration => ({
      name: 'some-webhooks',
      webhooks: [{ name, rules: POD_RULES, clientConfig: { url: 'https://10.0.0.1:9443/record' } }],
    });
    const overlapsWith = (name: string) =>
      auditWebhooks([ours, entry(name)], options).filter((f) => f.code === 'overlap').length > 0;
    expect(overlapsWith('record.suite.sidecar-injector.io')).toBe(false);
    expect(overlapsWith('sidecar-injector.example.com')).toBe(false);
    expect(overlapsWith('sidecar-injector.istio.io')).toBe(true);
    expect(overlapsWith('rev.namespace.sidecar-injector.istio.io')).toBe(true);
    expect(overlapsWith('namespace.inject.sidecar-injector.io')).toBe(true);
  });

  it('checks the caBundle of our entries with the given verifier', () => {
    const withBundle = structuredClone(ours);
    withBundle.webhooks[0]!.clientConfig = {
      ...withBundle.webhooks[0]!.clientConfig,
      caBundle: 'Z29vZA==',
    };
    withBundle.webhooks[1]!.clientConfig = {
      ...withBundle.webhooks[1]!.clientConfig,
      caBundle: 'YmFk',
    };
    const verdicts = auditWebhooks([withBundle], {
      ...options,
      verifyCaBundle: (b) =>
        b === 'Z29vZA==' ? { ok: true } : { ok: false, why: 'not signed by it' },
    });
    const byCode = (code: string) => verdicts.filter((f) => f.code === code).map((f) => f.webhook);
    expect(byCode('ca-bundle-mismatch')).toEqual([withBundle.webhooks[1]!.name]);
    expect(byCode('ca-bundle-missing')).toEqual(withBundle.webhooks.slice(2).map((w) => w.name));
  });

  it('reports our entries that call another Service than ours, not those calling a URL', () => {
    const moved = structuredClone(ours);
    moved.webhooks[0]!.clientConfig = {
      ...moved.webhooks[0]!.clientConfig,
      service: {
        namespace: options.service.namespace,
        name: 'sidecar-injector-old',
        path: '/inject',
      },
    };
    moved.webhooks[1]!.clientConfig = { url: 'https://127.0.0.1:9443/inject' };
    const found = auditWebhooks([moved], options).filter((f) => f.code === 'wrong-service');
    expect(found.map((f) => f.webhook)).toEqual([moved.webhooks[0]!.name]);
    expect(found[0]!.message).toContain('sidecar-injector-old');
    expect(auditWebhooks([ours], options).filter((f) => f.code === 'wrong-service')).toEqual([]);
  });

  it('checks the caBundle of an entry that calls a URL; a URL without one uses system roots', () => {
    const byUrl = structuredClone(ours);
    byUrl.webhooks[0]!.clientConfig = { url: 'https://127.0.0.1:9443/inject', caBundle: 'YmFk' };
    byUrl.webhooks[1]!.clientConfig = { url: 'https://injector.example.com/inject' };
    const found = auditWebhooks([byUrl], {
      ...options,
      verifyCaBundle: (b) => (b === 'YmFk' ? { ok: false, why: 'not signed by it' } : { ok: true }),
    }).filter((f) => f.code.startsWith('ca-bundle'));
    expect(found.filter((f) => f.code === 'ca-bundle-mismatch').map((f) => f.webhook)).toEqual([
      byUrl.webhooks[0]!.name,
    ]);
    expect(found.map((f) => f.webhook)).not.toContain(byUrl.webhooks[1]!.name);
  });

  it('reports risky failure policies, timeouts and missing namespace exclusions', () => {
    const risky = structuredClone(ours);
    const [first, second, third] = risky.webhooks;
    first!.namespaceSelector = { matchLabels: { 'istio-injection': 'enabled' } };
    second!.timeoutSeconds = 30;
    third!.failurePolicy = 'Ignore';
    const found = auditWebhooks([risky], options).map((f) => [f.code, f.webhook]);
    expect(found).toEqual([
      ['fail-without-namespace-exclusion', first!.name],
      ['long-timeout-under-fail', second!.name],
      ['ignore-policy', third!.name],
    ]);
    // Excluding one namespace is not enough: the message names the other.
    first!.namespaceSelector = {
      matchExpressions: [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
      ],
    };
    const msg = auditWebhooks([risky], options).find((f) => f.webhook === first!.name)?.message;
    expect(msg).toContain('does not exclude sidecar-injector');
    expect(msg).not.toContain('kube-system');
  });

  it('interceptsPodCreate honours wildcards and subresource-only rules', () => {
    const w = (rule: object): MutatingWebhook => ({ name: 'x', rules: [rule] });
    expect(
      interceptsPodCreate(
        w({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }),
      ),
    ).toBe(true);
    expect(
      interceptsPodCreate(
        w({
          operations: ['CREATE'],
          apiGroups: [''],
          apiVersions: ['v1'],
          resources: ['pods/exec'],
        }),
      ),
    ).toBe(false);
    expect(
      interceptsPodCreate(
        w({
          operations: ['CREATE'],
          apiGroups: ['apps'],
          apiVersions: ['v1'],
          resources: ['pods'],
        }),
      ),
    ).toBe(false);
    expect(interceptsPodCreate(w({ ...POD_RULES[0], scope: 'Cluster' }))).toBe(false);
  });
});

// ---- selector algebra against brute force ----------------------------------------------------

const KEYS = ['a', 'b'] as const;
const VALUES = ['x', 'y', 'z'] as const;
/** Every label set over KEYS with values in VALUES or one fresh value (standing for "any other"). */
const UNIVERSE: StringMap[] = (() => {
  const choices = [undefined, ...VALUES, 'fresh'];
  const out: StringMap[] = [];
  for (const va of choices) {
    for (const vb of choices) {
      const labels: StringMap = {};
      if (va !== undefined) labels.a = va;
      if (vb !== undefined) labels.b = vb;
      out.push(labels);
    }
  }
  return out;
})();

function matches(selector: LabelSelector, labels: StringMap): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    const vals = r.values ?? [];
    switch (r.operator) {
      case 'In':
        return has && vals.includes(v!);
      case 'NotIn':
        return !has || !vals.includes(v!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

const requirement: fc.Arbitrary<LabelSelectorRequirement> = fc.oneof(
  fc.record({
    key: fc.constantFrom(...KEYS),
    operator: fc.constantFrom('In' as const, 'NotIn' as const),
    values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1 }),
  }),
  fc.record({
    key: fc.constantFrom(...KEYS),
    operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
  }),
);
const selector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), {
      maxKeys: 1,
    }),
    matchExpressions: fc.array(requirement, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

describe('selectorsIntersect', () => {
  it('is true exactly when some label set matches every selector', () => {
    fc.assert(
      fc.property(fc.array(selector, { minLength: 1, maxLength: 3 }), (selectors) => {
        const witness = UNIVERSE.some((labels) => selectors.every((s) => matches(s, labels)));
        expect(selectorsIntersect(...selectors)).toBe(witness);
      }),
      { numRuns: 1000 },
    );
  });

  it('an absent selector matches everything', () => {
    expect(selectorsIntersect(undefined, {})).toBe(true);
    expect(canSelectNamespace(undefined, 'kube-system')).toBe(true);
  });
});

// ---- chart revisions against each other --------------------------------------------------------

const revisionSet = fc.record({
  revision: fc.constantFrom('', 'canary', '1-20', '1-21'),
  tags: fc.uniqueArray(fc.constantFrom('prod', 'stable', 'default'), { maxLength: 2 }),
  enableNamespacesByDefault: fc.boolean(),
});

describe('overlap between revisions (generated chart configurations)', () => {
  it('two revisions overlap exactly when they answer to a common revision or tag name', () => {
    fc.assert(
      fc.property(revisionSet, revisionSet, (mine, theirs) => {
        const names = (o: WebhookEntriesOptions) =>
          new Set(webhookEntries(o).map((e) => e.revision));
        const shared = [...names(mine)].some((n) => names(theirs).has(n));
        const me = { ...istiod('me', mine), labels: {} };
        const found = auditWebhooks([me, istiod('them', theirs)], {
          ...options,
          ownConfiguration: 'me',
        });
        expect(found.some((f) => f.code === 'overlap')).toBe(shared);
      }),
      { numRuns: 300 },
    );
  });
});
