/**
 * The answer to one AdmissionReview, independent of HTTP: decide, inject, and build the response
 * the API server expects (the envelope is read by review-envelope.ts). Pure: configuration,
 * namespace facts, cluster facts and deadline are passed in (src/admission/admit.ts resolves
 * them); it calls the decision, selectors and injection pipeline directly; nothing here logs,
 * reads files or talks to the API server.
 *
 * Contract: the apiserver's `VerifyAdmissionResponse`
 * (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#response).
 */
import { InjectorError, asInjectorError, formatError, type ErrorCode } from '../errors.js';
import type { ClusterFacts, NamespaceLookupResult } from './contracts.js';
import type { InjectionConfig } from './config/types.js';
import { decide } from './decide.js';
import { inject } from './inject.js';
import {
  evaluateWebhookSelectors,
  webhookEntriesWithTags,
  type WebhookSelectorResult,
} from './webhook-selectors.js';
import { checkInjectable, checkPodShape } from './pod-shape.js';
import { encodePatch } from './patch/encode.js';
import type { Pod, StringMap } from './pod-types.js';
import type {
  AdmissionResponse,
  AdmissionReviewResponse,
  ParsedReview,
} from './review-envelope.js';
import { parseAdmissionReview } from './review-envelope.js';
import { clipWarning } from './text.js';

export interface ReviewResult {
  response: AdmissionReviewResponse;
  outcome: ReviewOutcome;
}

/** Past a handful the apiserver starts truncating; a user never needs more than this from one pod. */
const MAX_WARNINGS = 10;

/** What one review needs besides the request, resolved by the caller (src/admission/admit.ts). */
export interface ReviewInput {
  /** The current configuration, read once per request from the provider. */
  config: InjectionConfig;
  /** Cluster facts for this pod (native sidecars, OpenShift, compliance policy). */
  cluster: ClusterFacts;
  /** Result of the namespace lookup; absent when the server has no cluster access (offline mode). */
  namespace?: NamespaceLookupResult;
  /** Env overrides from the URL path (spec §3.5). */
  pathEnv?: StringMap;
  /** True once the request's deadline has passed; checked between stages. */
  deadlineExceeded?: () => boolean;
  /**
   * Revision tags pointing at our revision, learned from the cluster's webhook configurations
   * (src/k8s/webhook-configurations.ts), honoured beside `values.revisionTags`.
   */
  revisionTags?: readonly string[];
}

export type ReviewDecision = 'injected' | 'skipped' | 'denied' | 'ignored';

/** Everything the one log line and the metrics need about a review. */
export interface ReviewOutcome {
  decision: ReviewDecision;
  /** Stable reason code (decision reason, selector reason, or why the request was ignored). */
  reason?: string;
  /** Human text for the reason or the error message. */
  message?: string;
  /** Number of patch operations (0 unless injected). */
  ops: number;
  errorCode?: ErrorCode;
  /** Where the namespace labels came from; `unavailable` means the webhook configuration was trusted. */
  namespaceSource?: NamespaceLookupResult['source'];
  dryRun: boolean;
}

/** Kubernetes Status codes carried in a denial: 400 for a pod we refuse, 504 for a timeout. */
function clampWarnings(warnings: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const warning of warnings) {
    const text = clipWarning(warning);
    if (text.length > 0) seen.add(text);
    if (seen.size >= MAX_WARNINGS) break;
  }
  return [...seen];
}

function envelope(parsed: ParsedReview, response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: parsed.apiVersion, kind: 'AdmissionReview', response };
}

/** Builds the `allowed: false` answer for an error raised while deciding or injecting. */
export function denyReview(
  parsed: ParsedReview,
  error: unknown,
  extra: Pick<ReviewOutcome, 'namespaceSource'> = {},
): ReviewResult {
  const injectorError = asInjectorError(error, 'injection failed unexpectedly');
  const message = formatError(injectorError);
  return {
    response: envelope(parsed, {
      uid: parsed.uid,
      allowed: false,
      status: { code: injectorError.admissionStatus, message },
    }),
    outcome: {
      decision: 'denied',
      reason: injectorError.code,
      message,
      ops: 0,
      errorCode: injectorError.code,
      dryRun: parsed.dryRun,
      ...extra,
    },
  };
}

export function deadlineError(stage: string): InjectorError {
  return new InjectorError(
    'INJ_ERR_DEADLINE_EXCEEDED',
    `the request timeout passed ${stage}; the pod was not injected`,
  );
}

function allow(
  parsed: ParsedReview,
  outcome: Omit<ReviewOutcome, 'dryRun' | 'ops'>,
  warnings: readonly string[] = [],
): ReviewResult {
  const clamped = clampWarnings(warnings);
  return {
    response: envelope(parsed, {
      uid: parsed.uid,
      allowed: true,
      ...(clamped.length > 0 ? { warnings: clamped } : {}),
    }),
    outcome: { ...outcome, ops: 0, dryRun: parsed.dryRun },
  };
}

/** Why a request is let through untouched, or undefined for a Pod CREATE. */
function ignoredReason(parsed: ParsedReview): Omit<ReviewOutcome, 'dryRun' | 'ops'> | undefined {
  // The webhook is registered for CREATE of core/v1 pods; anything else is let through untouched
  // rather than rejected, so a broader webhook configuration never blocks unrelated writes.
  if (parsed.kind !== 'Pod' || parsed.group !== '' || parsed.subResource !== '') {
    const what = parsed.subResource ? `${parsed.kind}/${parsed.subResource}` : parsed.kind;
    return {
      decision: 'ignored',
      reason: 'not-a-pod',
      message: `request is for ${what || 'an unknown kind'}, not a Pod`,
    };
  }
  if (parsed.operation !== 'CREATE') {
    return {
      decision: 'ignored',
      reason: 'not-create',
      message: `operation ${parsed.operation || '(none)'} is not CREATE`,
    };
  }
  return undefined;
}

/** True for the requests the webhook acts on: CREATE of a core/v1 Pod. */
export function isPodCreate(parsed: ParsedReview): boolean {
  return ignoredReason(parsed) === undefined;
}

type Extra = Pick<ReviewOutcome, 'namespaceSource'>;

/**
 * The webhook configuration's selectors, applied here when the namespace labels are known, so a
 * broader (or hand-edited) configuration still gives the answer Istio's would, with the reason.
 * Returns the skip outcome, or the note appended to the decision message.
 */
function selectorGate(
  pod: Pod,
  input: ReviewInput,
): { skip: WebhookSelectorResult; note?: never } | { skip?: never; note: string | undefined } {
  const nsInfo = input.namespace?.namespace;
  if (nsInfo === undefined) {
    return input.namespace?.source === 'unavailable'
      ? { note: 'namespace labels unavailable; trusted the webhook configuration selectors' }
      : { note: undefined };
  }
  const verdict = evaluateWebhookSelectors({
    ...webhookEntriesWithTags(input.config, input.revisionTags ?? []),
    namespaceName: nsInfo.name,
    namespaceLabels: nsInfo.labels,
    podLabels: pod.metadata?.labels ?? {},
  });
  return verdict.matched ? { note: verdict.message } : { skip: verdict };
}

/**
 * Answers one parsed AdmissionReview. Never throws: every failure past the envelope becomes an
 * in-band `allowed: false` (a rejection, which failurePolicy does not override).
 */
export function reviewParsed(parsed: ParsedReview, input: ReviewInput): ReviewResult {
  const ignored = ignoredReason(parsed);
  if (ignored) return allow(parsed, ignored);
  const nsSource = input.namespace?.source;
  const extra: Extra = nsSource === undefined ? {} : { namespaceSource: nsSource };
  if (parsed.object === undefined) {
    return denyReview(
      parsed,
      new InjectorError(
        'INJ_ERR_INVALID_POD',
        'request.object is missing or not a JSON object; a CREATE of a Pod must carry the pod',
        { details: [{ field: 'request.object', reason: 'missing or not an object' }] },
      ),
      extra,
    );
  }
  // Receiving and parsing a huge body count against the deadline; when it has passed already,
  // the shape check and the decision (tens of ms for a 10 000-variable pod) are not worth doing.
  if (input.deadlineExceeded?.()) return denyReview(parsed, deadlineError('before review'), extra);
  const pod = parsed.object as Pod;
  const podError = checkPodShape(pod, 'request.object');
  if (podError) return denyReview(parsed, podError, extra);
  try {
    return decideAndInject(parsed, pod, input, extra);
  } catch (error) {
    return denyReview(parsed, error, extra);
  }
}

function decideAndInject(
  parsed: ParsedReview,
  pod: Pod,
  input: ReviewInput,
  extra: Extra,
): ReviewResult {
  const gate = selectorGate(pod, input);
  if (gate.skip) {
    const { reason, message } = gate.skip;
    return allow(parsed, { decision: 'skipped', reason, message, ...extra });
  }
  const decision = decide({
    pod,
    // Spec §2.2: the pod's own namespace, else the request's (controller-made pods carry none).
    namespace: pod.metadata?.namespace || parsed.namespace,
    injector: input.config.injector,
    mode: 'webhook',
  });
  const message = gate.note ? `${decision.message} (${gate.note})` : decision.message;
  if (!decision.inject) {
    return allow(
      parsed,
      { decision: 'skipped', reason: decision.reason, message, ...extra },
      decision.warnings,
    );
  }
  if (input.deadlineExceeded?.())
    return denyReview(parsed, deadlineError('before injection'), extra);
  const notInjectable = checkInjectable(pod, 'request.object');
  if (notInjectable) return denyReview(parsed, notInjectable, extra);

  const output = inject({
    pod,
    namespace: parsed.namespace,
    config: input.config,
    cluster: input.cluster,
    ...(input.pathEnv && Object.keys(input.pathEnv).length > 0 ? { pathEnv: input.pathEnv } : {}),
    mode: 'webhook',
  });
  if (input.deadlineExceeded?.())
    return denyReview(parsed, deadlineError('during injection'), extra);
  const clash = duplicateContainerName(pod, output.pod);
  if (clash) return denyReview(parsed, clash, extra);

  const warnings = clampWarnings([...decision.warnings, ...output.warnings]);
  const response: AdmissionResponse = { uid: parsed.uid, allowed: true };
  // patch and patchType go together or not at all: the apiserver rejects one without the other.
  if (output.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = encodePatch(output.patch);
  }
  if (warnings.length > 0) response.warnings = warnings;
  return {
    response: envelope(parsed, response),
    outcome: {
      decision: 'injected',
      reason: decision.reason,
      message,
      ops: output.patch.length,
      dryRun: parsed.dryRun,
      ...extra,
    },
  };
}

function containerNames(pod: Pod): Map<string, number> {
  const counts = new Map<string, number>();
  for (const list of [pod.spec?.initContainers, pod.spec?.containers]) {
    for (const container of list ?? []) {
      const name = container.name;
      if (typeof name === 'string') counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Container names are unique across `containers` and `initContainers` (Kubernetes pod
 * validation): a user container named like an injected one (`istio-init` in `containers`, or
 * `istio-proxy` while native sidecars put the proxy in `initContainers`) would make the patched
 * pod invalid, so the pod is refused, naming the container, instead.
 */
function duplicateContainerName(before: Pod, after: Pod): InjectorError | undefined {
  const original = containerNames(before);
  for (const [name, count] of containerNames(after)) {
    if (count <= Math.max(1, original.get(name) ?? 0)) continue;
    const field = 'request.object.spec.containers[].name';
    return new InjectorError(
      'INJ_ERR_INVALID_POD',
      `the pod is malformed: the container name "${name}" is used by a container the injector adds; rename the pod's container "${name}"`,
      {
        details: [
          {
            field,
            value: name,
            reason: 'container names must be unique across containers and initContainers',
          },
        ],
      },
    );
  }
  return undefined;
}

/** Parses and answers one AdmissionReview body; throws only `INJ_ERR_REVIEW_MALFORMED`. */
export function reviewAdmission(body: unknown, input: ReviewInput): ReviewResult {
  return reviewParsed(parseAdmissionReview(body), input);
}
