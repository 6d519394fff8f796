/**
 * The one bounded cache of the core, for values computed from a string key. Keys are often user
 * input (annotation values, whole pods), so it never holds more than `max` entries, nor keys of
 * more than `maxKeyChars` characters in all: when full it is cleared and refilled by what is in
 * use, which for the few distinct values of a workload is cheaper than tracking recency.
 */
export interface BoundedCache<V> {
  /** The value for `key`, computed by `compute` on a miss and remembered. */
  get(key: string, compute: (key: string) => V): V;
}

export interface BoundedCacheOptions {
  /** Total length of the remembered keys (default: unbounded, `max` alone bounds the cache). */
  maxKeyChars?: number;
}

export function boundedCache<V>(max: number, options: BoundedCacheOptions = {}): BoundedCache<V> {
  const entries = new Map<string, V>();
  const maxKeyChars = options.maxKeyChars ?? Number.POSITIVE_INFINITY;
  let keyChars = 0;
  return {
    get(key, compute) {
      const hit = entries.get(key);
      // One lookup on the hot path; `has` only for a remembered `undefined`.
      if (hit !== undefined || entries.has(key)) return hit as V;
      const value = compute(key);
      // A key larger than the whole budget is computed every time, never remembered.
      if (key.length > maxKeyChars) return value;
      if (entries.size >= max || keyChars + key.length > maxKeyChars) {
        entries.clear();
        keyChars = 0;
      }
      entries.set(key, value);
      keyChars += key.length;
      return value;
    },
  };
}

/**
 * `compute` remembered per key object, for inputs that never change once built (configurations,
 * meshes, resolved proxy configs): a WeakMap, so an entry lives as long as its key.
 */
export function memoByIdentity<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const cache = new WeakMap<K, V>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = compute(key);
      cache.set(key, value);
    }
    return value;
  };
}
