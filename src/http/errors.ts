/**
 * How the HTTP app answers what it cannot route or read: every refusal is the documented JSON
 * error body `{code, message}` with the error table's HTTP status (src/errors.ts).
 */
import type { FastifyError } from 'fastify';
import {
  ERROR_CODES,
  InjectorError,
  formatError,
  isInjectorError,
  type ErrorCode,
} from '../errors.js';
import type { InjectorMetrics } from '../metrics/registry.js';
import { BODY_LIMIT_BYTES } from './limits.js';
import type { AppReply, InjectorApp } from './types.js';

interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Fastify's own errors for content negotiation and body reading, mapped onto our codes. */
function toInjectorError(error: FastifyError | InjectorError | Error): InjectorError {
  if (isInjectorError(error)) return error;
  const status =
    'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 0;
  const fastifyCode = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (status === 415) {
    return new InjectorError(
      'INJ_ERR_UNSUPPORTED_MEDIA_TYPE',
      `Content-Type must be application/json (${error.message})`,
    );
  }
  if (status === 413) {
    return new InjectorError(
      'INJ_ERR_BODY_TOO_LARGE',
      `request body exceeds the limit of ${BODY_LIMIT_BYTES} bytes`,
    );
  }
  if (status >= 400 && status < 500) {
    return new InjectorError(
      'INJ_ERR_REVIEW_MALFORMED',
      `request body is not a readable AdmissionReview: ${error.message}${fastifyCode ? ` (${fastifyCode})` : ''}`,
    );
  }
  return new InjectorError('INJ_ERR_INTERNAL', error.message, { cause: error });
}

export function sendError(reply: AppReply, error: InjectorError, status = error.httpStatus): void {
  const body: ErrorBody = { code: error.code, message: formatError(error) };
  void reply.code(status).type('application/json').send(body);
}

export function isInjectPath(url: string): boolean {
  return url === '/inject' || url.startsWith('/inject?') || url.startsWith('/inject/');
}

/** fastify's own 4xx before routing (a URL it cannot decode): the documented error body too. */
export function frameworkError(error: FastifyError, _request: unknown, reply: AppReply): void {
  const code = typeof error.code === 'string' ? error.code : 'FST_ERR';
  sendError(
    reply,
    new InjectorError(
      'INJ_ERR_REVIEW_MALFORMED',
      `the request cannot be read: ${error.message} (${code})`,
    ),
    typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 400,
  );
}

/** What a request that failed before or in its route is answered, and how it is logged. */
export interface Rejection {
  error: InjectorError;
  /** The status the `request rejected` line reports. */
  logStatus: number;
  /** The status of the answer. */
  status: number;
  level: 'error' | 'info';
}

/** Maps any error of the request path (ours or fastify's) onto the error table. */
export function rejectionOf(error: FastifyError | InjectorError | Error): Rejection {
  const injectorError = toInjectorError(error);
  const raw = isInjectorError(error)
    ? error.httpStatus
    : 'statusCode' in error && typeof error.statusCode === 'number'
      ? error.statusCode
      : 500;
  const logStatus = raw >= 400 ? raw : ERROR_CODES[injectorError.code].httpStatus;
  return {
    error: injectorError,
    logStatus,
    status: logStatus >= 400 ? logStatus : 500,
    level: logStatus >= 500 ? 'error' : 'info',
  };
}

/** The documented error body of a rejection, serialised as fastify serialises it. */
export function errorPayload(error: InjectorError): string {
  const body: ErrorBody = { code: error.code, message: formatError(error) };
  return JSON.stringify(body);
}

/** The error and not-found handlers; a failure on the inject route counts in the failure metric. */
export function answerErrors(app: InjectorApp, metrics: InjectorMetrics): void {
  app.setErrorHandler((error: FastifyError | InjectorError, request, reply) => {
    const rejection = rejectionOf(error);
    if (isInjectPath(request.url)) metrics.failure.inc({ code: rejection.error.code });
    request.log[rejection.level](
      { code: rejection.error.code, status: rejection.logStatus, url: request.url.split('?')[0] },
      'request rejected',
    );
    sendError(reply, rejection.error, rejection.status);
  });

  app.setNotFoundHandler((request, reply) => {
    sendError(
      reply,
      new InjectorError(
        'INJ_ERR_NOT_FOUND',
        `no route for ${request.method} ${request.url.split('?')[0] ?? ''}; the webhook serves POST /inject`,
      ),
    );
  });
}
