/**
 * The server-side injection decision (spec §2.2 for the webhook, §2.5 for kube-inject).
 * Reasons are data: every decision carries a stable code and a human sentence; nothing is logged.
 */
import type { InjectorConfig, LabelSelector } from './config/types.js';
import { IGNORED_NAMESPACES } from './config/defaults.js';
import type { Pod, StringMap } from './pod-types.js';
import { isEmptySelector, matchesSelector } from './selectors.js';
import { KEY } from './annotations/keys.js';
import { clip, clipWarning } from './text.js';

export type DecisionReason =
  | 'host-network'
  | 'ignored-namespace'
  | 'pod-label-opt-out'
  | 'pod-annotation-opt-out'
  | 'pod-label-opt-in'
  | 'pod-annotation-opt-in'
  | 'never-inject-selector'
  | 'always-inject-selector'
  | 'policy-enabled'
  | 'policy-disabled'
  | 'invalid-policy';

/** Code -> human text (what a user reads in logs, events and `check` output). */
export const DECISION_REASONS: Readonly<Record<DecisionReason, string>> = Object.freeze({
  'host-network': 'the pod uses the host network (spec.hostNetwork: true)',
  'ignored-namespace': 'the namespace is a system namespace the injector never touches',
  'pod-label-opt-out': `the pod label ${KEY.inject} is "false"`,
  'pod-annotation-opt-out': `the pod annotation ${KEY.inject} is "false"`,
  'pod-label-opt-in': `the pod label ${KEY.inject} is "true"`,
  'pod-annotation-opt-in': `the pod annotation ${KEY.inject} is "true"`,
  'never-inject-selector': 'the pod labels match a neverInjectSelector of the injector config',
  'always-inject-selector': 'the pod labels match an alwaysInjectSelector of the injector config',
  'policy-enabled': 'the injector policy is "enabled" and nothing opts the pod out',
  'policy-disabled': 'the injector policy is "disabled" and nothing opts the pod in',
  'invalid-policy':
    'the injector policy is neither "enabled" nor "disabled", so nothing is injected',
});

export interface Decision {
  inject: boolean;
  reason: DecisionReason;
  /** DECISION_REASONS text, made concrete (namespace name, selector index, policy value). */
  message: string;
  /** Short notes (each <= 120 characters), e.g. an unrecognised inject value that was ignored. */
  warnings: string[];
}

export interface DecideInput {
  pod: Pod;
  /** `request.namespace`; used when the pod carries none (webhook mode only). */
  namespace: string;
  injector: InjectorConfig;
  mode: 'webhook' | 'kube-inject';
}

const warning = clipWarning;

type Switch = { explicit: boolean; source: 'label' | 'annotation' } | undefined;

/** The per-pod switch: the label if present (any value), else the annotation (spec §2.2 step 3). */
function podSwitch(labels: StringMap, annotations: StringMap, warnings: string[]): Switch {
  const fromLabel = Object.hasOwn(labels, KEY.inject);
  const source = fromLabel ? 'label' : 'annotation';
  const value = fromLabel ? labels[KEY.inject] : annotations[KEY.inject];
  if (value === undefined || value === '') return undefined;
  if (value === 'true') return { explicit: true, source };
  if (value === 'false') return { explicit: false, source };
  warnings.push(
    warning(
      `ignored ${source} ${KEY.inject}=${JSON.stringify(clip(value, 24))}: only "true" or "false" count; using the policy`,
    ),
  );
  return undefined;
}

function firstMatch(
  selectors: readonly LabelSelector[],
  labels: StringMap,
  list: string,
  warnings: string[],
): number | undefined {
  for (const [index, selector] of selectors.entries()) {
    if (isEmptySelector(selector)) continue;
    const bad = (selector.matchExpressions ?? []).find(
      (req) => !['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(req.operator),
    );
    if (bad !== undefined) {
      warnings.push(
        warning(`skipped ${list}[${index}]: unsupported operator ${String(bad.operator)}`),
      );
      continue;
    }
    if (matchesSelector(selector, labels)) return index;
  }
  return undefined;
}

function decision(
  inject: boolean,
  reason: DecisionReason,
  detail: string,
  warnings: string[],
): Decision {
  const text = DECISION_REASONS[reason];
  return { inject, reason, message: detail === '' ? text : `${text} (${detail})`, warnings };
}

/** Decides whether the pod gets a sidecar. Pure; `input` is not modified. */
export function decide(input: DecideInput): Decision {
  const { pod, injector, mode } = input;
  const warnings: string[] = [];
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};

  if (pod.spec?.hostNetwork === true) return decision(false, 'host-network', '', warnings);

  // kube-inject looks only at the pod template's own namespace, usually empty (spec §2.5).
  const namespace =
    mode === 'webhook'
      ? pod.metadata?.namespace || input.namespace
      : (pod.metadata?.namespace ?? '');
  if (IGNORED_NAMESPACES.includes(namespace)) {
    return decision(false, 'ignored-namespace', `namespace ${namespace}`, warnings);
  }

  const sw = podSwitch(labels, annotations, warnings);
  const policy = mode === 'kube-inject' ? 'enabled' : injector.policy;
  if (policy !== 'enabled' && policy !== 'disabled') {
    return decision(
      false,
      'invalid-policy',
      `policy ${JSON.stringify(clip(policy, 40))}`,
      warnings,
    );
  }

  if (sw !== undefined) return decision(sw.explicit, switchReason(sw), '', warnings);

  if (mode === 'webhook') {
    const bySelector = selectorDecision(injector, labels, warnings);
    if (bySelector !== undefined) return bySelector;
  }

  return policy === 'enabled'
    ? decision(true, 'policy-enabled', '', warnings)
    : decision(false, 'policy-disabled', '', warnings);
}

function switchReason(sw: NonNullable<Switch>): DecisionReason {
  if (sw.explicit) return sw.source === 'label' ? 'pod-label-opt-in' : 'pod-annotation-opt-in';
  return sw.source === 'label' ? 'pod-label-opt-out' : 'pod-annotation-opt-out';
}

/** The injector config's neverInjectSelector, then alwaysInjectSelector (webhook mode only). */
function selectorDecision(
  injector: InjectorConfig,
  labels: StringMap,
  warnings: string[],
): Decision | undefined {
  const never = firstMatch(injector.neverInjectSelector, labels, 'neverInjectSelector', warnings);
  if (never !== undefined) {
    return decision(false, 'never-inject-selector', `neverInjectSelector[${never}]`, warnings);
  }
  const always = firstMatch(
    injector.alwaysInjectSelector,
    labels,
    'alwaysInjectSelector',
    warnings,
  );
  if (always !== undefined) {
    return decision(true, 'always-inject-selector', `alwaysInjectSelector[${always}]`, warnings);
  }
  return undefined;
}
