/**
 * The answer to a review whose body is, byte for byte, the body of one answered before but for
 * `request.uid`: the API server sends the pods of a ReplicaSet's burst so, the replicas created
 * in one second differing only there (their names are generated after admission; the
 * managedFields time has a one-second resolution). Such a body would parse to the same review but
 * for the uid, so with the same inputs (configuration, namespace labels, cluster facts, revision
 * tags, URL) it gets the same answer with its own uid: no JSON.parse, no review, the remembered
 * answer's text around the new uid. Measured in docs/performance.md; proven equal to the whole
 * path over generated reviews in test/unit/admission/reuse.test.ts.
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
    request: { url: string; path: string; parsed: ParsedReview },
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
        if (body.compare(entry.rest, 0, entry.rest.length, span.end, body.length) !== 0) continue;
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

    remember(body, { url, path, parsed }, input, result) {
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
        const same = old.prefix === entry.prefix && old.url === url && old.rest.equals(rest);
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
