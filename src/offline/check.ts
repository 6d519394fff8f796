/**
 * `check`: for every pod or workload of a manifest, would the webhook inject it, and why
 * (like `istioctl x check-inject`). Pure: the explanation steps come from the engine port.
 */
import type { NamespaceInfo } from '../core/contracts.js';
import type { Pod, StringMap } from '../core/k8s.js';
import { getPath, isJsonObject } from '../core/json.js';
import { splitDocuments } from './documents.js';
import type { CheckStep } from './engine.js';
import { objectAt } from './manifest.js';
import { findWorkloads, formatPath, readTemplate } from './workloads.js';

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
  explain: (input: {
    pod: Pod;
    namespace: NamespaceInfo | undefined;
    namespaceName: string;
  }) => CheckStep[];
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
      const steps = options.explain({ pod, namespace: info, namespaceName: namespace });
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
