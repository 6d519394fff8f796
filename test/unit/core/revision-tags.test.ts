import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'yaml';
import {
  NEVER_MATCH,
  planTagRemove,
  planTagSet,
  revisionTagsOf,
  tagNameProblem,
  tagRows,
  tagsPointingAt,
  type TagWebhookConfiguration,
} from '../../../src/core/revision-tags.js';
import {
  evaluateWebhookSelectors,
  NAMESPACE_NAME_LABEL,
} from '../../../src/core/webhook-selectors.js';
import { matchesSelector } from '../../../src/core/selectors.js';
import { isInjectorError } from '../../../src/errors.js';

/** The shipped default-revision configuration (manifests/base), as the API server stores it. */
const SHIPPED = parse(
  readFileSync(
    new URL('../../../manifests/base/mutatingwebhookconfiguration.yaml', import.meta.url),
    'utf8',
  ),
) as TagWebhookConfiguration;

/** The configuration the chart installs for `revision` (only rev.* entries for a named one). */
function baseFor(revision: string, name = `sidecar-injector-${revision}`): TagWebhookConfiguration {
  const c = structuredClone(SHIPPED);
  c.metadata = { name, labels: { ...c.metadata.labels, 'istio.io/rev': revision } };
  if (revision !== 'default') {
    c.webhooks = (c.webhooks ?? [])
      .filter((w) => w.name.startsWith('rev.'))
      .map((w) => {
        for (const sel of [w.namespaceSelector, w.objectSelector]) {
          for (const r of sel?.matchExpressions ?? []) {
            if (r.key === 'istio.io/rev' && r.operator === 'In') r.values = [revision];
          }
        }
        return w;
      });
  }
  return c;
}

function tagged(
  tag: string,
  revision: string,
  name = `istio-revision-tag-${tag}`,
): TagWebhookConfiguration {
  return {
    metadata: { name, labels: { 'istio.io/tag': tag, 'istio.io/rev': revision } },
    webhooks: [],
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isInjectorError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

/** Whether the API server would call a configuration for a pod (any entry matching). */
function selects(
  c: TagWebhookConfiguration,
  ns: string,
  nsLabels: Record<string, string>,
  podLabels: Record<string, string>,
): boolean {
  const namespaceLabels = { [NAMESPACE_NAME_LABEL]: ns, ...nsLabels };
  return (c.webhooks ?? []).some(
    (w) =>
      matchesSelector(w.namespaceSelector ?? {}, namespaceLabels) &&
      matchesSelector(w.objectSelector ?? {}, podLabels),
  );
}

const labelKey = fc.constantFrom(
  'istio.io/rev',
  'istio-injection',
  'sidecar.istio.io/inject',
  'app',
);
const labelValue = fc.constantFrom(
  'prod',
  'stable',
  'default',
  '1-32',
  'enabled',
  'disabled',
  'true',
  'false',
);
const labels = fc.dictionary(labelKey, labelValue, { maxKeys: 3 });
const tagName = fc.constantFrom('prod', 'stable', 'canary', 'default', 'a', 'x-1');
const revisionName = fc.constantFrom('default', '1-32', '1-31');

describe('revision tags learned from webhook configurations', () => {
  it('reads tag -> revision from the labels, the empty revision meaning default', () => {
    expect(
      revisionTagsOf([
        { labels: { 'istio.io/tag': 'prod', 'istio.io/rev': '1-32' } },
        { labels: { 'istio.io/tag': 'stable', 'istio.io/rev': '' } },
        { labels: { 'istio.io/rev': '1-32' } },
        {},
      ]),
    ).toEqual(
      new Map([
        ['prod', '1-32'],
        ['stable', 'default'],
      ]),
    );
  });

  it('labels named like Object.prototype members are plain data', () => {
    // JSON.parse makes `__proto__` an own key, as a label from the API server would be.
    const proto = JSON.parse(
      '{"__proto__":"x","constructor":"y","istio.io/rev":"default"}',
    ) as Record<string, string>;
    expect(tagsPointingAt([{ labels: proto }], 'default')).toEqual([]);
    expect(
      tagsPointingAt([{ labels: { 'istio.io/tag': 'toString', 'istio.io/rev': 'default' } }], ''),
    ).toEqual(['toString']);
  });

  it('property: the server selects a pod labelled with a tag exactly when a configuration points that tag at its revision', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(tagName, revisionName), { maxLength: 5 }),
        revisionName,
        tagName,
        fc.boolean(),
        (pairs, self, used, onNamespace) => {
          const configurations = pairs.map(([tag, rev]) => ({
            labels: { 'istio.io/tag': tag, 'istio.io/rev': rev },
          }));
          const tags = tagsPointingAt(configurations, self);
          const label = { 'istio.io/rev': used };
          const verdict = evaluateWebhookSelectors({
            revision: self === 'default' ? '' : self,
            tags,
            namespaceName: 'shop',
            namespaceLabels: onNamespace ? label : {},
            podLabels: onNamespace ? {} : label,
          });
          const pointsHere = used === self || pairs.some(([t, r]) => t === used && r === self);
          expect(verdict.matched).toBe(pointsHere);
        },
      ),
    );
  });
});

describe('tag set plan', () => {
  it('copies service, caBundle, rules and policy from the revision and selects the tag', () => {
    const base = baseFor('1-32');
    const plan = planTagSet([base, SHIPPED], { tag: 'prod', revision: '1-32', overwrite: false });
    expect(plan.source).toBe('sidecar-injector-1-32');
    expect(plan.configuration.metadata.name).toBe('sidecar-injector-revision-tag-prod');
    expect(plan.configuration.metadata.labels).toMatchObject({
      'istio.io/tag': 'prod',
      'istio.io/rev': '1-32',
      app: 'sidecar-injector',
    });
    const entries = plan.configuration.webhooks ?? [];
    expect(entries.map((w) => w.name)).toEqual([
      'rev.namespace.inject.sidecar-injector.io',
      'rev.object.inject.sidecar-injector.io',
    ]);
    const source = base.webhooks?.[0] ?? { name: '' };
    for (const w of entries) {
      for (const field of [
        'clientConfig',
        'rules',
        'failurePolicy',
        'timeoutSeconds',
        'sideEffects',
      ]) {
        expect(w[field], field).toEqual(source[field]);
      }
      // The revision's excluded namespaces stay excluded.
      expect(JSON.stringify(w.namespaceSelector)).toContain('kube-system');
    }
    expect(plan.deletes).toEqual([]);
    expect(plan.deactivates).toEqual([]);
  });

  it('property: every pod the tag configuration selects is one the revision itself accepts once it knows the tag', () => {
    fc.assert(
      fc.property(
        tagName,
        revisionName,
        fc.constantFrom('shop', 'kube-system', 'sidecar-injector'),
        labels,
        labels,
        (tag, revision, ns, nsLabels, podLabels) => {
          fc.pre(tag !== revision);
          const base = baseFor(revision);
          const plan = planTagSet([base], { tag, revision, overwrite: false });
          const learned = tagsPointingAt(
            [base, plan.configuration].map((c) => c.metadata),
            revision,
          );
          expect(learned).toEqual([tag]);
          const viaTag = selects(plan.configuration, ns, nsLabels, podLabels);
          const server = evaluateWebhookSelectors({
            revision: revision === 'default' ? '' : revision,
            tags: learned,
            namespaceName: ns,
            namespaceLabels: nsLabels,
            podLabels,
          });
          if (viaTag) expect(server.matched, JSON.stringify({ nsLabels, podLabels })).toBe(true);
          // And the tag reaches exactly the pods labelled with it (or the default labels for `default`).
          const byTagAlone = evaluateWebhookSelectors({
            revision: tag === 'default' ? '' : tag,
            namespaceName: ns,
            namespaceLabels: nsLabels,
            podLabels,
          });
          const excluded = ['kube-system', 'sidecar-injector'].includes(ns);
          expect(viaTag).toBe(byTagAlone.matched && !excluded);
        },
      ),
    );
  });

  it('the default tag adds the istio-injection entries and neutralises the default revision', () => {
    const plan = planTagSet([SHIPPED, baseFor('1-32')], {
      tag: 'default',
      revision: '1-32',
      overwrite: false,
    });
    expect((plan.configuration.webhooks ?? []).map((w) => w.name.split('.')[0])).toEqual([
      'rev',
      'rev',
      'namespace',
      'object',
    ]);
    expect(plan.deactivates.map((c) => c.metadata.name)).toEqual(['sidecar-injector']);
    for (const w of plan.deactivates[0]?.webhooks ?? []) {
      expect(w.namespaceSelector).toEqual(NEVER_MATCH);
      expect(w.objectSelector).toEqual(NEVER_MATCH);
    }
  });

  it.each<[string, TagWebhookConfiguration[], Parameters<typeof planTagSet>[1], string]>([
    [
      'tag exists',
      [baseFor('1-32'), tagged('prod', '1-31')],
      { tag: 'prod', revision: '1-32', overwrite: false },
      'INJ_ERR_TAG_CONFLICT: revision tag "prod" already exists (istio-revision-tag-prod -> 1-31); pass --overwrite',
    ],
    [
      'tag named like a revision',
      [baseFor('1-32'), baseFor('1-31')],
      { tag: '1-31', revision: '1-32', overwrite: false },
      'INJ_ERR_TAG_CONFLICT: tag "1-31" has the name of an installed revision (sidecar-injector-1-31)',
    ],
    [
      'tag equals its revision',
      [baseFor('1-32')],
      { tag: '1-32', revision: '1-32', overwrite: true },
      'INJ_ERR_TAG_CONFLICT: tag "1-32" cannot point at the revision of the same name',
    ],
    [
      'no such revision',
      [SHIPPED],
      { tag: 'prod', revision: '1-40', overwrite: false },
      'INJ_ERR_REVISION_NOT_FOUND: no sidecar-injector MutatingWebhookConfiguration of revision 1-40',
    ],
    [
      'only istiod serves the revision',
      [
        {
          metadata: { name: 'istio-sidecar-injector-1-40', labels: { 'istio.io/rev': '1-40' } },
          webhooks: [{ name: 'rev.namespace.sidecar-injector.istio.io' }],
        },
      ],
      { tag: 'prod', revision: '1-40', overwrite: false },
      '(found only other injectors: istio-sidecar-injector-1-40)',
    ],
    [
      'two of ours serve the revision',
      [baseFor('1-32', 'a'), baseFor('1-32', 'b')],
      { tag: 'prod', revision: '1-32', overwrite: false },
      'INJ_ERR_TAG_CONFLICT: several sidecar-injector configurations serve revision 1-32: a, b; name one with --webhook-config',
    ],
    [
      'invalid name',
      [baseFor('1-32')],
      { tag: 'Prod_1', revision: '1-32', overwrite: false },
      'INJ_ERR_CLI_USAGE: tag "Prod_1": must consist of lower-case letters',
    ],
  ])('refuses: %s', (_name, all, request, message) => {
    expect(codeOf(() => planTagSet(all, request))).toContain(message);
  });

  it('--overwrite replaces our configuration and deletes other holders of the tag', () => {
    const ours = { ...tagged('prod', '1-31', 'sidecar-injector-revision-tag-prod') };
    ours.metadata.resourceVersion = '42';
    const plan = planTagSet([baseFor('1-32'), ours, tagged('prod', '1-31')], {
      tag: 'prod',
      revision: '1-32',
      overwrite: true,
    });
    expect(plan.replaces).toBe('42');
    expect(plan.deletes).toEqual(['istio-revision-tag-prod']);
    expect(plan.configuration.metadata.labels?.['istio.io/rev']).toBe('1-32');
  });

  it('tag names are RFC 1123 labels short enough for the configuration name', () => {
    expect(tagNameProblem('prod-1')).toBeUndefined();
    expect(tagNameProblem('')).toBe('must not be empty');
    expect(tagNameProblem('-a')).toContain('RFC 1123');
    expect(tagNameProblem('a'.repeat(64))).toContain('at most');
  });
});

describe('tag list and remove', () => {
  it('lists one row per tag and revision with the namespaces using it', () => {
    const rows = tagRows(
      [
        tagged('prod', '1-32'),
        tagged('prod', '1-32', 'sidecar-injector-revision-tag-prod'),
        tagged('stable', ''),
        baseFor('1-32'),
      ],
      new Map([['prod', ['b', 'a']]]),
    );
    expect(rows).toEqual([
      {
        tag: 'prod',
        revision: '1-32',
        configurations: ['istio-revision-tag-prod', 'sidecar-injector-revision-tag-prod'],
        namespaces: ['a', 'b'],
      },
      {
        tag: 'stable',
        revision: 'default',
        configurations: ['istio-revision-tag-stable'],
        namespaces: [],
      },
    ]);
  });

  it('remove names every configuration of the tag, or says the tag does not exist', () => {
    expect(planTagRemove([tagged('prod', '1-32'), baseFor('1-32')], 'prod', ['shop'])).toEqual({
      deletes: ['istio-revision-tag-prod'],
      namespaces: ['shop'],
    });
    expect(codeOf(() => planTagRemove([baseFor('1-32')], 'prod', []))).toContain(
      'INJ_ERR_TAG_NOT_FOUND: revision tag "prod" does not exist',
    );
  });
});
