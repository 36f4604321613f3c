import { isIP } from 'node:net'
import type { AddressPolicy, AddressRule } from './policy'
import type { Lookup, ResolvedAddress } from './resolve'

export type HostCheck =
  | { ok: true; address: string; family: 4 | 6 }
  | { ok: false; reason: AddressRule | 'unresolvable'; message: string }

/**
 * Judges a URL host (a literal address or a name). Answers synchronously when it can, so the hot
 * path pays no promise. `signal` stops waiting for DNS (a lookup itself cannot be cancelled).
 */
export type HostChecker = (host: string, signal?: AbortSignal) => HostCheck | Promise<HostCheck>

// RFC 6761: these names are loopback by definition, so they are judged without asking DNS.
const LOOPBACK_NAME: ResolvedAddress[] = [{ address: '127.0.0.1', family: 4 }]

/**
 * Every address a name resolves to must pass: a name answering one public and one private address
 * is refused. Verdicts are kept `cacheMs` (0: none) so a request does not pay a DNS lookup, and
 * concurrent callers share one lookup. `unresolvable` is not kept: a name that starts resolving is
 * usable at once. The oldest entry is dropped past `maxEntries`.
 */
export function createHostChecker(opts: {
  policy: AddressPolicy
  lookup: Lookup
  cacheMs?: number
  maxEntries?: number
  /** Milliseconds on a monotonic clock; tests drive it. */
  now?: () => number
}): HostChecker {
  const { policy, lookup, cacheMs = 30_000, maxEntries = 1024, now: clock = () => performance.now() } = opts
  const cache = new Map<string, { expires: number; check: HostCheck | Promise<HostCheck> }>()

  const judgeAll = (host: string, addresses: ResolvedAddress[], literal: boolean): HostCheck => {
    for (const a of addresses) {
      const verdict = policy.judge(a.address)
      if (!verdict.allowed) {
        const message = literal ? verdict.message : `${host} resolves to ${verdict.message}`
        return { ok: false, reason: verdict.rule, message }
      }
    }
    return { ok: true, address: addresses[0]!.address, family: addresses[0]!.family }
  }

  const resolve = async (host: string): Promise<HostCheck> => {
    const name = host.endsWith('.') ? host.slice(0, -1) : host
    if (name === 'localhost' || name.endsWith('.localhost')) return judgeAll(host, LOOPBACK_NAME, false)
    const answers = await lookup(host).catch(() => [])
    if (answers.length === 0)
      return { ok: false, reason: 'unresolvable', message: `${host} does not resolve` }
    return judgeAll(host, answers, false)
  }

  const check = (host: string): HostCheck | Promise<HostCheck> => {
    const family = isIP(host)
    return family ? judgeAll(host, [{ address: host, family: family as 4 | 6 }], true) : resolve(host)
  }

  return (host, signal) => {
    if (cacheMs <= 0) return race(check(host), signal)
    const now = clock()
    const hit = cache.get(host)
    if (hit && hit.expires > now) return race(hit.check, signal)
    if (hit) cache.delete(host)
    else if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!)
    const entry = { expires: now + cacheMs, check: check(host) }
    cache.set(host, entry)
    if (entry.check instanceof Promise) {
      entry.check.then((settled) => {
        if (cache.get(host) !== entry) return
        if (settled.ok || settled.reason !== 'unresolvable') entry.check = settled
        else cache.delete(host)
      })
    }
    return race(entry.check, signal)
  }
}

function race(check: HostCheck | Promise<HostCheck>, signal: AbortSignal | undefined) {
  if (!signal || !(check instanceof Promise)) return check
  return new Promise<HostCheck>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    check.then(resolve).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
