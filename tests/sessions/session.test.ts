import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { harness, registerAgent, TestClock } from '../helpers'

const clock = new TestClock()
const h = await harness({
  clock,
  env: { SWITCHBOARD_SESSION_IDLE_SECONDS: '3600', SWITCHBOARD_SESSION_MAX_SECONDS: '14400' },
})
const ws = await h.workspace()
const other = await h.workspace()

const SAME = { origin: 'http://localhost' }

async function signIn(key: string, headers: Record<string, string> = SAME) {
  const res = await h.call('POST', '/api/session', { body: { key }, headers })
  const cookie = /^(sb_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? ''
  return { res, cookie }
}

describe('sign-in', () => {
  test('a workspace key opens a session: HttpOnly, SameSite=Strict cookie, stored hashed, no-store', async () => {
    const { res, cookie } = await signIn(ws.key)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      workspace: { id: ws.id },
      keyPrefix: ws.key.slice(0, 10),
      idleSeconds: 3600,
    })
    expect(res.headers.get('cache-control')).toBe('no-store')
    const set = res.headers.get('set-cookie')!
    expect(set).toContain('HttpOnly')
    expect(set).toContain('SameSite=Strict')
    expect(set).toContain('Path=/')
    expect(set).toContain('Max-Age=14400')
    expect(set).not.toContain('Secure')
    const value = cookie.split('=')[1]!
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const rows = await h.deps.db.orm
      .select()
      .from(h.deps.db.t.consoleSessions)
      .where(eq(h.deps.db.t.consoleSessions.workspaceId, ws.id))
    expect(rows.length).toBeGreaterThan(0)
    expect(JSON.stringify(rows)).not.toContain(value)
    const audit = await h.call('GET', '/api/audit-logs?action=console_signed_in', { token: ws.key })
    expect(audit.text).not.toContain(value)
    expect(audit.body.logs?.length ?? audit.body.items?.length).toBeGreaterThan(0)
  })

  test('what is not a live workspace key is a 401: an agent token, the admin token, garbage', async () => {
    const agent = await registerAgent(h, ws.key)
    for (const key of [agent.token, 'wk_nope', 'x'.repeat(40)]) {
      const { res, cookie } = await signIn(key)
      expect(res.status).toBe(401)
      expect(res.body.code).toBe('unauthorized')
      expect(cookie).toBe('')
    }
  })

  test('bad input is a 400, never a 500', async () => {
    for (const raw of [
      '{"key":1}',
      '{}',
      `{"key":"${'k'.repeat(600)}"}`,
      '{"key":"wk_\\u0000"}',
      '[[[[[[[[[[]]]]]]]]]]',
      '{',
    ]) {
      const res = await h.call('POST', '/api/session', {
        raw,
        headers: { ...SAME, 'content-type': 'application/json' },
      })
      expect([400, 401]).toContain(res.status)
      expect(res.body.code).toBeString()
    }
    const res = await h.call('POST', '/api/session', {
      raw: '{"key":1}',
      headers: { ...SAME, 'content-type': 'application/json' },
    })
    expect(res.status).toBe(400)
  })

  test('sign-in from another origin is refused (login CSRF)', async () => {
    expect((await signIn(ws.key, { origin: 'https://evil.example' })).res.status).toBe(403)
    expect((await signIn(ws.key, { 'sec-fetch-site': 'cross-site' })).res.status).toBe(403)
    expect((await signIn(ws.key, {})).res.status).toBe(403)
    expect((await signIn(ws.key, { 'sec-fetch-site': 'same-origin' })).res.status).toBe(200)
  })

  test('signing in again rotates the id: the cookie held before stops working', async () => {
    const first = await signIn(ws.key)
    const second = await signIn(ws.key, { ...SAME, cookie: first.cookie })
    expect(second.cookie).not.toBe(first.cookie)
    expect((await h.call('GET', '/api/session', { headers: { cookie: first.cookie } })).status).toBe(401)
    expect((await h.call('GET', '/api/session', { headers: { cookie: second.cookie } })).status).toBe(200)
  })
})

describe('the session acts as its workspace where a workspace key may', () => {
  test('workspace routes take it; another workspace’s objects stay 404', async () => {
    const { cookie } = await signIn(ws.key)
    const mine = await registerAgent(h, ws.key, { name: 'mine' })
    const theirs = await registerAgent(h, other.key, { name: 'theirs' })
    const list = await h.call('GET', '/api/agents', { headers: { cookie } })
    expect(list.status).toBe(200)
    expect(list.body.agents.map((a: any) => a.id)).toContain(mine.id)
    expect((await h.call('GET', `/api/agents/${theirs.id}`, { headers: { cookie } })).status).toBe(404)
    expect((await h.call('GET', `/api/agents/${mine.id}`, { headers: { cookie } })).status).toBe(200)
  })

  test('never on agent-only routes, the proxy lanes or admin routes', async () => {
    const { cookie } = await signIn(ws.key)
    const agent = await registerAgent(h, ws.key)
    const headers = { cookie, ...SAME }
    const beat = await h.call('POST', `/api/agents/${agent.id}/heartbeat`, {
      headers,
      body: { status: 'online' },
    })
    expect(beat.status).toBe(401)
    expect((await h.call('GET', '/api/agents/me', { headers })).status).toBe(401)
    expect((await h.call('POST', `/api/proxy/${crypto.randomUUID()}`, { headers, body: {} })).status).toBe(
      401,
    )
    expect((await h.call('GET', '/api/workspaces', { headers })).status).toBe(401)
    // A presented token wins over the cookie.
    const asAgent = await h.call('POST', `/api/agents/${agent.id}/heartbeat`, {
      headers,
      token: agent.token,
      body: { status: 'online' },
    })
    expect(asAgent.status).toBe(200)
  })

  test('CSRF: a state-changing request with the cookie must come from our own origin', async () => {
    const { cookie } = await signIn(ws.key)
    const post = (headers: Record<string, string>) =>
      h.call('POST', '/api/agents', { headers: { cookie, ...headers }, body: { name: 'csrf' } })
    const refused: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site', origin: 'http://localhost' },
      { 'sec-fetch-site': 'same-site' },
      {},
    ]
    for (const bad of refused) {
      const res = await post(bad)
      expect(res.status).toBe(403)
      expect(res.body.code).toBe('forbidden')
    }
    expect((await post(SAME)).status).toBe(201)
    expect((await post({ 'sec-fetch-site': 'same-origin' })).status).toBe(201)
    // Reads are not checked; they change nothing.
    expect(
      (await h.call('GET', '/api/agents', { headers: { cookie, origin: 'https://evil.example' } })).status,
    ).toBe(200)
    // A key in the header is no cookie: no origin needed.
    expect((await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'k' } })).status).toBe(201)
  })

  test('answers that carry a secret are no-store', async () => {
    const { cookie } = await signIn(ws.key)
    const headers = { cookie, ...SAME }
    const reg = await h.call('POST', '/api/agents', { headers, body: { name: 'secretive' } })
    expect(reg.headers.get('cache-control')).toBe('no-store')
    const rot = await h.call('POST', `/api/agents/${reg.body.agent.id}/rotate-token`, { headers, body: {} })
    expect(rot.status).toBe(200)
    expect(rot.headers.get('cache-control')).toBe('no-store')
    const key = await h.call('POST', '/api/workspace/keys', { headers, body: { name: 'k2' } })
    expect(key.headers.get('cache-control')).toBe('no-store')
    const secret = await h.call('GET', '/api/workspace/webhook-secret', { headers })
    expect(secret.headers.get('cache-control')).toBe('no-store')
    const list = await h.call('GET', '/api/agents', { headers })
    expect(list.headers.get('cache-control')).toBeNull()
  })
})

describe('the session ends', () => {
  test('at sign-out: the cookie is cleared and no longer works', async () => {
    const { cookie } = await signIn(ws.key)
    const out = await h.call('DELETE', '/api/session', { headers: { cookie, ...SAME } })
    expect(out.status).toBe(200)
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0')
    expect((await h.call('GET', '/api/agents', { headers: { cookie } })).status).toBe(401)
    // Again, or without a cookie: 401, and the cookie is cleared all the same.
    const twice = await h.call('DELETE', '/api/session', { headers: { cookie, ...SAME } })
    expect(twice.status).toBe(401)
    expect(twice.headers.get('set-cookie')).toContain('Max-Age=0')
    // Sign-out from another site is refused, so it cannot be forced on anyone either.
    const again = await signIn(ws.key)
    const forced = await h.call('DELETE', '/api/session', {
      headers: { cookie: again.cookie, origin: 'https://evil.example' },
    })
    expect(forced.status).toBe(403)
    expect((await h.call('GET', '/api/session', { headers: { cookie: again.cookie } })).status).toBe(200)
  })

  test('when its key is revoked', async () => {
    const created = await h.call('POST', '/api/workspace/keys', {
      token: ws.key,
      body: { name: 'to-revoke' },
    })
    const { cookie } = await signIn(created.body.apiKey)
    expect((await h.call('GET', '/api/session', { headers: { cookie } })).status).toBe(200)
    expect(
      (await h.call('DELETE', `/api/workspace/keys/${created.body.key.id}`, { token: ws.key })).status,
    ).toBe(200)
    const after = await h.call('GET', '/api/agents', { headers: { cookie } })
    expect(after.status).toBe(401)
    expect(after.body.error).toContain('session has ended')
  })

  test('after the idle time without a request, and at its absolute end even when used', async () => {
    const idle = await signIn(ws.key)
    clock.advance(3600_000 + 1000)
    expect((await h.call('GET', '/api/session', { headers: { cookie: idle.cookie } })).status).toBe(401)

    const busy = await signIn(ws.key)
    for (let i = 0; i < 4; i++) {
      clock.advance(3000_000)
      expect((await h.call('GET', '/api/session', { headers: { cookie: busy.cookie } })).status).toBe(200)
    }
    clock.advance(3000_000) // 4 h 10 min after sign-in (used every 50 min): past the absolute 4 h
    expect((await h.call('GET', '/api/session', { headers: { cookie: busy.cookie } })).status).toBe(401)
  })

  test('no later than the key it was opened with', async () => {
    const created = await h.call('POST', '/api/workspace/keys', {
      token: ws.key,
      body: { name: 'short', expiresInSeconds: 600 },
    })
    const { res, cookie } = await signIn(created.body.apiKey)
    expect(res.headers.get('set-cookie')).toContain('Max-Age=600')
    clock.advance(601_000)
    expect((await h.call('GET', '/api/session', { headers: { cookie } })).status).toBe(401)
  })

  test('a malformed or unknown cookie is no session', async () => {
    expect(
      (await h.call('GET', '/api/agents', { headers: { cookie: 'sb_session=short' } })).body.error,
    ).toContain('credential is required')
    const unknown = `sb_session=${'A'.repeat(43)}`
    expect((await h.call('GET', '/api/agents', { headers: { cookie: unknown } })).status).toBe(401)
  })
})

describe('behind HTTPS (SWITCHBOARD_PUBLIC_URL=https://…)', async () => {
  const secure = await harness({ env: { SWITCHBOARD_PUBLIC_URL: 'https://sb.example' } })
  const w = await secure.workspace()
  test('the cookie is Secure and __Host- named; only that name is read; Origin must be the public URL', async () => {
    const res = await secure.call('POST', '/api/session', {
      body: { key: w.key },
      headers: { origin: 'https://sb.example' },
    })
    expect(res.status).toBe(200)
    const set = res.headers.get('set-cookie')!
    expect(set).toStartWith('__Host-sb_session=')
    expect(set).toContain('; Secure')
    const value = /^__Host-sb_session=([^;]+)/.exec(set)![1]!
    expect(
      (await secure.call('GET', '/api/session', { headers: { cookie: `__Host-sb_session=${value}` } }))
        .status,
    ).toBe(200)
    expect(
      (await secure.call('GET', '/api/session', { headers: { cookie: `sb_session=${value}` } })).status,
    ).toBe(401)
    const post = await secure.call('POST', '/api/agents', {
      headers: { cookie: `__Host-sb_session=${value}`, origin: 'https://sb.example' },
      body: { name: 'over-tls' },
    })
    expect(post.status).toBe(201)
  })
})
