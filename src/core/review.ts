/**
 * The AdmissionReview contract, independent of HTTP: validate the envelope, decide, inject, and
 * build the response the API server expects. Pure: the engine, configuration, namespace facts and
 * deadline are all passed in; nothing here logs, reads files or talks to the API server.
 *
 * Contract: Kubernetes `admission/v1` types and the apiserver's `VerifyAdmissionResponse`
 * (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#response).
 */
import { InjectorError, asInjectorError, formatError, type ErrorCode } from '../errors.js';
import type {
  ClusterFacts,
  InjectionInput,
  InjectionOutput,
  NamespaceInfo,
  NamespaceLookupResult,
} from './contracts.js';
import type { InjectionConfig, InjectorConfig } from './config/types.js';
import { isJsonObject, type JsonObject } from './json.js';
import { checkInjectable, checkPodShape } from './pod-shape.js';
import { encodePatch } from './patch/encode.js';
import type { Pod, StringMap } from './k8s.js';
import { clipWarning } from './text.js';

export const ADMISSION_V1 = 'admission.k8s.io/v1';
export const ADMISSION_V1BETA1 = 'admission.k8s.io/v1beta1';
const SUPPORTED_VERSIONS: readonly string[] = [ADMISSION_V1, ADMISSION_V1BETA1];

/** Past a handful the apiserver starts truncating; a user never needs more than this from one pod. */
const MAX_WARNINGS = 10;

/** What the engine's policy check returns (spec §2.2). */
export interface EngineDecision {
  inject: boolean;
  /** Stable reason code, e.g. `policy-enabled`, `pod-label-opt-out`. */
  reason: string;
  /** Human text for the reason. */
  message: string;
  warnings: string[];
}

/** Outcome of the in-process evaluation of the webhook configuration's selectors (spec §2.1). */
export interface WebhookSelectorVerdict {
  matched: boolean;
  /** Stable reason code: the entry that matched, or why none did. */
  reason: string;
  message: string;
}

/** The injection engine as the server sees it; the real one is wired by the composition root. */
export interface InjectionEngine {
  decide(input: {
    pod: Pod;
    namespace: string;
    injector: InjectorConfig;
    mode: 'webhook' | 'kube-inject';
  }): EngineDecision;
  /** Optional: evaluates the webhook configuration's selectors against known namespace labels. */
  evaluateWebhookSelectors?(input: {
    namespace: NamespaceInfo;
    pod: Pod;
    config: InjectionConfig;
  }): WebhookSelectorVerdict;
  inject(input: InjectionInput): InjectionOutput;
}

export interface ReviewDeps {
  engine: InjectionEngine;
  /** The current configuration, read once per request from the provider. */
  config: InjectionConfig;
  /** Cluster facts for this pod; called only when the pod is going to be injected. */
  clusterFacts: (pod: Pod, namespace: NamespaceInfo | undefined) => ClusterFacts;
  /** Result of the namespace lookup; absent when the server has no cluster access (offline mode). */
  namespace?: NamespaceLookupResult;
  /** Env overrides from the URL path (spec §3.5). */
  pathEnv?: StringMap;
  /** True once the request's deadline has passed; checked between stages. */
  deadlineExceeded?: () => boolean;
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

export interface AdmissionStatus {
  code: number;
  message: string;
  reason?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  /** Base64 of the JSON patch (`[]byte` in the Go type). */
  patch?: string;
  status?: AdmissionStatus;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: string;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export interface ReviewResult {
  response: AdmissionReviewResponse;
  outcome: ReviewOutcome;
}

/** The parts of an AdmissionRequest the server reads, after envelope validation. */
export interface ParsedReview {
  apiVersion: string;
  uid: string;
  operation: string;
  /** `request.kind.kind` (or `request.resource.resource` when kind is missing). */
  kind: string;
  group: string;
  subResource: string;
  namespace: string;
  name: string;
  dryRun: boolean;
  /** `request.object`, when it is a JSON object. */
  object?: JsonObject;
}

function malformed(message: string, field: string, value?: unknown): InjectorError {
  return new InjectorError('INJ_ERR_REVIEW_MALFORMED', message, {
    details: [
      {
        field,
        reason: message,
        ...(value === undefined ? {} : { value: describe(value) }),
      },
    ],
  });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function stringField(obj: JsonObject, key: string): string {
  const value = obj[key];
  return typeof value === 'string' ? value : '';
}

/**
 * Validates the AdmissionReview envelope. Throws `INJ_ERR_REVIEW_MALFORMED` (HTTP 400) when the
 * body cannot be answered at all: there would be no uid to echo, or no version to answer in.
 */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (!isJsonObject(body)) {
    throw malformed(`body must be a JSON object, got ${describe(body)}`, 'body', body);
  }
  const apiVersion = body.apiVersion;
  if (typeof apiVersion !== 'string' || !SUPPORTED_VERSIONS.includes(apiVersion)) {
    throw malformed(
      `apiVersion ${describe(apiVersion)} is not supported; want ${ADMISSION_V1} or ${ADMISSION_V1BETA1}`,
      'apiVersion',
      apiVersion,
    );
  }
  if (body.kind !== 'AdmissionReview') {
    throw malformed(`kind ${describe(body.kind)} is not AdmissionReview`, 'kind', body.kind);
  }
  const request = body.request;
  if (!isJsonObject(request)) {
    throw malformed(
      `request is missing or not an object (got ${describe(request)})`,
      'request',
      request,
    );
  }
  const uid = request.uid;
  if (typeof uid !== 'string' || uid.length === 0) {
    throw malformed(
      `request.uid must be a non-empty string, got ${describe(uid)}`,
      'request.uid',
      uid,
    );
  }

  let kind = '';
  let group = '';
  if (isJsonObject(request.kind)) {
    kind = stringField(request.kind, 'kind');
    group = stringField(request.kind, 'group');
  } else if (isJsonObject(request.resource)) {
    // Without `kind`, the resource name is the only hint; `pods` is the one we handle.
    kind = stringField(request.resource, 'resource') === 'pods' ? 'Pod' : '';
    group = stringField(request.resource, 'group');
  }

  const object = request.object;
  return {
    apiVersion,
    uid,
    operation: stringField(request, 'operation'),
    kind,
    group,
    subResource: stringField(request, 'subResource'),
    namespace: stringField(request, 'namespace'),
    name: stringField(request, 'name'),
    dryRun: request.dryRun === true,
    ...(isJsonObject(object) ? { object } : {}),
  };
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

/**
 * Answers one parsed AdmissionReview. Never throws: every failure past the envelope becomes an
 * in-band `allowed: false` (a rejection, which failurePolicy does not override).
 */
export function reviewParsed(parsed: ParsedReview, deps: ReviewDeps): ReviewResult {
  // The webhook is registered for CREATE of core/v1 pods; anything else is let through untouched
  // rather than rejected, so a broader webhook configuration never blocks unrelated writes.
  if (parsed.kind !== 'Pod' || parsed.group !== '' || parsed.subResource !== '') {
    const what = parsed.subResource ? `${parsed.kind}/${parsed.subResource}` : parsed.kind;
    return allow(parsed, {
      decision: 'ignored',
      reason: 'not-a-pod',
      message: `request is for ${what || 'an unknown kind'}, not a Pod`,
    });
  }
  if (parsed.operation !== 'CREATE') {
    return allow(parsed, {
      decision: 'ignored',
      reason: 'not-create',
      message: `operation ${parsed.operation || '(none)'} is not CREATE`,
    });
  }
  const nsSource = deps.namespace?.source;
  const extra = nsSource === undefined ? {} : { namespaceSource: nsSource };
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
  const pod = parsed.object as Pod;
  const podError = checkPodShape(pod, 'request.object');
  if (podError) return denyReview(parsed, podError, extra);

  try {
    const nsInfo = deps.namespace?.namespace;
    let selectorNote: string | undefined;
    if (nsInfo !== undefined && deps.engine.evaluateWebhookSelectors) {
      // Namespace labels are known: apply the webhook configuration's own selectors here, so a
      // broader (or hand-edited) configuration still gives the answer Istio's would, with the reason.
      const verdict = deps.engine.evaluateWebhookSelectors({
        namespace: nsInfo,
        pod,
        config: deps.config,
      });
      if (!verdict.matched) {
        return allow(parsed, {
          decision: 'skipped',
          reason: verdict.reason,
          message: verdict.message,
          ...extra,
        });
      }
      selectorNote = verdict.message;
    } else if (nsSource === 'unavailable') {
      selectorNote = 'namespace labels unavailable; trusted the webhook configuration selectors';
    }

    const decision = deps.engine.decide({
      pod,
      // Spec §2.2: the pod's own namespace, else the request's (controller-made pods carry none).
      namespace: pod.metadata?.namespace || parsed.namespace,
      injector: deps.config.injector,
      mode: 'webhook',
    });
    const message = selectorNote ? `${decision.message} (${selectorNote})` : decision.message;
    if (!decision.inject) {
      return allow(
        parsed,
        { decision: 'skipped', reason: decision.reason, message, ...extra },
        decision.warnings,
      );
    }
    if (deps.deadlineExceeded?.())
      return denyReview(parsed, deadlineError('before injection'), extra);
    const notInjectable = checkInjectable(pod, 'request.object');
    if (notInjectable) return denyReview(parsed, notInjectable, extra);

    const output = deps.engine.inject({
      pod,
      namespace: parsed.namespace,
      config: deps.config,
      cluster: deps.clusterFacts(pod, nsInfo),
      ...(deps.pathEnv && Object.keys(deps.pathEnv).length > 0 ? { pathEnv: deps.pathEnv } : {}),
      mode: 'webhook',
    });
    if (deps.deadlineExceeded?.())
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
  } catch (error) {
    return denyReview(parsed, error, extra);
  }
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
export function reviewAdmission(body: unknown, deps: ReviewDeps): ReviewResult {
  return reviewParsed(parseAdmissionReview(body), deps);
}
