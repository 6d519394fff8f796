/**
 * What the pod informer keeps of each pod: the fields the audit reads, nothing else. A full Pod is
 * several kilobytes (managedFields, specs, statuses); the trimmed one keeps the name, namespace,
 * resourceVersion (the watch resumes from it), labels, the few annotations of AUDIT_ANNOTATIONS,
 * the controller reference, host networking, the istio-proxy image and a terminal phase.
 *
 * Pods of one workload share their labels and annotations, so equal maps and strings are interned:
 * each distinct map is stored once however many pods carry it. The intern table is bounded; when
 * full it starts over (objects already cached keep their shared copies).
 */
import type {
  Container,
  ObjectMeta,
  OwnerReference,
  Pod,
  PodSpec,
  StringMap,
} from '../pod-types.js';
import type { JsonObject } from '../json.js';
import { AUDIT_ANNOTATIONS, PROXY_CONTAINER } from './pods.js';

export const DEFAULT_MAX_INTERNED = 50_000;

export type PodTrimmer = (pod: Pod) => Pod;

class Interner {
  private readonly table = new Map<string, unknown>();
  constructor(private readonly max: number) {}

  intern<T>(key: string, value: T): T {
    const found = this.table.get(key);
    if (found !== undefined) return found as T;
    if (this.table.size >= this.max) this.table.clear();
    this.table.set(key, value);
    return value;
  }
}

export function createPodTrimmer(maxInterned = DEFAULT_MAX_INTERNED): PodTrimmer {
  const strings = new Interner(maxInterned);
  const maps = new Interner(maxInterned);
  const str = (s: string): string => strings.intern(s, s);

  function map(source: StringMap | undefined, keep?: readonly string[]): StringMap | undefined {
    if (source === undefined || source === null) return undefined;
    let picked: StringMap = source;
    if (keep !== undefined) {
      picked = {};
      for (const key of keep) {
        const value = source[key];
        if (Object.hasOwn(source, key) && typeof value === 'string') picked[key] = value;
      }
    }
    const keys = Object.keys(picked);
    if (keys.length === 0) return undefined;
    const key = JSON.stringify(picked);
    return maps.intern(key, Object.freeze({ ...picked }));
  }

  /** The controller (or else the first) owner, with interned kind and name. */
  function owner(meta: ObjectMeta): OwnerReference | undefined {
    const refs = meta.ownerReferences ?? [];
    const ref = refs.find((r) => r.controller === true) ?? refs[0];
    if (ref === undefined || typeof ref.kind !== 'string' || typeof ref.name !== 'string') {
      return undefined;
    }
    return { kind: str(ref.kind), name: str(ref.name), controller: true };
  }

  function trimMetadata(meta: ObjectMeta): ObjectMeta {
    const metadata: ObjectMeta = {};
    if (meta.name !== undefined) metadata.name = meta.name;
    if (meta.namespace !== undefined) metadata.namespace = str(meta.namespace);
    if (typeof meta.resourceVersion === 'string') metadata.resourceVersion = meta.resourceVersion;
    if (meta.deletionTimestamp !== undefined) metadata.deletionTimestamp = true;
    const labels = map(meta.labels);
    if (labels !== undefined) metadata.labels = labels;
    const annotations = map(meta.annotations, AUDIT_ANNOTATIONS);
    if (annotations !== undefined) metadata.annotations = annotations;
    const ref = owner(meta);
    if (ref !== undefined) metadata.ownerReferences = [ref];
    return metadata;
  }

  function trimSpec(source: PodSpec | undefined): PodSpec {
    const spec: PodSpec = {};
    if (source?.hostNetwork === true) spec.hostNetwork = true;
    const proxy =
      source?.containers?.find((c) => c.name === PROXY_CONTAINER) ??
      source?.initContainers?.find((c) => c.name === PROXY_CONTAINER);
    if (proxy !== undefined) {
      const container: Container = { name: PROXY_CONTAINER };
      if (typeof proxy.image === 'string') container.image = str(proxy.image);
      spec.containers = [container];
    }
    return spec;
  }

  return (pod: Pod): Pod => {
    const trimmed: Pod = { metadata: trimMetadata(pod.metadata ?? {}), spec: trimSpec(pod.spec) };
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      const status: JsonObject = { phase };
      trimmed.status = status;
    }
    return trimmed;
  };
}
