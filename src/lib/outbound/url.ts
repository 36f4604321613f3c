import type { HostCheck, HostChecker } from './host'

export type UrlRule = 'invalid_url' | 'scheme' | 'credentials'

export type UrlCheck =
  | { ok: true; url: URL; address: string; family: 4 | 6 }
  | { ok: false; reason: UrlRule | Extract<HostCheck, { ok: false }>['reason']; message: string }

/**
 * Decides whether `input` may be requested, and at which address. `unresolvable` is its own
 * reason because registering a name that does not resolve yet is fine while calling it is not.
 */
export async function checkUrl(
  input: string | URL,
  checkHost: HostChecker,
  signal?: AbortSignal,
): Promise<UrlCheck> {
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
  const checked = await checkHost(host, signal)
  return checked.ok ? { ok: true, url, address: checked.address, family: checked.family } : checked
}
