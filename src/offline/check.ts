/**
 * `check`: for every pod or workload of a manifest, would the webhook inject it, and why
 * (like `istioctl x check-inject`). Pure: the steps come from the webhook's own selectors, decision
 * and pipeline (src/core).
 */
import type { InjectionConfig } from '../core/config/types.js';
import type { NamespaceInfo } from '../core/contracts.js';
import { decide } from '../core/decide.js';
import { inject } from '../core/inject.js';
import type { Pod, StringMap } from '../core/pod-types.js';
import { getPath, isJsonObject } from '../core/json.js';
import { checkPodShape } from '../core/pod-shape.js';
import { evaluateWebhookSelectors, webhookEntriesWithTags } from '../core/webhook-selectors.js';
import { InjectorError, isInjectorError } from '../errors.js';
import { splitDocuments } from './documents.js';
import { objectAt } from './manifest.js';
import { findWorkloads, formatPath, readTemplate } from './find-workloads.js';

/** One step of the `check` explanation. */
export interface CheckStep {
  /**
   * `webhook` (the API server's selectors, spec §2.1), `policy` (the server's decision, spec
   * §2.2), or `injection` (the pipeline refusing the pod, e.g. a bad annotation: what the webhook
   * would deny; only present when it does).
   */
  stage: 'webhook' | 'policy' | 'injection';
  /** Whether this step lets the pod through. */
  pass: boolean;
  /** Stable reason code from the core. */
  reason: string;
  message: string;
}

export interface CheckResult {
  source: string;
  /** `document 2` or `document 2, items[0]`. */
  location: string;
  kind: string;
  name: string;
  namespace: string;
  inject: boolean;
  /** Stable code of the step that decided: the first failing one, else the last one. */
  reason: string;
  steps: CheckStep[];
}

export interface CheckOptions {
  /** Namespace for objects that do not set one. */
  defaultNamespace: string;
  /** Labels and annotations of a namespace, when known (flags or cluster); undefined = unknown. */
  namespaceInfo: (name: string) => NamespaceInfo | undefined;
  config: InjectionConfig;
  /** Revision tags pointing at the configuration's revision (tagsPointingAt), as the server learns them. */
  revisionTags?: readonly string[];
}

export interface ExplainInput {
  pod: Pod;
  namespace: NamespaceInfo | undefined;
  namespaceName: string;
  config: InjectionConfig;
  revisionTags?: readonly string[];
}

/** The webhook-mode explanation of one pod: selectors first (when labels are known), then policy. */
export function explainPod(input: ExplainInput): CheckStep[] {
  const { pod, namespace, namespaceName, config, revisionTags = [] } = input;
  const steps: CheckStep[] = [];
  if (namespace === undefined) {
    steps.push({
      stage: 'webhook',
      pass: true,
      reason: 'namespace-labels-unknown',
      message: `labels of namespace ${namespaceName} unknown (pass --namespace-labels or --kubeconfig): selectors not evaluated`,
    });
  } else {
    const verdict = evaluateWebhookSelectors({
      ...webhookEntriesWithTags(config, revisionTags),
      namespaceName,
      namespaceLabels: namespace.labels,
      podLabels: pod.metadata?.labels ?? {},
    });
    steps.push({
      stage: 'webhook',
      pass: verdict.matched,
      reason: verdict.reason,
      message: verdict.message,
    });
  }
  const decision = decide({
    pod,
    namespace: namespaceName,
    injector: config.injector,
    mode: 'webhook',
  });
  steps.push({
    stage: 'policy',
    pass: decision.inject,
    reason: decision.reason,
    message: decision.message,
  });
  if (decision.inject) {
    const refusal = injectionRefusal(pod, namespaceName, config);
    if (refusal !== undefined) steps.push(refusal);
  }
  return steps;
}

/**
 * Runs the webhook's pipeline on the pod as `inject` and the server do: a pod they reject (a bad
 * annotation, an unknown template, an unreadable pod) is reported as rejected with the code.
 */
function injectionRefusal(
  pod: Pod,
  namespace: string,
  config: InjectionConfig,
): CheckStep | undefined {
  try {
    const shapeError = checkPodShape(pod, '');
    if (shapeError) throw shapeError;
    inject({ pod, namespace, config, cluster: { nativeSidecars: true }, mode: 'webhook' });
    return undefined;
  } catch (error) {
    if (!isInjectorError(error)) throw error;
    return {
      stage: 'injection',
      pass: false,
      reason: error.code,
      message: `the webhook would deny the pod: ${error.message}`,
    };
  }
}

/** Every namespace the workloads of `text` live in (to fetch their labels first). */
export function namespacesOf(text: string, source: string, defaultNamespace: string): string[] {
  const names = new Set<string>();
  for (const document of splitDocuments(text, source)) {
    if (!isJsonObject(document.value)) continue;
    for (const w of findWorkloads(document.value, `${source}: document ${document.index}`)) {
      names.add(w.ref.namespace === '' ? defaultNamespace : w.ref.namespace);
    }
  }
  return [...names];
}

/**
 * The labels of the MutatingWebhookConfiguration documents of `text` (List items included): the
 * revision tags `istioctl tag set` or `sidecar-injector tag set --dry-run` would write, which
 * `check` honours as the server honours the cluster's (src/core/revision-tags.ts).
 */
export function webhookConfigurationLabelsOf(text: string, source: string): StringMap[] {
  const found: StringMap[] = [];
  const visit = (value: unknown, where: string): void => {
    if (!isJsonObject(value)) return;
    if (value.kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach((item, i) => visit(item, `${where}, items[${i}]`));
      return;
    }
    if (
      value.kind !== 'MutatingWebhookConfiguration' ||
      typeof value.apiVersion !== 'string' ||
      !value.apiVersion.startsWith('admissionregistration.k8s.io/')
    ) {
      return;
    }
    const labels = getPath(value, 'metadata.labels');
    if (labels === undefined || labels === null) return;
    if (!isJsonObject(labels)) {
      throw badLabels(source, where, 'metadata.labels', 'must be a map of strings');
    }
    // Keys come from the manifest: a null prototype keeps `__proto__` an ordinary label.
    const copy = Object.create(null) as StringMap;
    for (const [key, v] of Object.entries(labels)) {
      if (typeof v !== 'string') {
        throw badLabels(
          source,
          where,
          `metadata.labels[${key}]`,
          `must be a string, got ${JSON.stringify(v)}`,
        );
      }
      copy[key] = v;
    }
    found.push(copy);
  };
  for (const document of splitDocuments(text, source)) {
    visit(document.value, `document ${document.index}`);
  }
  return found;
}

function badLabels(source: string, where: string, field: string, reason: string): InjectorError {
  return new InjectorError(
    'INJ_ERR_MANIFEST_INVALID',
    `${source}: ${where}: MutatingWebhookConfiguration ${field}: ${reason}`,
    { details: [{ field, reason }] },
  );
}

export function checkManifest(text: string, source: string, options: CheckOptions): CheckResult[] {
  const results: CheckResult[] = [];
  for (const document of splitDocuments(text, source)) {
    const { value } = document;
    if (!isJsonObject(value)) continue;
    const where = `document ${document.index}`;
    for (const workload of findWorkloads(value, `${source}: ${where}`)) {
      const object = objectAt(value, workload.path);
      const pod = readTemplate(object, workload, `${source}: ${where}`);
      // The pods a CronJob creates carry its pod template's metadata (kube-inject's Job-metadata
      // quirk does not apply to what the API server sends the webhook).
      if (workload.ref.kind === 'CronJob') {
        const meta = getPath(object, 'spec.jobTemplate.spec.template.metadata');
        if (isJsonObject(meta)) pod.metadata = meta;
        else delete pod.metadata;
      }
      const namespace =
        workload.ref.namespace === '' ? options.defaultNamespace : workload.ref.namespace;
      const info = options.namespaceInfo(namespace);
      const steps = explainPod({
        pod,
        namespace: info,
        namespaceName: namespace,
        config: options.config,
        ...(options.revisionTags === undefined ? {} : { revisionTags: options.revisionTags }),
      });
      const deciding = steps.find((s) => !s.pass) ?? steps[steps.length - 1];
      results.push({
        source,
        location: workload.path.length === 0 ? where : `${where}, ${formatPath(workload.path)}`,
        kind: workload.ref.kind,
        name: workload.ref.name,
        namespace,
        inject: steps.every((s) => s.pass),
        reason: deciding?.reason ?? 'unknown',
        steps,
      });
    }
  }
  return results;
}

/** One line per workload: `Deployment shop/hello: injected (policy-enabled: ...; ...)`. */
export function renderCheckText(results: readonly CheckResult[]): string {
  if (results.length === 0) return 'no pods or workloads found\n';
  return results
    .map((r) => {
      const rejected = r.steps.some((s) => s.stage === 'injection' && !s.pass);
      const verdict = r.inject
        ? 'will be injected'
        : rejected
          ? 'will be REJECTED'
          : 'will NOT be injected';
      const why = r.steps.map((s) => `${s.stage}: ${s.message} [${s.reason}]`).join('; ');
      return `${r.kind} ${r.namespace}/${r.name}: ${verdict}: ${why}\n`;
    })
    .join('');
}

export function renderCheckJson(results: readonly CheckResult[]): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}

/** Parses `--namespace-labels k=v,k2=v2` (a key without `=` has an empty value). */
export function parseLabelList(text: string): StringMap | { error: string } {
  const labels: StringMap = {};
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = (eq === -1 ? item : item.slice(0, eq)).trim();
    if (key === '') return { error: `"${item}" has no label key` };
    labels[key] = eq === -1 ? '' : item.slice(eq + 1).trim();
  }
  return labels;
}
