/**
 * Webhook self-check: reads the cluster's MutatingWebhookConfigurations and reports
 * - other injectors whose rules and selectors can select the same pods as one of our entries
 *   (istiod beside us, an older revision's configuration, a stale copy of ours): a pod would be
 *   injected twice (what Istio's analyzer reports as IST0139);
 * - our entries whose caBundle does not verify the certificate we serve (the check itself is
 *   passed in: the core does no cryptography on files), and our entries that call another Service
 *   than ours;
 * - entries that put the cluster at risk: failurePolicy Fail without excluding kube-system or our
 *   own namespace, a long timeout under Fail, or Ignore (pods then start without a sidecar).
 * Pure. Selector semantics: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#matching-requests-namespaceselector
 */
import type { LabelSelector, LabelSelectorRequirement } from '../config/types.js';
import { NAMESPACE_NAME_LABEL, REVISION_LABEL } from '../webhook-selectors.js';

export interface WebhookRule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
}

export interface WebhookClientConfig {
  service?: { name?: string; namespace?: string; path?: string; port?: number };
  url?: string;
  /** Base64 PEM, as in the API object. */
  caBundle?: string;
}

export interface MutatingWebhook {
  name: string;
  clientConfig?: WebhookClientConfig;
  rules?: WebhookRule[];
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  failurePolicy?: string;
  timeoutSeconds?: number;
  /** CEL conditions cannot be evaluated here: an entry with them "may" overlap. */
  matchConditions?: unknown[];
}

export interface WebhookConfiguration {
  name: string;
  labels?: Record<string, string>;
  webhooks: MutatingWebhook[];
}

export type WebhookFindingCode =
  | 'own-configuration-missing'
  | 'overlap'
  | 'ca-bundle-missing'
  | 'ca-bundle-mismatch'
  | 'wrong-service'
  | 'fail-without-namespace-exclusion'
  | 'long-timeout-under-fail'
  | 'ignore-policy';

export const WEBHOOK_FINDING_CODES: readonly WebhookFindingCode[] = [
  'own-configuration-missing',
  'overlap',
  'ca-bundle-missing',
  'ca-bundle-mismatch',
  'wrong-service',
  'fail-without-namespace-exclusion',
  'long-timeout-under-fail',
  'ignore-policy',
];

export interface WebhookFinding {
  code: WebhookFindingCode;
  severity: 'warning' | 'info';
  configuration: string;
  /** Entry name; empty for findings about a whole configuration. */
  webhook: string;
  message: string;
  fix: string;
}

/** Verdict of the caBundle check on the certificate we serve. */
export type CaBundleVerdict = { ok: true } | { ok: false; why: string };

export interface WebhookAuditOptions {
  /** Name of our MutatingWebhookConfiguration. */
  ownConfiguration: string;
  /** Our Service (entries of other configurations pointing at it are stale copies). */
  service: { namespace: string; name: string };
  /** Verifies a base64 caBundle against the serving certificate; absent: not checked. */
  verifyCaBundle?: (caBundle: string) => CaBundleVerdict;
  /** timeoutSeconds above this under Fail is reported (API default 10). */
  maxTimeoutUnderFail?: number;
}

/** Kubernetes' default for admissionregistration/v1 when the field is unset. */
const DEFAULT_FAILURE_POLICY = 'Fail';
const DEFAULT_TIMEOUT_SECONDS = 10;

// ---- label selector algebra ------------------------------------------------------------------

interface KeyConstraint {
  /** Allowed values (intersection of every In / matchLabels); undefined: any value. */
  allowed?: Set<string>;
  excluded: Set<string>;
  mustExist: boolean;
  mustNotExist: boolean;
}

function requirementsOf(selector: LabelSelector | undefined): LabelSelectorRequirement[] {
  const reqs: LabelSelectorRequirement[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    reqs.push({ key, operator: 'In', values: [value] });
  }
  return reqs.concat(selector?.matchExpressions ?? []);
}

/**
 * Whether one label set can satisfy every selector at once (a conjunction). An absent or empty
 * selector matches everything, as in webhook configurations. Label values are unbounded, so a key
 * is unsatisfiable only through In sets that exclude each other, In against NotIn, or
 * Exists/In against DoesNotExist. An unknown operator is not satisfiable (the API rejects it).
 */
export function selectorsIntersect(...selectors: (LabelSelector | undefined)[]): boolean {
  const byKey = new Map<string, KeyConstraint>();
  for (const req of selectors.flatMap(requirementsOf)) {
    let c = byKey.get(req.key);
    if (c === undefined) {
      c = { excluded: new Set(), mustExist: false, mustNotExist: false };
      byKey.set(req.key, c);
    }
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In': {
        c.mustExist = true;
        const prev = c.allowed;
        c.allowed = new Set(prev === undefined ? values : values.filter((v) => prev.has(v)));
        break;
      }
      case 'NotIn':
        for (const v of values) c.excluded.add(v);
        break;
      case 'Exists':
        c.mustExist = true;
        break;
      case 'DoesNotExist':
        c.mustNotExist = true;
        break;
      default:
        return false;
    }
  }
  for (const c of byKey.values()) {
    if (c.mustExist && c.mustNotExist) return false;
    if (c.allowed !== undefined && ![...c.allowed].some((v) => !c.excluded.has(v))) return false;
  }
  return true;
}

/** Whether a namespace of this name (with any other labels) can be selected. */
export function canSelectNamespace(selector: LabelSelector | undefined, name: string): boolean {
  return selectorsIntersect(selector, { matchLabels: { [NAMESPACE_NAME_LABEL]: name } });
}

const covers = (list: string[] | undefined, value: string): boolean =>
  list === undefined || list.includes('*') || list.includes(value);

/** Whether the entry is called for a pod CREATE (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#matching-requests-rules). */
export function interceptsPodCreate(webhook: MutatingWebhook): boolean {
  return (webhook.rules ?? []).some(
    (rule) =>
      covers(rule.operations, 'CREATE') &&
      covers(rule.apiGroups, '') &&
      covers(rule.apiVersions, 'v1') &&
      (rule.resources ?? []).some((r) => r === 'pods' || r === '*' || r === '*/*') &&
      (rule.scope === undefined || rule.scope === '*' || rule.scope === 'Namespaced'),
  );
}

function pointsAt(webhook: MutatingWebhook, service: WebhookAuditOptions['service']): boolean {
  const s = webhook.clientConfig?.service;
  return s?.name === service.name && s.namespace === service.namespace;
}

/**
 * Whether an entry of another configuration is a sidecar injector. Other pod-mutating webhooks
 * (policy engines, secret agents) may overlap ours without harm, so they are not reported.
 */
export function isInjectorEntry(
  configuration: WebhookConfiguration,
  webhook: MutatingWebhook,
  options: WebhookAuditOptions,
): boolean {
  if (pointsAt(webhook, options.service)) return true;
  if (configuration.labels !== undefined && Object.hasOwn(configuration.labels, REVISION_LABEL)) {
    return true;
  }
  const path = webhook.clientConfig?.service?.path ?? webhook.clientConfig?.url ?? '';
  return (
    // The entry names injectors use (istiod's `*sidecar-injector.istio.io`, ours
    // `*.inject.sidecar-injector.io`), not any name under a domain that merely contains the words:
    // `record.suite.sidecar-injector.io` is a recorder, not an injector.
    INJECTOR_ENTRY_NAME.test(webhook.name) ||
    /sidecar-injector/.test(configuration.name) ||
    (webhook.clientConfig?.service?.name ?? '').startsWith('istiod') ||
    /\/inject(\/|$)/.test(path.replace(/^https?:\/\/[^/]+/, ''))
  );
}

const INJECTOR_ENTRY_NAME = /(^|\.)(sidecar-injector\.istio\.io|inject\.sidecar-injector\.io)$/;

function overlaps(a: MutatingWebhook, b: MutatingWebhook): boolean {
  return (
    selectorsIntersect(a.namespaceSelector, b.namespaceSelector) &&
    selectorsIntersect(a.objectSelector, b.objectSelector)
  );
}

/** Every finding for the current set of configurations, in a stable order. */
export function auditWebhooks(
  configurations: readonly WebhookConfiguration[],
  options: WebhookAuditOptions,
): WebhookFinding[] {
  const findings: WebhookFinding[] = [];
  const own = configurations.find((c) => c.name === options.ownConfiguration);
  if (own === undefined) {
    findings.push({
      code: 'own-configuration-missing',
      severity: 'warning',
      configuration: options.ownConfiguration,
      webhook: '',
      message: `MutatingWebhookConfiguration ${options.ownConfiguration} does not exist: the API server sends no pod to this injector`,
      fix: 'apply the manifests (manifests/base/mutatingwebhookconfiguration.yaml)',
    });
  }
  const ours = (own?.webhooks ?? []).filter(interceptsPodCreate);

  for (const webhook of ours) {
    findings.push(...caBundleFindings(own?.name ?? '', webhook, options));
    findings.push(...serviceFindings(own?.name ?? '', webhook, options));
  }

  const injectors: { configuration: WebhookConfiguration; webhook: MutatingWebhook }[] = [];
  for (const configuration of configurations) {
    if (configuration === own) continue;
    for (const webhook of configuration.webhooks) {
      if (!interceptsPodCreate(webhook) || !isInjectorEntry(configuration, webhook, options)) {
        continue;
      }
      injectors.push({ configuration, webhook });
      const finding = overlapFinding(configuration, webhook, ours, options);
      if (finding) findings.push(finding);
    }
  }

  for (const webhook of ours) findings.push(...riskFindings(own?.name ?? '', webhook, options));
  for (const { configuration, webhook } of injectors) {
    findings.push(...riskFindings(configuration.name, webhook, options));
  }
  return findings;
}

/** The finding for another injector entry that can take the same pods as one of ours. */
function overlapFinding(
  configuration: WebhookConfiguration,
  webhook: MutatingWebhook,
  ours: readonly MutatingWebhook[],
  options: WebhookAuditOptions,
): WebhookFinding | undefined {
  const with_ = ours.filter((o) => overlaps(o, webhook)).map((o) => o.name);
  if (with_.length === 0) return undefined;
  const copy = pointsAt(webhook, options.service) ? ' (it calls this injector: a copy)' : '';
  const cel =
    (webhook.matchConditions ?? []).length > 0
      ? '; its matchConditions were not evaluated, so the overlap is possible, not certain'
      : '';
  return {
    code: 'overlap',
    severity: 'warning',
    configuration: configuration.name,
    webhook: webhook.name,
    message: `can inject the same pods as ${with_.join(', ')}${copy}: a pod matching both is injected twice${cel}`,
    fix: `delete the stale configuration (kubectl delete mutatingwebhookconfiguration ${configuration.name}) or make the selectors exclusive (different ${REVISION_LABEL} values)`,
  };
}

function caBundleFindings(
  configuration: string,
  webhook: MutatingWebhook,
  options: WebhookAuditOptions,
): WebhookFinding[] {
  const verify = options.verifyCaBundle;
  const client = webhook.clientConfig;
  if (verify === undefined || client === undefined) return [];
  const base = { severity: 'warning' as const, configuration, webhook: webhook.name };
  const fix = `set clientConfig.caBundle of ${webhook.name} to the base64 PEM of the CA that issued the serving certificate`;
  if (client.caBundle === undefined || client.caBundle === '') {
    // A URL without a caBundle is verified against the API server's system roots: not ours to
    // judge. A URL with one is verified against it, as a service is.
    if (client.service === undefined) return [];
    return [
      {
        ...base,
        code: 'ca-bundle-missing',
        message: 'no caBundle: the API server cannot verify the injector and every call fails',
        fix,
      },
    ];
  }
  const verdict = verify(client.caBundle);
  if (verdict.ok) return [];
  return [
    {
      ...base,
      code: 'ca-bundle-mismatch',
      message: `the caBundle does not verify the certificate this injector serves (${verdict.why}): every call fails`,
      fix,
    },
  ];
}

/**
 * An entry of our configuration that calls another Service: the API server sends those pods
 * there, or (no such Service, no endpoints) fails every call. A URL entry is not judged: where a
 * URL leads is not visible from here.
 */
function serviceFindings(
  configuration: string,
  webhook: MutatingWebhook,
  options: WebhookAuditOptions,
): WebhookFinding[] {
  const service = webhook.clientConfig?.service;
  if (service === undefined || pointsAt(webhook, options.service)) return [];
  const ours = `${options.service.namespace}/${options.service.name}`;
  return [
    {
      code: 'wrong-service',
      severity: 'warning',
      configuration,
      webhook: webhook.name,
      message: `calls Service ${service.namespace ?? ''}/${service.name ?? ''}, not this injector's ${ours}: the pods it selects are sent elsewhere, or every call fails`,
      fix: `set clientConfig.service of ${webhook.name} to {namespace: ${options.service.namespace}, name: ${options.service.name}}`,
    },
  ];
}

function riskFindings(
  configuration: string,
  webhook: MutatingWebhook,
  options: WebhookAuditOptions,
): WebhookFinding[] {
  const findings: WebhookFinding[] = [];
  const policy = webhook.failurePolicy ?? DEFAULT_FAILURE_POLICY;
  const base = { configuration, webhook: webhook.name };
  if (policy === 'Fail') {
    const exposed = ['kube-system', options.service.namespace].filter(
      (ns, i, all) => all.indexOf(ns) === i && canSelectNamespace(webhook.namespaceSelector, ns),
    );
    if (exposed.length > 0) {
      findings.push({
        ...base,
        code: 'fail-without-namespace-exclusion',
        severity: 'warning',
        message: `failurePolicy Fail and the namespaceSelector does not exclude ${exposed.join(', ')}: while the injector is down, pods there cannot be created (the injector's own included)`,
        fix: `add {key: ${NAMESPACE_NAME_LABEL}, operator: NotIn, values: [${exposed.join(', ')}]} to the namespaceSelector`,
      });
    }
    const timeout = webhook.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const max = options.maxTimeoutUnderFail ?? DEFAULT_TIMEOUT_SECONDS;
    if (timeout > max) {
      findings.push({
        ...base,
        code: 'long-timeout-under-fail',
        severity: 'warning',
        message: `timeoutSeconds ${timeout} under failurePolicy Fail: a slow injector holds every pod creation up to ${timeout}s`,
        fix: `set timeoutSeconds to ${max} or less`,
      });
    }
  } else if (policy === 'Ignore') {
    findings.push({
      ...base,
      code: 'ignore-policy',
      severity: 'info',
      message:
        'failurePolicy Ignore: pods created while the injector is unavailable start without a sidecar (the pod audit reports them)',
      fix: 'use failurePolicy Fail with at least two replicas, or restart the reported workloads',
    });
  }
  return findings;
}

export const webhookFindingKey = (f: WebhookFinding): string =>
  `${f.code}\u0000${f.configuration}\u0000${f.webhook}`;

export const sameWebhookFinding = (a: WebhookFinding, b: WebhookFinding): boolean =>
  a.message === b.message;
