import { describe, expect, test } from 'bun:test'
import { harness } from '../helpers'

const h = await harness()

describe('the console is served from the app itself', () => {
  test('GET / is the page with a strict CSP: no inline script, no remote origin', async () => {
    const res = await h.call('GET', '/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/html')
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toMatch(/https?:/)
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    // Every script is a file of our own; the page names no other origin.
    const scripts = [...res.text.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])
    expect(scripts.length).toBeGreaterThan(0)
    for (const s of scripts) expect(s).toMatch(/src="\/[^/]/)
    expect(res.text).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/)
    expect(res.text).not.toMatch(/(src|href)="(https?:)?\/\//)
  })

  test('every console address serves the page, so deep links survive a reload', async () => {
    for (const path of [
      '/agents',
      '/agents/register',
      '/agents/agt-abcd1234',
      '/agents/agt-abcd1234/health',
      '/jobs',
      '/workspace',
      '/audit',
      '/connections',
      '/groups',
      '/pools',
      '/app-connections',
      '/app-connections/new',
      '/app-connections/0193d8a4-7c2e-7b1a-9f3e-2d4c5b6a7e8f',
      '/sign-in',
    ]) {
      const res = await h.call('GET', path)
      expect(res.status).toBe(200)
      expect(res.text).toContain('<div id="app">')
    }
  })

  test('its scripts and styles: immutable, revalidated by ETag; unknown names and API paths keep the 404 envelope', async () => {
    const page = (await h.call('GET', '/')).text
    const assets = [...page.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!)
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true)
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true)
    for (const a of assets) {
      const res = await h.call('GET', `/${a}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toContain('immutable')
      expect(res.headers.get('content-type')).toMatch(a.endsWith('.js') ? /javascript/ : /css/)
      const etag = res.headers.get('etag')!
      expect((await h.call('GET', `/${a}`, { headers: { 'if-none-match': etag } })).status).toBe(304)
    }
    const missing = await h.call('GET', '/chunk-nope.js')
    expect(missing.status).toBe(404)
    expect(missing.body.code).toBe('not_found')
    expect((await h.call('GET', '/api/nope')).body.code).toBe('not_found')
    expect((await h.call('GET', '/healthz')).body).toEqual({ status: 'ok' })
    expect((await h.call('GET', '/docs')).text).toContain('swagger')
  })
})
