/** Lookups a cache answered from memory (hits) and had to load (misses); read at scrape time. */
export class CacheStats {
  hits = 0
  misses = 0
}
