/**
 * The one bounded cache of the core, for values computed from a string key. Keys are often user
 * input (annotation values), so it never holds more than `max` entries: when full it is cleared
 * and refilled by what is in use, which for the few distinct values of a workload is cheaper
 * than tracking recency.
 */
export interface BoundedCache<V> {
  /** The value for `key`, computed by `compute` on a miss and remembered. */
  get(key: string, compute: (key: string) => V): V;
}

export function boundedCache<V>(max: number): BoundedCache<V> {
  const entries = new Map<string, V>();
  return {
    get(key, compute) {
      const hit = entries.get(key);
      // One lookup on the hot path; `has` only for a remembered `undefined`.
      if (hit !== undefined || entries.has(key)) return hit as V;
      const value = compute(key);
      if (entries.size >= max) entries.clear();
      entries.set(key, value);
      return value;
    },
  };
}
