import { lookup as dnsLookup } from 'node:dns/promises'

export type ResolvedAddress = { address: string; family: 4 | 6 }

/** Resolves a host name to every address it has; rejects (or answers []) when it has none. */
export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>

export const systemLookup: Lookup = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true })
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))
}

/**
 * Remembers each answer for `ttlMs` so the hot path does not pay a lookup per request, and
 * shares one lookup between concurrent callers. Failures are not remembered: a name that starts
 * resolving is usable at once. The oldest entry is dropped past `maxEntries`.
 */
export function cachedLookup(lookup: Lookup, ttlMs: number, maxEntries = 1024): Lookup {
  if (ttlMs <= 0) return lookup
  const cache = new Map<string, { expires: number; answer: Promise<ResolvedAddress[]> }>()
  return (hostname) => {
    const now = performance.now()
    const hit = cache.get(hostname)
    if (hit && hit.expires > now) return hit.answer
    if (hit) cache.delete(hostname)
    else if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!)
    const answer = lookup(hostname)
    const entry = { expires: now + ttlMs, answer }
    cache.set(hostname, entry)
    answer.catch(() => {
      if (cache.get(hostname) === entry) cache.delete(hostname)
    })
    return answer
  }
}
