/**
 * The AdmissionReview envelope: the `admission/v1` (and `v1beta1`) request fields the webhook
 * reads, validated into ParsedReview, and the response types. Pure.
 *
 * Contract: Kubernetes `admission/v1` types and the apiserver's `VerifyAdmissionResponse`
 * (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#response).
 */
import { InjectorError } from '../errors.js';
import { isJsonObject, type JsonObject } from './json.js';

export const ADMISSION_V1 = 'admission.k8s.io/v1';
export const ADMISSION_V1BETA1 = 'admission.k8s.io/v1beta1';
const SUPPORTED_VERSIONS: readonly string[] = [ADMISSION_V1, ADMISSION_V1BETA1];

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

/**
 * The answer's JSON text, character for character what `JSON.stringify(review)` gives.
 * `JSON.stringify` looks at every character of a string for escapes, and the 7-16 KB base64
 * patch is most of the answer: it costs ~15 µs of a Bookinfo review. Base64 (encodePatch in
 * src/core/patch/encode.ts is the only writer of `patch`) has no character JSON escapes, so the
 * rest is stringified around an empty patch and the patch put in its place. `"patch":""` cannot
 * come from a string value ahead of it: a quote inside a string is written `\"`.
 */
export function admissionReviewText(review: AdmissionReviewResponse): string {
  const patch = review.response.patch;
  if (patch === undefined || patch === '') return JSON.stringify(review);
  const text = JSON.stringify({ ...review, response: { ...review.response, patch: '' } });
  const at = text.indexOf('"patch":""') + '"patch":"'.length;
  return text.slice(0, at) + patch + text.slice(at);
}
