/**
 * The console's session cookie, as pure functions. Over HTTPS the cookie is named with the
 * `__Host-` prefix, which browsers accept only when it is Secure, has Path=/ and no Domain —
 * so no sibling subdomain can plant or widen it.
 */
import type { Config } from '../../config'

export const COOKIE_NAMES = { secure: '__Host-sb_session', plain: 'sb_session' } as const

/** A session value: 32 random bytes, base64url. Anything else is refused before a query. */
const VALUE = /^[A-Za-z0-9_-]{43}$/

export function newSessionValue(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}

/**
 * Whether this request reached us over HTTPS: the public URL says so, the request itself
 * came over TLS, or (behind a trusted proxy only) the proxy says it did.
 */
export function isHttps(request: Request, config: Pick<Config, 'publicUrl' | 'trustProxy'>): boolean {
  if (config.publicUrl?.startsWith('https://')) return true
  if (request.url.startsWith('https://')) return true
  if (!config.trustProxy) return false
  return request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https'
}

export const cookieName = (secure: boolean) => (secure ? COOKIE_NAMES.secure : COOKIE_NAMES.plain)

/** The session value the request carries under the name this request's scheme uses, if well-formed. */
export function readSessionValue(cookieHeader: string | null, secure: boolean): string | null {
  if (!cookieHeader) return null
  const name = cookieName(secure)
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim()
    return VALUE.test(value) ? value : null
  }
  return null
}

/** Whether a Cookie header carries a session cookie at all (either name), before any check. */
export const mentionsSession = (cookieHeader: string | null) => cookieHeader?.includes('sb_session=') === true

/**
 * `Set-Cookie` for a session value (or, with `value: null`, one that deletes it). HttpOnly:
 * no script can read it; SameSite=Strict: no other site's page sends it. The browser keeps
 * it no longer than the session's absolute lifetime.
 */
export function sessionCookie(value: string | null, secure: boolean, maxAgeSeconds: number): string {
  const parts = [
    `${cookieName(secure)}=${value ?? ''}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${value === null ? 0 : Math.max(0, Math.floor(maxAgeSeconds))}`,
  ]
  if (secure) parts.push('Secure')
  return parts.join('; ')
}
