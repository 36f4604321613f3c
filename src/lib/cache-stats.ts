/**
 * Lookups a cache answered from memory (hits), had to load (misses), and entries it dropped to
 * stay within its bound (evictions); read at scrape time.
 */
export class CacheStats {
  hits = 0
  misses = 0
  evictions = 0
}

/**
 * Sets `key` in a Map used as a bounded cache: when it is full the oldest entries (the Map's
 * insertion order) go first, one at a time, so a full cache keeps what is still in use instead
 * of forgetting everything at once. `onEvict` lets a cache drop what it indexes beside the map.
 */
export function setBounded<K, V>(
  map: Map<K, V>,
  key: K,
  value: V,
  max: number,
  stats: CacheStats | null,
  onEvict?: (key: K, value: V) => void,
) {
  // A key set again moves to the end: it is the newest now.
  if (!map.delete(key)) {
    while (map.size >= max && map.size > 0) {
      const oldest = map.keys().next().value as K
      const gone = map.get(oldest) as V
      map.delete(oldest)
      if (stats) stats.evictions++
      onEvict?.(oldest, gone)
    }
  }
  map.set(key, value)
}
