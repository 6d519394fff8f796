/**
 * In-process evaluation of the MutatingWebhookConfiguration entries Istio's chart installs
 * (spec §2.1): which entry would make the API server call the injector for a pod, or why none.
 * The server uses it to honour namespace labels itself; the offline `check` command explains it.
 * Selector semantics: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#matching-requests-namespaceselector
 */
import type { InjectionConfig, LabelSelector, LabelSelectorRequirement } from './config/types.js';
import { IGNORED_NAMESPACES } from './config/defaults.js';
import { deepFreeze } from './config/merge.js';
import { getPath } from './json.js';
import type { StringMap } from './pod-types.js';
import { matchesSelector } from './selectors.js';
import { KEY, LABEL } from './annotations/keys.js';
import { boundedCache, memoByIdentity } from './bounded-cache.js';

export const NAMESPACE_INJECTION_LABEL = LABEL.namespaceInjection;
/** Namespace and pod label selecting a revision (the same key as the pod annotation). */
export const REVISION_LABEL = KEY.rev;
/** Set by Kubernetes on every namespace (1.21+). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export type WebhookEntryName = 'rev.namespace' | 'rev.object' | 'namespace' | 'object' | 'auto';

export interface WebhookEntry {
  name: WebhookEntryName;
  /** The `istio.io/rev` value this entry answers to (a revision or a tag); `default` for the default. */
  revision: string;
  namespaceSelector: LabelSelector;
  objectSelector: LabelSelector;
}

export interface WebhookEntriesOptions {
  /** Our revision; `default` (or empty) for the default revision. */
  revision: string;
  /** Revision tags pointing at us; a tag named `default` makes us the default revision. */
  tags?: readonly string[];
  /** `sidecarInjectorWebhook.enableNamespacesByDefault`: adds the `auto.` entry. */
  enableNamespacesByDefault?: boolean;
}

/** The entry options the chart derives from an injection configuration (revision, tags, values). */
export function webhookEntriesOptionsOf(config: InjectionConfig): WebhookEntriesOptions {
  return optionsByConfig(config);
}

// Configurations are immutable: derive once per configuration, not once per request.
const optionsByConfig = memoByIdentity(deriveEntriesOptions);

/**
 * The configuration's entries with the revision tags learned from the cluster added to
 * `values.revisionTags` (sorted, without repeats, so the entry cache sees one key per tag set).
 */
export function webhookEntriesWithTags(
  config: InjectionConfig,
  learned: readonly string[],
): WebhookEntriesOptions {
  const entries = webhookEntriesOptionsOf(config);
  if (learned.length === 0) return entries;
  // The learned array is replaced only when the cluster's tags change: merge once per pair.
  const cached = withTagsByLearned.get(learned);
  if (cached?.config === config) return cached.options;
  const options = {
    ...entries,
    tags: [...new Set([...(entries.tags ?? []), ...learned])].sort(),
  };
  withTagsByLearned.set(learned, { config, options });
  return options;
}

const withTagsByLearned = new WeakMap<
  readonly string[],
  { config: InjectionConfig; options: WebhookEntriesOptions }
>();

function deriveEntriesOptions(config: InjectionConfig): WebhookEntriesOptions {
  const tags = getPath(config.values, 'revisionTags');
  return {
    revision: config.revision === 'default' ? '' : config.revision,
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
    enableNamespacesByDefault:
      getPath(config.values, 'sidecarInjectorWebhook.enableNamespacesByDefault') === true,
  };
}

const notFalse: LabelSelectorRequirement = {
  key: KEY.inject,
  operator: 'NotIn',
  values: ['false'],
};
const noInjectionLabel: LabelSelectorRequirement = {
  key: NAMESPACE_INJECTION_LABEL,
  operator: 'DoesNotExist',
};
const noRevisionLabel: LabelSelectorRequirement = { key: REVISION_LABEL, operator: 'DoesNotExist' };

/** The entries the chart renders for a revision, in the chart's order. */
/** Entries by option set: the few option sets in use each build their selectors once. */
const entriesByOptions = boundedCache<readonly WebhookEntry[]>(64);

export function webhookEntries(options: WebhookEntriesOptions): readonly WebhookEntry[] {
  const key = JSON.stringify([
    options.revision,
    options.tags ?? [],
    options.enableNamespacesByDefault === true,
  ]);
  return entriesByOptions.get(key, () => deepFreeze(buildWebhookEntries(options)));
}

function buildWebhookEntries(options: WebhookEntriesOptions): WebhookEntry[] {
  const revision = options.revision === '' ? 'default' : options.revision;
  const names = [revision, ...(options.tags ?? []).filter((t) => t !== revision)];
  const entries: WebhookEntry[] = [];
  for (const rev of names) {
    entries.push(
      {
        name: 'rev.namespace',
        revision: rev,
        namespaceSelector: {
          matchExpressions: [
            { key: REVISION_LABEL, operator: 'In', values: [rev] },
            noInjectionLabel,
          ],
        },
        objectSelector: { matchExpressions: [notFalse] },
      },
      {
        name: 'rev.object',
        revision: rev,
        namespaceSelector: { matchExpressions: [noRevisionLabel, noInjectionLabel] },
        objectSelector: {
          matchExpressions: [notFalse, { key: REVISION_LABEL, operator: 'In', values: [rev] }],
        },
      },
    );
  }
  if (names.includes('default')) {
    entries.push(
      {
        name: 'namespace',
        revision: 'default',
        namespaceSelector: {
          matchExpressions: [
            { key: NAMESPACE_INJECTION_LABEL, operator: 'In', values: ['enabled'] },
          ],
        },
        objectSelector: { matchExpressions: [notFalse] },
      },
      {
        name: 'object',
        revision: 'default',
        namespaceSelector: { matchExpressions: [noInjectionLabel, noRevisionLabel] },
        objectSelector: {
          matchExpressions: [
            { key: KEY.inject, operator: 'In', values: ['true'] },
            noRevisionLabel,
          ],
        },
      },
    );
    if (options.enableNamespacesByDefault === true) {
      entries.push({
        name: 'auto',
        revision: 'default',
        namespaceSelector: {
          matchExpressions: [
            noInjectionLabel,
            noRevisionLabel,
            { key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: [...IGNORED_NAMESPACES] },
          ],
        },
        objectSelector: {
          matchExpressions: [{ key: KEY.inject, operator: 'DoesNotExist' }, noRevisionLabel],
        },
      });
    }
  }
  return entries;
}

export type WebhookSelectorReason =
  | 'namespace-revision-label'
  | 'pod-revision-label'
  | 'namespace-injection-label'
  | 'pod-inject-label'
  | 'namespaces-by-default'
  | 'namespace-injection-disabled'
  | 'pod-label-opt-out'
  | 'not-default-revision'
  | 'revision-mismatch'
  | 'ignored-namespace'
  | 'no-injection-label';

/** Code -> human text, in the style of `istioctl x check-inject`. */
export const WEBHOOK_SELECTOR_REASONS: Readonly<Record<WebhookSelectorReason, string>> =
  Object.freeze({
    'namespace-revision-label': 'Namespace label istio.io/rev matches',
    'pod-revision-label': 'Pod label istio.io/rev matches',
    'namespace-injection-label': 'Namespace label istio-injection=enabled matches',
    'pod-inject-label': `Pod label ${KEY.inject}=true matches`,
    'namespaces-by-default': 'Namespaces are injected by default (enableNamespacesByDefault)',
    'namespace-injection-disabled': 'Namespace label istio-injection disables injection',
    'pod-label-opt-out': `Pod label ${KEY.inject}=false opts the pod out`,
    'not-default-revision': 'The injection label selects the default revision, not this one',
    'revision-mismatch': 'The istio.io/rev label selects another revision',
    'ignored-namespace': 'System namespaces are never injected by default',
    'no-injection-label': 'No injection label on the namespace or the pod',
  });

export interface WebhookSelectorInput extends WebhookEntriesOptions {
  namespaceName: string;
  namespaceLabels: StringMap;
  podLabels: StringMap;
}

export interface WebhookSelectorResult {
  matched: boolean;
  /** The entry that matched, when one did. */
  entry?: WebhookEntryName;
  /** The `istio.io/rev` value (revision or tag) of the matched entry. */
  matchedRevision?: string;
  reason: WebhookSelectorReason;
  message: string;
}

const MATCH_REASON: Record<WebhookEntryName, WebhookSelectorReason> = {
  'rev.namespace': 'namespace-revision-label',
  'rev.object': 'pod-revision-label',
  namespace: 'namespace-injection-label',
  object: 'pod-inject-label',
  auto: 'namespaces-by-default',
};

function matchMessage(entry: WebhookEntry): string {
  switch (entry.name) {
    case 'rev.namespace':
      return `Namespace label ${REVISION_LABEL}=${entry.revision} matches`;
    case 'rev.object':
      return `Pod label ${REVISION_LABEL}=${entry.revision} matches`;
    case 'namespace':
    case 'object':
    case 'auto':
      return WEBHOOK_SELECTOR_REASONS[MATCH_REASON[entry.name]];
  }
}

function miss(reason: WebhookSelectorReason, message: string): WebhookSelectorResult {
  return { matched: false, reason, message };
}

/**
 * Evaluates the entries for a namespace and pod. The first matching entry is reported; when none
 * matches, the most specific cause is given (namespace opt-out, pod opt-out, revision, no label).
 */
export function evaluateWebhookSelectors(input: WebhookSelectorInput): WebhookSelectorResult {
  const entries = webhookEntries(input);
  const nsLabels: StringMap = {
    [NAMESPACE_NAME_LABEL]: input.namespaceName,
    ...input.namespaceLabels,
  };
  const podLabels = input.podLabels;
  return (
    firstMatchingEntry(entries, nsLabels, podLabels) ??
    whyNoMatch(input, entries, nsLabels, podLabels)
  );
}

function firstMatchingEntry(
  entries: readonly WebhookEntry[],
  nsLabels: StringMap,
  podLabels: StringMap,
): WebhookSelectorResult | undefined {
  for (const entry of entries) {
    if (
      matchesSelector(entry.namespaceSelector, nsLabels) &&
      matchesSelector(entry.objectSelector, podLabels)
    ) {
      const shadowed = nsLabels[REVISION_LABEL];
      // Both labels on a namespace is a common mistake: istio-injection wins (istio/istio#43621).
      const note =
        entry.name === 'namespace' && shadowed !== undefined
          ? ` (namespace label ${REVISION_LABEL}=${shadowed} is ignored: ${NAMESPACE_INJECTION_LABEL} takes precedence)`
          : '';
      return {
        matched: true,
        entry: entry.name,
        matchedRevision: entry.revision,
        reason: MATCH_REASON[entry.name],
        message: matchMessage(entry) + note,
      };
    }
  }
  return undefined;
}

/** The most specific reason none of the entries matched. */
function whyNoMatch(
  input: WebhookSelectorInput,
  entries: readonly WebhookEntry[],
  nsLabels: StringMap,
  podLabels: StringMap,
): WebhookSelectorResult {
  const ours = new Set(entries.map((e) => e.revision));
  const self = input.revision === '' ? 'default' : input.revision;
  const nsInjection = nsLabels[NAMESPACE_INJECTION_LABEL];
  const nsRevision = nsLabels[REVISION_LABEL];
  const podRevision = podLabels[REVISION_LABEL];
  const podInject = podLabels[KEY.inject];

  if (nsInjection !== undefined && nsInjection !== 'enabled') {
    return miss(
      'namespace-injection-disabled',
      nsInjection === 'disabled'
        ? `Namespace label ${NAMESPACE_INJECTION_LABEL}=disabled disables injection`
        : `Namespace label ${NAMESPACE_INJECTION_LABEL}=${nsInjection} disables injection (only "enabled" turns it on)`,
    );
  }
  if (podInject === 'false') {
    return miss('pod-label-opt-out', WEBHOOK_SELECTOR_REASONS['pod-label-opt-out']);
  }
  if (nsInjection === 'enabled') {
    return miss(
      'not-default-revision',
      `Namespace label ${NAMESPACE_INJECTION_LABEL}=enabled selects the default revision, not ${self}`,
    );
  }
  if (nsRevision !== undefined && !ours.has(nsRevision)) {
    return miss(
      'revision-mismatch',
      `Namespace label ${REVISION_LABEL}=${nsRevision} selects another revision than ${self}`,
    );
  }
  if (podRevision !== undefined && !ours.has(podRevision)) {
    return miss(
      'revision-mismatch',
      `Pod label ${REVISION_LABEL}=${podRevision} selects another revision than ${self}`,
    );
  }
  if (podInject === 'true' && !ours.has('default')) {
    return miss(
      'not-default-revision',
      `Pod label ${KEY.inject}=true selects the default revision, not ${self}`,
    );
  }
  if (
    input.enableNamespacesByDefault === true &&
    IGNORED_NAMESPACES.includes(input.namespaceName)
  ) {
    return miss('ignored-namespace', `Namespace ${input.namespaceName} is a system namespace`);
  }
  const unknownPodValue =
    podInject !== undefined && podInject !== 'true'
      ? `; pod label ${KEY.inject}=${podInject} is neither "true" nor "false"`
      : '';
  return miss(
    'no-injection-label',
    `No injection label: label the namespace ${NAMESPACE_INJECTION_LABEL}=enabled or ${REVISION_LABEL}=${self}, or the pod ${KEY.inject}=true${unknownPodValue}`,
  );
}
