import { describe, expect, test } from 'bun:test'
import { isHttps, mentionsSession, readSessionValue, sessionCookie } from '../../src/modules/sessions/cookie'
import { fromOwnOrigin } from '../../src/modules/sessions/origin'

const V = 'A'.repeat(43)
const req = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers })

describe('session cookie', () => {
  test('Secure with the __Host- name over HTTPS; plain name without', () => {
    expect(sessionCookie(V, true, 60)).toBe(
      `__Host-sb_session=${V}; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure`,
    )
    expect(sessionCookie(V, false, 60)).toBe(`sb_session=${V}; Path=/; HttpOnly; SameSite=Strict; Max-Age=60`)
    expect(sessionCookie(null, false, 60)).toContain(
      'sb_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0',
    )
  })

  test('read under the name the scheme uses, well-formed only', () => {
    expect(readSessionValue(`a=b; sb_session=${V}`, false)).toBe(V)
    expect(readSessionValue(`sb_session=${V}`, true)).toBeNull()
    expect(readSessionValue(`__Host-sb_session=${V}`, true)).toBe(V)
    expect(readSessionValue('sb_session=short', false)).toBeNull()
    expect(readSessionValue(`sb_session=${V}!`, false)).toBeNull()
    expect(readSessionValue(null, false)).toBeNull()
    expect(mentionsSession(`x=1; __Host-sb_session=${V}`)).toBe(true)
    expect(mentionsSession('x=1')).toBe(false)
  })

  test('HTTPS: the public URL, the request itself, or a trusted proxy’s word', () => {
    const plain = { publicUrl: null, trustProxy: false }
    expect(isHttps(req('http://a/'), plain)).toBe(false)
    expect(isHttps(req('https://a/'), plain)).toBe(true)
    expect(isHttps(req('http://a/'), { publicUrl: 'https://sb.example', trustProxy: false })).toBe(true)
    expect(isHttps(req('http://a/', { 'x-forwarded-proto': 'https' }), plain)).toBe(false)
    expect(
      isHttps(req('http://a/', { 'x-forwarded-proto': 'https' }), { publicUrl: null, trustProxy: true }),
    ).toBe(true)
  })
})

describe('own origin (CSRF)', () => {
  const cfg = { publicUrl: null }
  test('Sec-Fetch-Site decides when present: same-origin only', () => {
    expect(fromOwnOrigin(req('http://a/', { 'sec-fetch-site': 'same-origin' }), cfg)).toBe(true)
    for (const site of ['same-site', 'cross-site', 'none'])
      expect(fromOwnOrigin(req('http://a/', { 'sec-fetch-site': site, origin: 'http://a' }), cfg)).toBe(false)
  })
  test('else Origin: the request’s own origin or the public URL; missing or null is refused', () => {
    expect(fromOwnOrigin(req('http://a:8080/x', { origin: 'http://a:8080' }), cfg)).toBe(true)
    expect(fromOwnOrigin(req('http://a:8080/x', { origin: 'http://a' }), cfg)).toBe(false)
    expect(fromOwnOrigin(req('http://a/x', { origin: 'https://a' }), cfg)).toBe(false)
    expect(
      fromOwnOrigin(req('http://internal/x', { origin: 'https://sb.example' }), {
        publicUrl: 'https://sb.example',
      }),
    ).toBe(true)
    expect(fromOwnOrigin(req('http://a/x', { origin: 'null' }), cfg)).toBe(false)
    expect(fromOwnOrigin(req('http://a/x'), cfg)).toBe(false)
  })
})
