/**
 * The core's bounded caches, for values computed from a string key (and, for whole pods, a JSON
 * value). Keys are often user input (annotation values, whole pods), so a cache never holds more
 * than `max` entries, nor keys of more than a bound of characters in all: when full it is cleared and refilled by what is in
 * use, which for the few distinct values of a workload is cheaper than tracking recency.
 */
import { jsonEqual } from './json.js';

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

/**
 * Values keyed by a short string and a JSON value too large to hash cheaply (a whole pod): the
 * string picks a bucket, and the value must be `jsonEqual` to a remembered snapshot of one, so a
 * hit means the same JSON text. Bounded like `boundedCache`: `max` entries, `perBucket` in one
 * bucket (the oldest goes first), and `maxChars` of snapshot JSON text in all.
 */
export interface MatchCache<V> {
  get(bucket: string, value: unknown, compute: () => V): V;
}

interface Remembered<V> {
  snapshot: unknown;
  chars: number;
  value: V;
}

export function boundedMatchCache<V>(
  max: number,
  options: { perBucket: number; maxChars: number },
): MatchCache<V> {
  const buckets = new Map<string, Remembered<V>[]>();
  let entries = 0;
  let chars = 0;
  return {
    get(bucket, value, compute) {
      const list = buckets.get(bucket);
      if (list !== undefined) {
        for (const entry of list) if (jsonEqual(value, entry.snapshot)) return entry.value;
      }
      const computed = compute();
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch {
        // Not JSON data (cycles, BigInt): never remembered.
      }
      const size = (text?.length ?? Number.POSITIVE_INFINITY) + bucket.length;
      if (text === undefined || size > options.maxChars) return computed;
      // The snapshot is what the text says, so a later change to `value` cannot reach it.
      const entry = { snapshot: JSON.parse(text) as unknown, chars: size, value: computed };
      if (entries >= max || chars + size > options.maxChars) {
        buckets.clear();
        entries = 0;
        chars = 0;
      }
      const target = buckets.get(bucket) ?? [];
      if (target.length >= options.perBucket) {
        const oldest = target.shift() as Remembered<V>;
        entries--;
        chars -= oldest.chars;
      }
      target.push(entry);
      buckets.set(bucket, target);
      entries++;
      chars += size;
      return computed;
    },
  };
}
