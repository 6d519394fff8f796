/**
 * Revision tags as `istioctl tag` represents them in a cluster: a MutatingWebhookConfiguration
 * labelled `istio.io/tag=<tag>` and `istio.io/rev=<revision>` whose entries select
 * `istio.io/rev=<tag>` (and, for the tag `default`, `istio-injection=enabled`). Two uses:
 * - the server learns which tags point at its revision from the configurations it watches;
 * - `sidecar-injector tag set|list|remove` plans the objects to write.
 * Pure: the callers list and write the objects. Behaviour learned from Istio's
 * istioctl/pkg/tag (generate.go, util.go); https://istio.io/latest/docs/setup/upgrade/canary/#stable-revision-labels
 */
import { InjectorError } from '../errors.js';
import type { LabelSelector } from './config/types.js';
import type { StringMap } from './pod-types.js';
import { KEY, LABEL } from './annotations/keys.js';
import { NAMESPACE_INJECTION_LABEL, REVISION_LABEL, webhookEntries } from './webhook-selectors.js';

export const TAG_LABEL = LABEL.tag;
/** The revision written `default` in labels; our flags also accept the empty string for it. */
export const DEFAULT_REVISION = 'default';
/** Names of the tag configurations this tool writes (the chart's `revisionTags` use the same). */
export const TAG_CONFIGURATION_PREFIX = 'sidecar-injector-revision-tag-';
/** Suffix of our entry names: never istiod's `sidecar-injector.istio.io` (docs/istio.md). */
export const ENTRY_SUFFIX = 'inject.sidecar-injector.io';
/** What istioctl writes into entries it neutralises instead of deleting (util.NeverMatch). */
export const NEVER_MATCH: LabelSelector = Object.freeze({
  matchExpressions: [{ key: 'istio.io/deactivated', operator: 'In', values: ['never-match'] }],
}) as LabelSelector;

/** A MutatingWebhookConfiguration as JSON: fields this module does not read are kept as they are. */
export interface TagWebhookConfiguration {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    labels?: StringMap;
    annotations?: StringMap;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  webhooks?: TagWebhookEntry[];
  [key: string]: unknown;
}

export interface TagWebhookEntry {
  name: string;
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  [key: string]: unknown;
}

const normalRevision = (rev: string): string => (rev === '' ? DEFAULT_REVISION : rev);

/** `tag -> revision` for every configuration carrying both labels, sorted by tag. */
export function revisionTagsOf(
  configurations: readonly { labels?: StringMap | undefined }[],
): Map<string, string> {
  const pairs: [string, string][] = [];
  for (const c of configurations) {
    const labels = c.labels;
    if (labels === undefined) continue;
    const tag = Object.hasOwn(labels, TAG_LABEL) ? labels[TAG_LABEL] : undefined;
    const rev = Object.hasOwn(labels, REVISION_LABEL) ? labels[REVISION_LABEL] : undefined;
    if (tag === undefined || tag === '' || rev === undefined) continue;
    pairs.push([tag, normalRevision(rev)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(pairs);
}

/**
 * The tags that point at `revision` (sorted, without the revision's own name). A tag claimed by
 * several configurations counts when any of them points at us: the API server calls each of them.
 */
export function tagsPointingAt(
  configurations: readonly { labels?: StringMap | undefined }[],
  revision: string,
): string[] {
  const self = normalRevision(revision);
  const tags = new Set<string>();
  for (const c of configurations) {
    const labels = c.labels;
    if (labels === undefined) continue;
    const tag = Object.hasOwn(labels, TAG_LABEL) ? labels[TAG_LABEL] : undefined;
    const rev = Object.hasOwn(labels, REVISION_LABEL) ? labels[REVISION_LABEL] : undefined;
    if (tag === undefined || tag === '' || tag === self || rev === undefined) continue;
    if (normalRevision(rev) === self) tags.add(tag);
  }
  return [...tags].sort();
}

/** Label values and the name part of `sidecar-injector-revision-tag-<tag>` (RFC 1123 label). */
const TAG_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_TAG_LENGTH = 63 - TAG_CONFIGURATION_PREFIX.length;

/** Why a tag name is unusable, or undefined. */
export function tagNameProblem(tag: string): string | undefined {
  if (tag === '') return 'must not be empty';
  if (tag.length > MAX_TAG_LENGTH) {
    return `must be at most ${MAX_TAG_LENGTH} characters (it becomes part of the configuration name ${TAG_CONFIGURATION_PREFIX}<tag>), got ${tag.length}`;
  }
  if (!TAG_NAME.test(tag)) {
    return 'must consist of lower-case letters, digits and "-", starting and ending with a letter or digit (an RFC 1123 label)';
  }
  return undefined;
}

const hasLabel = (c: TagWebhookConfiguration, key: string): boolean =>
  c.metadata.labels !== undefined && Object.hasOwn(c.metadata.labels, key);
const labelOf = (c: TagWebhookConfiguration, key: string): string | undefined =>
  hasLabel(c, key) ? c.metadata.labels?.[key] : undefined;

/** Configurations of a revision itself: `istio.io/rev=<rev>` and no `istio.io/tag`. */
export function revisionConfigurations(
  all: readonly TagWebhookConfiguration[],
  revision: string,
): TagWebhookConfiguration[] {
  const rev = normalRevision(revision);
  return all.filter(
    (c) =>
      !hasLabel(c, TAG_LABEL) &&
      labelOf(c, REVISION_LABEL) !== undefined &&
      normalRevision(labelOf(c, REVISION_LABEL) ?? '') === rev,
  );
}

/** Configurations carrying `istio.io/tag=<tag>` (ours, istioctl's, the chart's). */
export function tagConfigurations(
  all: readonly TagWebhookConfiguration[],
  tag: string,
): TagWebhookConfiguration[] {
  return all.filter((c) => labelOf(c, TAG_LABEL) === tag);
}

const isOurs = (c: TagWebhookConfiguration): boolean =>
  (c.webhooks ?? []).some((w) => w.name.endsWith(`.${ENTRY_SUFFIX}`));

export interface TagSetRequest {
  tag: string;
  /** The revision the tag points at (`default` or empty for the default revision). */
  revision: string;
  /** Replace a tag that exists, and allow a tag with the name of a revision. */
  overwrite: boolean;
  /** Our revision's configuration, when there may be several (else found by labels). */
  webhookConfiguration?: string;
}

export interface TagSetPlan {
  /** The tag configuration to create, or to replace when `replaces` is set. */
  configuration: TagWebhookConfiguration;
  /** The resourceVersion of the configuration of the same name being replaced. */
  replaces?: string;
  /** Other configurations holding the same tag, deleted with --overwrite (they would match too). */
  deletes: string[];
  /**
   * For the tag `default`: configurations of the default revision whose entries are neutralised
   * (istioctl's DeactivateIstioInjectionWebhook), so `istio-injection=enabled` pods are not
   * injected twice. Whole objects, ready to replace.
   */
  deactivates: TagWebhookConfiguration[];
  /** The revision's configuration the tag was built from. */
  source: string;
}

function conflict(message: string, field: string, value: string, reason: string): InjectorError {
  return new InjectorError('INJ_ERR_TAG_CONFLICT', message, {
    details: [{ field, value, reason }],
  });
}

/** The base configuration of `revision`: ours, found by its labels (or named). */
export function findRevisionConfiguration(
  all: readonly TagWebhookConfiguration[],
  revision: string,
  named?: string,
): TagWebhookConfiguration {
  const rev = normalRevision(revision);
  if (named !== undefined) {
    const found = all.find((c) => c.metadata.name === named);
    if (found === undefined) {
      throw new InjectorError(
        'INJ_ERR_REVISION_NOT_FOUND',
        `MutatingWebhookConfiguration ${named} (--webhook-config) does not exist`,
        { details: [{ field: '--webhook-config', value: named, reason: 'not found' }] },
      );
    }
    if (
      hasLabel(found, TAG_LABEL) ||
      normalRevision(labelOf(found, REVISION_LABEL) ?? '') !== rev
    ) {
      throw conflict(
        `MutatingWebhookConfiguration ${named} is not the configuration of revision ${rev} (labels ${REVISION_LABEL}=${labelOf(found, REVISION_LABEL) ?? '(none)'}${hasLabel(found, TAG_LABEL) ? `, ${TAG_LABEL}=${labelOf(found, TAG_LABEL) ?? ''}` : ''})`,
        '--webhook-config',
        named,
        'labels do not name the revision',
      );
    }
    return found;
  }
  const candidates = revisionConfigurations(all, rev).filter(isOurs);
  if (candidates.length === 0) {
    const others = revisionConfigurations(all, rev).map((c) => c.metadata.name);
    throw new InjectorError(
      'INJ_ERR_REVISION_NOT_FOUND',
      `no sidecar-injector MutatingWebhookConfiguration of revision ${rev} (label ${REVISION_LABEL}=${rev}, no ${TAG_LABEL}, entries named *.${ENTRY_SUFFIX}): install the chart with revision=${rev === DEFAULT_REVISION ? '""' : rev} first${others.length > 0 ? ` (found only other injectors: ${others.join(', ')})` : ''}`,
      { details: [{ field: '--revision', value: rev, reason: 'no configuration of ours' }] },
    );
  }
  if (candidates.length > 1) {
    throw conflict(
      `several sidecar-injector configurations serve revision ${rev}: ${candidates.map((c) => c.metadata.name).join(', ')}; name one with --webhook-config`,
      '--revision',
      rev,
      'ambiguous',
    );
  }
  return candidates[0] as TagWebhookConfiguration;
}

/** The fields of an entry the tag copies from the revision's own entry (all but name and selectors). */
function entryTemplate(base: TagWebhookConfiguration): Omit<TagWebhookEntry, 'name'> {
  const entries = base.webhooks ?? [];
  const first =
    entries.find((w) => w.name.startsWith('rev.namespace.')) ??
    entries.find((w) => w.name.endsWith(`.${ENTRY_SUFFIX}`));
  if (first === undefined) {
    throw conflict(
      `MutatingWebhookConfiguration ${base.metadata.name} has no entry named *.${ENTRY_SUFFIX} to copy the service and caBundle from`,
      'webhooks',
      base.metadata.name,
      'no entry of ours',
    );
  }
  const template: Record<string, unknown> = structuredClone({ ...first });
  delete template.name;
  delete template.namespaceSelector;
  delete template.objectSelector;
  return template;
}

/** The keys the injection entries select on; everything else is the operator's own scoping. */
const INJECTION_KEYS = new Set<string>([REVISION_LABEL, NAMESPACE_INJECTION_LABEL, KEY.inject]);

interface ExtraSelectors {
  namespace: LabelSelector;
  object: LabelSelector;
}

/**
 * The revision's own scoping beyond the injection labels (the chart's excluded namespaces, its
 * `webhook.namespaceSelector`/`objectSelector`), taken from its `rev.namespace` entry, so the
 * tag never reaches a namespace the revision itself would not.
 */
function extraExpressions(base: TagWebhookConfiguration): ExtraSelectors {
  const entry =
    (base.webhooks ?? []).find((w) => w.name.startsWith('rev.namespace.')) ??
    (base.webhooks ?? []).find((w) => w.name.endsWith(`.${ENTRY_SUFFIX}`));
  const keep = (selector: LabelSelector | undefined): LabelSelector => ({
    ...(selector?.matchLabels === undefined ? {} : { matchLabels: { ...selector.matchLabels } }),
    matchExpressions: structuredClone(
      (selector?.matchExpressions ?? []).filter((r) => !INJECTION_KEYS.has(r.key)),
    ),
  });
  return { namespace: keep(entry?.namespaceSelector), object: keep(entry?.objectSelector) };
}

function withExtra(selector: LabelSelector, extra: LabelSelector): LabelSelector {
  return {
    ...(extra.matchLabels === undefined ? {} : { matchLabels: { ...extra.matchLabels } }),
    matchExpressions: [
      ...structuredClone(selector.matchExpressions ?? []),
      ...structuredClone(extra.matchExpressions ?? []),
    ],
  };
}

/** `rev.namespace.inject.sidecar-injector.io` -> `inject.sidecar-injector.io` (its suffix). */
function suffixOf(base: TagWebhookConfiguration): string {
  for (const w of base.webhooks ?? []) {
    for (const prefix of ['rev.namespace.', 'rev.object.', 'namespace.', 'object.', 'auto.']) {
      if (w.name.startsWith(prefix)) return w.name.slice(prefix.length);
    }
  }
  return ENTRY_SUFFIX;
}

/**
 * Plans `tag set`: the tag configuration built from the revision's own (same service, caBundle,
 * rules, failurePolicy, timeout), with the selectors of src/core/webhook-selectors.ts for the tag.
 * Throws INJ_ERR_TAG_CONFLICT / INJ_ERR_REVISION_NOT_FOUND with what to do.
 */
export function planTagSet(
  all: readonly TagWebhookConfiguration[],
  request: TagSetRequest,
): TagSetPlan {
  const problem = tagNameProblem(request.tag);
  if (problem !== undefined) {
    throw new InjectorError('INJ_ERR_CLI_USAGE', `tag "${request.tag}": ${problem}`, {
      details: [{ field: 'tag', value: request.tag, reason: problem }],
    });
  }
  const revision = normalRevision(request.revision);
  if (request.tag === revision) {
    throw conflict(
      `tag "${request.tag}" cannot point at the revision of the same name`,
      'tag',
      request.tag,
      'tag equals revision',
    );
  }
  const base = findRevisionConfiguration(all, revision, request.webhookConfiguration);
  const name = `${TAG_CONFIGURATION_PREFIX}${request.tag}`;
  const existing = tagConfigurations(all, request.tag);
  if (!request.overwrite) {
    // As istioctl: a tag that exists is replaced only on request, even when it points here already.
    if (existing.length > 0) {
      const what = existing
        .map((c) => `${c.metadata.name} -> ${labelOf(c, REVISION_LABEL) ?? '?'}`)
        .join(', ');
      throw conflict(
        `revision tag "${request.tag}" already exists (${what}); pass --overwrite to point it at ${revision}`,
        'tag',
        request.tag,
        'exists',
      );
    }
    const sameName = revisionConfigurations(all, request.tag);
    if (request.tag !== DEFAULT_REVISION && sameName.length > 0) {
      throw conflict(
        `tag "${request.tag}" has the name of an installed revision (${sameName.map((c) => c.metadata.name).join(', ')}): namespaces labelled ${REVISION_LABEL}=${request.tag} would be selected by both; choose another tag or pass --overwrite`,
        'tag',
        request.tag,
        'revision of that name exists',
      );
    }
    const taken = all.find((c) => c.metadata.name === name);
    if (taken !== undefined) {
      throw conflict(
        `MutatingWebhookConfiguration ${name} exists without the label ${TAG_LABEL}=${request.tag}; it was not written by tag set: remove it or pass --overwrite`,
        'tag',
        request.tag,
        'name taken',
      );
    }
  }
  const template = entryTemplate(base);
  const extra = extraExpressions(base);
  const suffix = suffixOf(base);
  const autoInject = (base.webhooks ?? []).some((w) => w.name.startsWith('auto.'));
  const entries: TagWebhookEntry[] = webhookEntries({
    revision: request.tag,
    enableNamespacesByDefault: autoInject,
  })
    .filter((e) => request.tag === DEFAULT_REVISION || e.revision === request.tag)
    .map((e) => ({
      name: `${e.name}.${suffix}`,
      ...structuredClone(template),
      namespaceSelector: withExtra(e.namespaceSelector, extra.namespace),
      objectSelector: withExtra(e.objectSelector, extra.object),
    }));
  const labels: StringMap = {};
  for (const [k, v] of Object.entries(base.metadata.labels ?? {})) {
    // Helm's ownership labels would make the tag look like part of the release.
    if (k.startsWith('helm.sh/') || k === 'app.kubernetes.io/managed-by') continue;
    labels[k] = v;
  }
  labels.app = 'sidecar-injector';
  labels[REVISION_LABEL] = revision;
  labels[TAG_LABEL] = request.tag;
  const replaced = all.find((c) => c.metadata.name === name);
  const configuration: TagWebhookConfiguration = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name,
      labels,
      ...(base.metadata.annotations === undefined
        ? {}
        : { annotations: structuredClone(base.metadata.annotations) }),
    },
    webhooks: entries,
  };
  const deactivates =
    request.tag === DEFAULT_REVISION
      ? revisionConfigurations(all, DEFAULT_REVISION)
          .map(deactivated)
          .filter((c): c is TagWebhookConfiguration => c !== undefined)
      : [];
  return {
    configuration,
    ...(replaced?.metadata.resourceVersion === undefined
      ? {}
      : { replaces: replaced.metadata.resourceVersion }),
    deletes: existing.map((c) => c.metadata.name).filter((n) => n !== name),
    deactivates,
    source: base.metadata.name,
  };
}

/** Entries selecting the default revision's pods, neutralised; undefined when none is active. */
function deactivated(c: TagWebhookConfiguration): TagWebhookConfiguration | undefined {
  let changed = false;
  const webhooks = (c.webhooks ?? []).map((w) => {
    if (!selectsDefault(w)) return w;
    changed = true;
    return { ...w, namespaceSelector: NEVER_MATCH, objectSelector: NEVER_MATCH };
  });
  return changed ? { ...c, webhooks } : undefined;
}

/**
 * Whether an entry selects pods by the default-revision labels (`istio-injection`,
 * `KEY.inject=true`) or by `istio.io/rev=default`; revision entries of other names
 * are left alone.
 */
function selectsDefault(w: TagWebhookEntry): boolean {
  const text = JSON.stringify([w.namespaceSelector ?? {}, w.objectSelector ?? {}]);
  if (text.includes('istio.io/deactivated')) return false;
  if (/^(rev\.namespace|rev\.object)\./.test(w.name)) {
    return text.includes(`"${DEFAULT_REVISION}"`);
  }
  return /^(namespace|object|auto)\./.test(w.name);
}

export interface TagRemovePlan {
  deletes: string[];
  /** Namespaces still labelled `istio.io/rev=<tag>`: their new pods go uninjected. */
  namespaces: string[];
}

export function planTagRemove(
  all: readonly TagWebhookConfiguration[],
  tag: string,
  labelledNamespaces: readonly string[],
): TagRemovePlan {
  const found = tagConfigurations(all, tag);
  if (found.length === 0) {
    throw new InjectorError(
      'INJ_ERR_TAG_NOT_FOUND',
      `revision tag "${tag}" does not exist: no MutatingWebhookConfiguration carries ${TAG_LABEL}=${tag} (see sidecar-injector tag list)`,
      { details: [{ field: 'tag', value: tag, reason: 'not found' }] },
    );
  }
  return { deletes: found.map((c) => c.metadata.name).sort(), namespaces: [...labelledNamespaces] };
}

export interface TagListRow {
  tag: string;
  revision: string;
  /** Configurations carrying the tag. */
  configurations: string[];
  /** Namespaces labelled `istio.io/rev=<tag>`. */
  namespaces: string[];
}

export function tagRows(
  all: readonly TagWebhookConfiguration[],
  namespacesByTag: ReadonlyMap<string, readonly string[]>,
): TagListRow[] {
  const rows = new Map<string, TagListRow>();
  for (const c of all) {
    const tag = labelOf(c, TAG_LABEL);
    if (tag === undefined || tag === '') continue;
    const revision = normalRevision(labelOf(c, REVISION_LABEL) ?? '');
    const key = `${tag}\u0000${revision}`;
    const row = rows.get(key) ?? {
      tag,
      revision,
      configurations: [],
      namespaces: [...(namespacesByTag.get(tag) ?? [])].sort(),
    };
    row.configurations.push(c.metadata.name);
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) =>
    a.revision === b.revision ? (a.tag < b.tag ? -1 : 1) : a.revision < b.revision ? -1 : 1,
  );
}
