/**
 * The answer to a review whose body is, byte for byte, the body of one answered before but for
 * `request.uid` and the pod's managedFields times: the API server sends the pods of a
 * ReplicaSet so, its replicas differing only there (their names are generated after admission;
 * a managedFields time is the second the controller wrote the pod). Such a body would parse to
 * the same review but for those strings, which the review never reads (the injection leaves
 * managedFields out of its input and its patch); so with the same inputs (configuration,
 * namespace labels, cluster facts, revision tags, URL) it gets the same answer with its own uid:
 * no JSON.parse, no review, the remembered answer's text around the new uid. The times are
 * compared by shape only (metav1.Time's RFC 3339 UTC seconds) and only where the remembered body
 * holds a managedFields time (`managedFieldsTimes`). Measured in docs/performance.md; proven
 * equal to the whole path over generated reviews in test/unit/admission/reuse.test.ts.
 *
 * What is remembered: injected pods only (a skipped or denied pod may raise an Event, which needs
 * the pod), answered without waiting, whose body starts as the API server writes an
 * AdmissionReview (`kind`, `apiVersion`, then `request` with `uid` first: Go's field order of
 * admission/v1 AdmissionReview and AdmissionRequest) and whose uid is a plain token. Bounded:
 * `MAX_ENTRIES` bodies, `MAX_BYTES` of them in all (each also holds its parsed review).
 */
import { jsonEqual } from '../core/json.js';
import type { ClusterFacts } from '../core/contracts.js';
import type { ReviewInput, ReviewOutcome, ReviewResult } from '../core/review.js';
import { admissionReviewText, type ParsedReview } from '../core/review-envelope.js';
import { reviewInputs, type AdmissionSources } from './admit.js';

const PREFIXES: readonly Buffer[] = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'].map(
  (version) =>
    Buffer.from(`{"kind":"AdmissionReview","apiVersion":"${version}","request":{"uid":"`, 'latin1'),
);
const QUOTE = 0x22;
/** Kubernetes uids are UUIDs; anything past letters, digits and `-` takes the whole path. */
const MAX_UID_BYTES = 128;
export const MAX_ENTRIES = 64;
export const MAX_BYTES = 1024 * 1024;
const PER_LENGTH = 4;

/** What a reused answer needs for its log line and metrics (the rest of the line is remembered). */
export interface ReusedAnswer {
  text: string;
  uid: string;
  parsed: ParsedReview;
  outcome: ReviewOutcome;
}

interface Entry {
  prefix: Buffer;
  /** The body after the uid (from its closing quote). */
  rest: Buffer;
  /** Where in `rest` the managedFields times are (each TIME_BYTES long), ascending. */
  times: readonly number[];
  url: string;
  /** The URL's decoded path, as the review read it. */
  path: string;
  parsed: ParsedReview;
  input: ReviewInput;
  outcome: ReviewOutcome;
  /** The answer's text before and after its uid. */
  head: string;
  tail: string;
}

export interface ReviewReuse {
  /** The remembered answer for this body, with its uid, or undefined. */
  answer(body: Buffer, url: string): ReusedAnswer | undefined;
  /** Remembers an answer computed from `input` for this body. */
  remember(
    body: Buffer,
    /** `text` is the body as read (UTF-8), `value` its parsed JSON. */
    request: { url: string; path: string; parsed: ParsedReview; text: string; value: unknown },
    input: ReviewInput,
    result: ReviewResult,
  ): void;
}

/** The prefix and the uid's end, for a body that starts as the API server writes one. */
function uidSpan(body: Buffer): { prefix: Buffer; end: number } | undefined {
  for (const prefix of PREFIXES) {
    if (
      body.length <= prefix.length ||
      body.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0
    ) {
      continue;
    }
    const end = body.indexOf(QUOTE, prefix.length);
    if (end <= prefix.length || end - prefix.length > MAX_UID_BYTES) return undefined;
    for (let i = prefix.length; i < end; i++) {
      const c = body[i] as number;
      const token =
        (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x2d;
      if (!token) return undefined;
    }
    return { prefix, end };
  }
  return undefined;
}

/** A managedFields time as the API server writes it (metav1.Time: RFC 3339, UTC, seconds). */
const TIME_BYTES = 20;
const TIME_SHAPE = '0000-00-00T00:00:00Z';
/** What a time is replaced with to find it: no time has a `g`. */
const TIME_MARK = 'g'.repeat(TIME_BYTES);

/** True when the TIME_BYTES codes `code(0)`... have TIME_SHAPE (a `0` there is any digit). */
function timeShaped(code: (k: number) => number | undefined): boolean {
  for (let k = 0; k < TIME_BYTES; k++) {
    const c = code(k) ?? -1;
    const want = TIME_SHAPE.charCodeAt(k);
    if (want === 0x30 ? c < 0x30 || c > 0x39 : c !== want) return false;
  }
  return true;
}

const isTime = (text: string): boolean =>
  text.length === TIME_BYTES && timeShaped((k) => text.charCodeAt(k));
const isTimeAt = (body: Buffer, at: number): boolean => timeShaped((k) => body[at + k]);

/**
 * Where the body's `request.object.metadata.managedFields[].time` values are, as offsets into
 * the body after the uid (`from`): found by writing the parsed body again with every such time
 * replaced by TIME_MARK, which gives the body itself except there only when the body is the JSON
 * text `JSON.stringify` writes (the API server's is; Go escapes `<`, `>`, `&` where JavaScript
 * does not, and such a body is reused by its uid alone). Empty when there is none or the body is
 * not that text: then the whole rest must be equal.
 */
function managedFieldsTimes(text: string, from: number, value: unknown): number[] {
  const review = value as { request?: { object?: { metadata?: { managedFields?: unknown } } } };
  const meta = review.request?.object?.metadata;
  const fields = meta?.managedFields;
  if (!Array.isArray(fields)) return [];
  let count = 0;
  const marked = fields.map((field: unknown) => {
    const time = (field as { time?: unknown } | null)?.time;
    if (typeof time !== 'string' || !isTime(time)) return field;
    count++;
    return { ...(field as object), time: TIME_MARK };
  });
  if (count === 0) return [];
  const request = review.request as object & { object: object & { metadata: object } };
  if (JSON.stringify(value) !== text) return [];
  const masked = JSON.stringify({
    ...(value as object),
    request: {
      ...request,
      object: {
        ...request.object,
        metadata: { ...request.object.metadata, managedFields: marked },
      },
    },
  });
  if (masked.length !== text.length) return [];
  const times: number[] = [];
  let at = masked.indexOf(`"${TIME_MARK}"`);
  while (at >= 0) {
    const start = at + 1;
    // A mark the body also has is not a time: the masking is not what it seems; none.
    if (!isTime(text.slice(start, start + TIME_BYTES))) return [];
    const bytes = Buffer.byteLength(text.slice(0, start));
    if (bytes < from) return [];
    times.push(bytes - from);
    at = masked.indexOf(`"${TIME_MARK}"`, start + TIME_BYTES);
  }
  return times.length === count ? times : [];
}

/** The body after `from` equals `rest` but for valid times at `times`. */
function sameBut(body: Buffer, from: number, rest: Buffer, times: readonly number[]): boolean {
  let done = 0;
  for (const at of times) {
    if (body.compare(rest, done, at, from + done, from + at) !== 0) return false;
    if (!isTimeAt(body, from + at)) return false;
    done = at + TIME_BYTES;
  }
  return body.compare(rest, done, rest.length, from + done, body.length) === 0;
}

/** The same cluster facts: the ProxyConfig set by identity (sets are immutable), the rest as JSON. */
function sameFacts(a: ClusterFacts, b: ClusterFacts): boolean {
  const { proxyConfigs: setA, ...restA } = a;
  const { proxyConfigs: setB, ...restB } = b;
  return setA === setB && jsonEqual(restA, restB);
}

function sameInputs(a: ReviewInput, b: ReviewInput): boolean {
  return (
    a.config === b.config &&
    sameFacts(a.cluster, b.cluster) &&
    jsonEqual(a.namespace, b.namespace) &&
    jsonEqual(a.pathEnv, b.pathEnv) &&
    (a.revisionTags === b.revisionTags || jsonEqual(a.revisionTags, b.revisionTags))
  );
}

export function reviewReuse(sources: AdmissionSources): ReviewReuse {
  const byRestLength = new Map<number, Entry[]>();
  let entries = 0;
  let bytes = 0;

  /** The inputs a review of `entry`'s body would read now (the namespace from the cache only). */
  const inputsNow = (entry: Entry): ReviewInput | undefined => {
    let namespace;
    if (sources.namespaces) {
      namespace = sources.namespaces.resolveCached?.(entry.parsed.namespace);
      if (namespace === undefined) return undefined;
    }
    return reviewInputs({ review: entry.parsed, path: entry.path }, sources, true, namespace);
  };

  return {
    answer(body, url) {
      const span = uidSpan(body);
      if (span === undefined) return undefined;
      const candidates = byRestLength.get(body.length - span.end);
      if (candidates === undefined) return undefined;
      for (const entry of candidates) {
        if (entry.prefix !== span.prefix || entry.url !== url) continue;
        if (!sameBut(body, span.end, entry.rest, entry.times)) continue;
        const input = inputsNow(entry);
        if (input === undefined || !sameInputs(input, entry.input)) continue;
        const uid = body.toString('latin1', span.prefix.length, span.end);
        return {
          text: entry.head + uid + entry.tail,
          uid,
          parsed: entry.parsed,
          outcome: entry.outcome,
        };
      }
      return undefined;
    },

    remember(body, { url, path, parsed, text, value }, input, result) {
      const { outcome, response } = result;
      if (outcome.decision !== 'injected' || response.response.uid !== parsed.uid) return;
      const span = uidSpan(body);
      if (
        span === undefined ||
        body.toString('latin1', span.prefix.length, span.end) !== parsed.uid
      )
        return;
      const rest = Buffer.from(body.subarray(span.end));
      if (rest.length > MAX_BYTES) return;
      // The answer with an empty uid, cut where the uid goes: `"uid":""` first appears there (the
      // apiVersion before it is a known version, and a quote inside a string is written `\"`).
      const blank = admissionReviewText({
        ...response,
        response: { ...response.response, uid: '' },
      });
      const at = blank.indexOf('"uid":""') + '"uid":"'.length;
      const entry: Entry = {
        prefix: span.prefix,
        rest,
        times: managedFieldsTimes(text, span.end, value),
        url,
        path,
        parsed,
        input,
        outcome,
        head: blank.slice(0, at),
        tail: blank.slice(at),
      };
      if (entries >= MAX_ENTRIES || bytes + rest.length > MAX_BYTES) {
        byRestLength.clear();
        entries = 0;
        bytes = 0;
      }
      // The same body again (its inputs changed since): the new answer replaces the old.
      const list = (byRestLength.get(rest.length) ?? []).filter((old) => {
        const same =
          old.prefix === entry.prefix && old.url === url && sameBut(rest, 0, old.rest, old.times);
        if (same) {
          entries--;
          bytes -= old.rest.length;
        }
        return !same;
      });
      if (list.length >= PER_LENGTH) {
        const oldest = list.shift() as Entry;
        entries--;
        bytes -= oldest.rest.length;
      }
      list.push(entry);
      byRestLength.set(rest.length, list);
      entries++;
      bytes += rest.length;
    },
  };
}
