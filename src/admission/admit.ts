/**
 * The one admission entry point: takes a parsed AdmissionReview, resolves the pod's namespace
 * within the request's deadline, gathers the cluster facts and answers through the pure review
 * (src/core/review.ts). The HTTP layer calls `admit` once and only turns the result into a reply.
 * Not in src/core: waiting on the namespace lookup against a deadline is I/O-bound.
 */
import type {
  ClusterFacts,
  ClusterFactsProvider,
  ConfigProvider,
  NamespaceLookupResult,
  NamespaceResolver,
} from '../core/contracts.js';
import { parsePathParams } from '../core/path-params.js';
import {
  deadlineError,
  denyReview,
  isPodCreate,
  reviewParsed,
  type ReviewInput,
  type ReviewResult,
} from '../core/review.js';
import type { ParsedReview } from '../core/review-envelope.js';

/** Where an admission reads its configuration and cluster state; wired by src/server.ts. */
export interface AdmissionSources {
  config: ConfigProvider;
  /** Cluster mode: namespace labels for the in-process selector check. Absent offline. */
  namespaces?: NamespaceResolver | undefined;
  /** Cluster mode: per-pod cluster facts. Offline: `staticFacts` is used. */
  facts?: ClusterFactsProvider | undefined;
  /** Facts used when `facts` is absent (offline mode). */
  staticFacts?: ClusterFacts | undefined;
  /** Cluster mode: revision tags learned from the cluster (a cheap read of a ready array). */
  revisionTags?: (() => readonly string[]) | undefined;
}

/** The request as the transport received it. */
export interface AdmissionRequest {
  review: ParsedReview;
  /** The decoded URL path (`/inject/cluster/c1/net/n1` carries env overrides, spec §3.5). */
  path: string;
  /** When the answer is due, on the `now` clock (ms). */
  deadline: number;
  now: () => number;
}

/** Answers one review. Never throws. */
export async function admit(
  request: AdmissionRequest,
  sources: AdmissionSources,
): Promise<ReviewResult> {
  const { review: parsed, deadline, now } = request;
  const deadlineExceeded = () => now() >= deadline;
  const podCreate = isPodCreate(parsed);
  let namespace: NamespaceLookupResult | undefined;
  if (sources.namespaces && podCreate) {
    const lookup = await resolveWithin(sources.namespaces, parsed.namespace, deadline - now());
    namespace = lookup.result;
    // The timer may fire a fraction of a millisecond before `now()` reaches the deadline
    // (timers run on the event loop's cached clock), so its firing counts as the deadline.
    if (lookup.timedOut || deadlineExceeded()) {
      return denyReview(parsed, deadlineError('while resolving the namespace'), {
        namespaceSource: namespace.source,
      });
    }
  }
  return answer(request, sources, podCreate, namespace);
}

/**
 * The answer at once when nothing needs waiting for (no namespace lookup, or one the cache
 * answers); undefined when `admit` must be awaited. The same answer `admit` gives. `used` is
 * told the inputs the answer was computed from.
 */
export function admitNow(
  request: AdmissionRequest,
  sources: AdmissionSources,
  used?: (input: ReviewInput) => void,
): ReviewResult | undefined {
  const { review: parsed, deadline, now } = request;
  const podCreate = isPodCreate(parsed);
  if (!sources.namespaces || !podCreate) {
    return answer(request, sources, podCreate, undefined, used);
  }
  // Past the deadline, or not in the cache: `admit` decides, as it always did.
  if (now() >= deadline) return undefined;
  const namespace = sources.namespaces.resolveCached?.(parsed.namespace);
  if (namespace === undefined) return undefined;
  if (now() >= deadline) {
    return denyReview(parsed, deadlineError('while resolving the namespace'), {
      namespaceSource: namespace.source,
    });
  }
  return answer(request, sources, podCreate, namespace, used);
}

function answer(
  request: AdmissionRequest,
  sources: AdmissionSources,
  podCreate: boolean,
  namespace: NamespaceLookupResult | undefined,
  used?: (input: ReviewInput) => void,
): ReviewResult {
  const { review: parsed, deadline, now } = request;
  const input = reviewInputs(request, sources, podCreate, namespace);
  used?.(input);
  return reviewParsed(parsed, { ...input, deadlineExceeded: () => now() >= deadline });
}

/**
 * What the pure review reads besides the request, as `admit` gathers it: the configuration, the
 * cluster facts, the namespace, the URL's env, the revision tags. The same inputs give the same
 * answer (src/admission/reuse.ts relies on it).
 */
export function reviewInputs(
  request: Pick<AdmissionRequest, 'review' | 'path'>,
  sources: AdmissionSources,
  podCreate: boolean,
  namespace: NamespaceLookupResult | undefined,
): ReviewInput {
  const parsed = request.review;
  const pathEnv = request.path.startsWith('/inject/') ? parsePathParams(request.path) : undefined;
  const staticFacts = sources.staticFacts ?? { nativeSidecars: false };
  const pod = parsed.object;
  const cluster =
    sources.facts && podCreate && pod !== undefined
      ? sources.facts.factsFor(pod, namespace?.namespace)
      : staticFacts;
  return {
    config: sources.config.current(),
    cluster,
    ...(namespace ? { namespace } : {}),
    ...(pathEnv ? { pathEnv } : {}),
    ...(sources.revisionTags ? { revisionTags: sources.revisionTags() } : {}),
  };
}

/**
 * The namespace lookup raced against the time left: never past the deadline, never throwing.
 * The resolver's own GET is bounded too (src/k8s/namespace-cache.ts); this is the only race.
 */
async function resolveWithin(
  resolver: NamespaceResolver,
  name: string,
  budgetMs: number,
): Promise<{ result: NamespaceLookupResult; timedOut: boolean }> {
  if (budgetMs <= 0) return { result: { source: 'unavailable' }, timedOut: true };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), budgetMs);
  });
  try {
    const result = await Promise.race([resolver.resolve(name), timeout]);
    return result === undefined
      ? { result: { source: 'unavailable' }, timedOut: true }
      : { result, timedOut: false };
  } catch {
    return { result: { source: 'unavailable' }, timedOut: false };
  } finally {
    clearTimeout(timer);
  }
}
