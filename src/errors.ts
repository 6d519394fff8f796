/**
 * The one table of coded errors and the only place that maps a code to what the outside sees:
 * - `httpStatus`: the HTTP status of a webhook error response (200 where the answer is an
 *   AdmissionReview that denies);
 * - `admissionStatus`: `response.status.code` of an `allowed: false` AdmissionReview;
 * - `exitCode`: the CLI exit code (1 runtime failure, 2 invalid flags, environment or configuration).
 * Every code is documented in README.md ("Error codes"); test/unit/errors.test.ts keeps the two in
 * step in both directions.
 *
 * Codes are stable API: logs, metrics labels (`sidecar_injection_failure_total{code}`) and the
 * texts shown to users (`formatError`) start with them. Messages carry no code; never branch on
 * message text, branch on `code`.
 */
import { KEY } from './core/annotations/keys.js';

export const ERROR_CODES = {
  INJ_ERR_INVALID_ANNOTATION: {
    httpStatus: 400,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'a pod annotation has a value the injector cannot accept',
  },
  INJ_ERR_INVALID_POD: {
    httpStatus: 400,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'request.object is not a Pod the injector can read',
  },
  INJ_ERR_TEMPLATE_NOT_FOUND: {
    httpStatus: 400,
    admissionStatus: 400,
    exitCode: 1,
    summary: `${KEY.templates} names a template that does not exist`,
  },
  INJ_ERR_TEMPLATE_RENDER: {
    httpStatus: 400,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'a selected template failed to run, or its output is not a YAML map',
  },
  INJ_ERR_PROMETHEUS_CONFIG: {
    httpStatus: 400,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'the prometheus scrape annotations point at a port reserved for Istio or are invalid',
  },
  INJ_ERR_REVIEW_MALFORMED: {
    httpStatus: 400,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'the request body is not an AdmissionReview (bad JSON, missing request or uid)',
  },
  INJ_ERR_UNSUPPORTED_MEDIA_TYPE: {
    httpStatus: 415,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'the request Content-Type is not application/json',
  },
  INJ_ERR_BODY_TOO_LARGE: {
    httpStatus: 413,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'the request body exceeds the 6 MiB limit',
  },
  INJ_ERR_DEADLINE_EXCEEDED: {
    httpStatus: 200,
    admissionStatus: 504,
    exitCode: 1,
    summary: 'the injection could not finish within the timeout the API server asked for',
  },
  INJ_ERR_CONFIG_INVALID: {
    httpStatus: 500,
    admissionStatus: 500,
    exitCode: 2,
    summary:
      'the injector configuration (config, values or mesh) is invalid; every problem is listed by path',
  },
  INJ_ERR_CONFIG_DIR_EMPTY: {
    httpStatus: 500,
    admissionStatus: 500,
    exitCode: 2,
    summary:
      '--config-dir names a directory holding none of config, values and mesh (the message names the path)',
  },
  INJ_ERR_PORT_IN_USE: {
    httpStatus: 500,
    admissionStatus: 500,
    exitCode: 2,
    summary:
      'the address and port to listen on are taken by another process; choose another with the flag the message names',
  },
  INJ_ERR_CLI_USAGE: {
    httpStatus: 400,
    admissionStatus: 400,
    exitCode: 2,
    summary: 'invalid command-line flags or environment variables',
  },
  INJ_ERR_TLS: {
    httpStatus: 500,
    admissionStatus: 400,
    exitCode: 2,
    summary: 'the serving certificate or key could not be loaded',
  },
  INJ_ERR_MANIFEST_INVALID: {
    httpStatus: 400,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'an input manifest for the offline commands cannot be read or is not a valid object',
  },
  INJ_ERR_NOT_FOUND: {
    httpStatus: 404,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'no such endpoint: the webhook serves POST /inject, /healthz, /readyz and /metrics',
  },
  INJ_ERR_KUBERNETES_API: {
    httpStatus: 502,
    admissionStatus: 400,
    exitCode: 1,
    summary:
      'a one-shot read from the Kubernetes API (ConfigMap or Namespace for the offline commands) failed',
  },
  INJ_ERR_TAG_CONFLICT: {
    httpStatus: 409,
    admissionStatus: 400,
    exitCode: 1,
    summary:
      'tag set/remove would clash with the cluster: the tag exists, names a revision, or namespaces still use it (the message says which flag overrides)',
  },
  INJ_ERR_TAG_NOT_FOUND: {
    httpStatus: 404,
    admissionStatus: 400,
    exitCode: 1,
    summary: 'tag remove names a revision tag no MutatingWebhookConfiguration carries',
  },
  INJ_ERR_REVISION_NOT_FOUND: {
    httpStatus: 404,
    admissionStatus: 400,
    exitCode: 1,
    summary:
      'tag set points at a revision with no sidecar-injector MutatingWebhookConfiguration in the cluster',
  },
  INJ_ERR_INTERNAL: {
    httpStatus: 500,
    admissionStatus: 500,
    exitCode: 1,
    summary: 'an unexpected internal error; the message carries the detail',
  },
} as const satisfies Record<string, ErrorCodeEntry>;

interface ErrorCodeEntry {
  httpStatus: number;
  admissionStatus: 400 | 500 | 504;
  exitCode: 1 | 2;
  summary: string;
}

export type ErrorCode = keyof typeof ERROR_CODES;

export interface InjectorErrorOptions {
  cause?: unknown;
  /** Structured detail for logs and tests, e.g. every invalid annotation found. */
  details?: readonly ErrorDetail[];
}

/** One concrete problem: where it is, what value was found, why it is wrong. */
export interface ErrorDetail {
  /** Field path or annotation key, e.g. `metadata.annotations[<KEY.proxyCPU>]` or `values.global.proxy.statusPort`. */
  readonly field: string;
  readonly value?: string;
  readonly reason: string;
}

export class InjectorError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly admissionStatus: number;
  readonly exitCode: number;
  readonly details: readonly ErrorDetail[];

  constructor(code: ErrorCode, message: string, options: InjectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InjectorError';
    this.code = code;
    this.httpStatus = ERROR_CODES[code].httpStatus;
    this.admissionStatus = ERROR_CODES[code].admissionStatus;
    this.exitCode = ERROR_CODES[code].exitCode;
    this.details = options.details ?? [];
  }

  /** `String(error)` keeps naming the code, as the message did before it stopped carrying it. */
  override toString(): string {
    return `${this.name}: ${formatError(this)}`;
  }
}

export function isInjectorError(value: unknown): value is InjectorError {
  return value instanceof InjectorError;
}

/** The text users see (stderr, AdmissionResponse, HTTP error body): `INJ_ERR_X: message`. */
export function formatError(error: InjectorError): string {
  return `${error.code}: ${error.message}`;
}

/** Any thrown value as an InjectorError; anything not coded becomes INJ_ERR_INTERNAL. */
export function asInjectorError(error: unknown, context: string): InjectorError {
  if (isInjectorError(error)) return error;
  return new InjectorError('INJ_ERR_INTERNAL', `${context}: ${errorReason(error)}`, {
    cause: error,
  });
}

/** The reason text of any thrown value: an InjectorError with its code, an Error's message. */
export function errorReason(error: unknown): string {
  if (isInjectorError(error)) return formatError(error);
  return error instanceof Error ? error.message : String(error);
}
