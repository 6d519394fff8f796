/**
 * What request bodies the webhook reads: JSON only (UTF-8), unencoded. Everything else is refused
 * with INJ_ERR_UNSUPPORTED_MEDIA_TYPE before the body is parsed.
 */
import { InjectorError } from '../errors.js';
import { parseJsonBody } from '../core/json-parse.js';
import { BODY_LIMIT_BYTES } from './limits.js';
import type { InjectorApp } from './types.js';

/**
 * Only JSON is accepted. `application/json` with a `charset=utf-8` parameter is accepted too
 * (RFC 8259 JSON is UTF-8 anyway); any other charset is refused with 415.
 */
export function acceptJsonOnly(app: InjectorApp): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (request, body, done) => {
      const header = request.headers['content-type'] ?? '';
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(header)?.[1];
      if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
        done(
          new InjectorError(
            'INJ_ERR_UNSUPPORTED_MEDIA_TYPE',
            `Content-Type charset "${charset}" is not supported; send application/json (UTF-8)`,
          ),
          undefined,
        );
        return;
      }
      const parsed = parseBodyText(typeof body === 'string' ? body : body.toString('utf8'));
      if ('error' in parsed) done(parsed.error, undefined);
      else done(null, parsed.body);
    },
  );
}

/**
 * A request body we would read wrongly: any Content-Encoding but identity (the API server sends
 * none), or a Transfer-Encoding other than chunked (`gzip, chunked` would be read as plain).
 */
export function encodingError(
  headers: Record<string, string | string[] | undefined>,
): InjectorError | undefined {
  const content = headers['content-encoding'];
  // What the API server sends: neither header (the body has a Content-Length).
  if (content === undefined && headers['transfer-encoding'] === undefined) return undefined;
  const contentText = Array.isArray(content) ? content.join(',') : (content ?? '');
  for (const coding of contentText.split(',')) {
    const name = coding.trim().toLowerCase();
    if (name !== '' && name !== 'identity') {
      return new InjectorError(
        'INJ_ERR_UNSUPPORTED_MEDIA_TYPE',
        `Content-Encoding "${contentText}" is not supported; send the JSON body unencoded`,
      );
    }
  }
  const transfer = headers['transfer-encoding'];
  const transferText = Array.isArray(transfer) ? transfer.join(',') : (transfer ?? '');
  for (const coding of transferText.split(',')) {
    const name = coding.trim().toLowerCase();
    if (name !== '' && name !== 'chunked' && name !== 'identity') {
      return new InjectorError(
        'INJ_ERR_UNSUPPORTED_MEDIA_TYPE',
        `Transfer-Encoding "${transferText}" is not supported; only chunked is`,
      );
    }
  }
  return undefined;
}

/** A request body's text parsed as every route parses it, or the error that answers it. */
export function parseBodyText(text: string): { body: unknown } | { error: Error } {
  // Depth- and size-bounded, prototype-poisoning-safe (src/core/json-parse.ts).
  try {
    return { body: parseJsonBody(text) };
  } catch (error) {
    return { error: error as Error };
  }
}
