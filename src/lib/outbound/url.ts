import { isIP } from 'node:net'
import type { AddressPolicy, AddressRule } from './policy'
import type { Lookup, ResolvedAddress } from './resolve'

export type UrlRule = 'invalid_url' | 'scheme' | 'credentials'

export type UrlCheck =
  | { ok: true; url: URL; address: string; family: 4 | 6 }
  | { ok: false; reason: UrlRule | AddressRule | 'unresolvable'; message: string }

// RFC 6761: these names are loopback by definition, so they are judged without asking DNS.
const LOOPBACK_NAME: ResolvedAddress[] = [{ address: '127.0.0.1', family: 4 }]

/** `signal` stops waiting for DNS (a lookup itself cannot be cancelled). */
export type CheckDeps = { policy: AddressPolicy; lookup: Lookup; signal?: AbortSignal }

/**
 * Decides whether `input` may be requested, and at which address. Every address the name resolves
 * to must pass the policy: a name answering one public and one private address is refused.
 * `unresolvable` is its own reason because registering a name that does not resolve yet is fine
 * while calling it is not.
 */
export async function checkUrl(input: string | URL, deps: CheckDeps): Promise<UrlCheck> {
  const url = typeof input === 'string' ? URL.parse(input) : input
  if (!url) return { ok: false, reason: 'invalid_url', message: 'not a valid URL' }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      ok: false,
      reason: 'scheme',
      message: `scheme ${url.protocol} is not allowed; use http or https`,
    }
  }
  if (url.username || url.password) {
    return { ok: false, reason: 'credentials', message: 'credentials in the URL are not allowed' }
  }
  // The WHATWG parser has already turned 2130706433, 0177.0.0.1, 0x7f.1 and 127.1 into 127.0.0.1.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  const family = isIP(host)
  const addresses = family ? [{ address: host, family: family as 4 | 6 }] : await resolve(host, deps)
  if (!addresses) return { ok: false, reason: 'unresolvable', message: `${host} does not resolve` }
  for (const a of addresses) {
    const verdict = deps.policy.judge(a.address)
    if (!verdict.allowed) {
      const via = family ? '' : `${host} resolves to `
      return { ok: false, reason: verdict.rule, message: `${via}${verdict.message}` }
    }
  }
  const first = addresses[0]!
  return { ok: true, url, address: first.address, family: first.family }
}

async function resolve(host: string, deps: CheckDeps): Promise<ResolvedAddress[] | undefined> {
  const name = host.endsWith('.') ? host.slice(0, -1) : host
  if (name === 'localhost' || name.endsWith('.localhost')) return LOOPBACK_NAME
  try {
    const answers = await (deps.signal ? raceSignal(deps.lookup(host), deps.signal) : deps.lookup(host))
    return answers.length > 0 ? answers : undefined
  } catch {
    return undefined
  }
}

function raceSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
