import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { harness, TestClock } from '../helpers'
import { appWorkspace, createConnection, execute, standInSaas, tokenEndpoint } from './fixtures'

/**
 * OAuth2 client credentials against a real local token endpoint that counts its requests:
 * the token is cached (by connection and secret version) until shortly before it expires,
 * concurrent executes share one request, a 401 refreshes once and retries once.
 */
const clock = new TestClock()
const h = await harness({ clock })
const saas = standInSaas()
const { ws, agent } = await appWorkspace(h)

const oauth = (tokenUrl: string, extra: Record<string, unknown> = {}) =>
  createConnection(h, ws.key, {
    baseUrl: `${saas.url}/api`,
    auth: {
      type: 'oauth2_client_credentials',
      tokenUrl,
      clientId: 'client/1',
      clientSecret: 'oauth-secret:0001',
      scopes: ['contacts.read', 'deals.write'],
      audience: 'https://crm.example.com',
      ...extra,
    },
  })

describe('the token request', () => {
  test('client_credentials with Basic client auth (form-encoded halves), scope and audience; the token goes up as Bearer', async () => {
    const tokens = tokenEndpoint()
    const c = await oauth(tokens.url)
    const seen = saas.mark()
    const res = await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(res.body.status).toBe(200)
    expect(tokens.requests.length).toBe(1)
    const [req] = tokens.requests
    expect(req!.authorization).toBe(
      `Basic ${Buffer.from('client%2F1:oauth-secret%3A0001').toString('base64')}`,
    )
    expect(Object.fromEntries(req!.form)).toEqual({
      grant_type: 'client_credentials',
      scope: 'contacts.read deals.write',
      audience: 'https://crm.example.com',
    })
    expect(seen()[0]!.headers.get('authorization')).toBe('Bearer tok-1')
  })

  test('client_secret_post sends the client in the form instead', async () => {
    const tokens = tokenEndpoint()
    const c = await oauth(tokens.url, {
      clientAuthMethod: 'client_secret_post',
      scopes: undefined,
      audience: undefined,
    })
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(tokens.requests[0]!.authorization).toBeNull()
    expect(Object.fromEntries(tokens.requests[0]!.form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'client/1',
      client_secret: 'oauth-secret:0001',
    })
  })

  test('a token endpoint that refuses is a 502 naming its error code; nothing reaches the app; the next call asks again', async () => {
    const tokens = tokenEndpoint({ status: 401 })
    const c = await oauth(tokens.url)
    const seen = saas.mark()
    const res = await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(res.status).toBe(502)
    expect(res.body.error).toBe("The app's token endpoint answered 401 (invalid_client)")
    expect(seen()).toEqual([])
    tokens.state.status = 200
    expect((await execute(h, agent, c.id, { method: 'GET', path: '/echo' })).body.status).toBe(200)
    expect(tokens.requests.length).toBe(2)
  })
})

describe('the cache', () => {
  test('one token until shortly before expires_in; then a new one', async () => {
    const tokens = tokenEndpoint({ expiresIn: 3600 })
    const c = await oauth(tokens.url)
    const seen = saas.mark()
    for (let i = 0; i < 3; i++) await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(tokens.requests.length).toBe(1)
    clock.advance(3539_000)
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(tokens.requests.length).toBe(1)
    clock.advance(2_000)
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(tokens.requests.length).toBe(2)
    expect(seen().map((r) => r.headers.get('authorization'))).toEqual([
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-1',
      'Bearer tok-2',
    ])
  })

  test('without expires_in a token is kept 300 s (replaced 30 s early)', async () => {
    const tokens = tokenEndpoint({ expiresIn: null })
    const c = await oauth(tokens.url)
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    clock.advance(269_000)
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(tokens.requests.length).toBe(1)
    clock.advance(2_000)
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(tokens.requests.length).toBe(2)
  })

  test('a change of auth is a new secret version: the cached token is not used again', async () => {
    const tokens = tokenEndpoint()
    const c = await oauth(tokens.url)
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    const patched = await h.call('PATCH', `/api/app-connections/${c.id}`, {
      token: ws.key,
      body: {
        auth: {
          type: 'oauth2_client_credentials',
          tokenUrl: tokens.url,
          clientId: 'client/1',
          scopes: ['other'],
        },
      },
    })
    expect(patched.body.secretVersion).toBe(2)
    const seen = saas.mark()
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(tokens.requests.length).toBe(2)
    expect(tokens.requests[1]!.form.get('scope')).toBe('other')
    expect(seen()[0]!.headers.get('authorization')).toBe('Bearer tok-2')
  })

  test('50 concurrent executes share exactly one token request', async () => {
    const tokens = tokenEndpoint()
    const c = await oauth(tokens.url)
    // The endpoint holds its answer until every caller could have asked (50 requests) or the test lets go.
    const release = tokens.hold(50)
    const seen = saas.mark()
    const calls = Array.from({ length: 50 }, () => execute(h, agent, c.id, { method: 'GET', path: '/echo' }))
    // Give the executes every chance to send their own token requests before the answer comes.
    while (tokens.requests.length === 0) await Bun.sleep(5)
    await Bun.sleep(300)
    release()
    const answers = await Promise.all(calls)
    expect(answers.map((a) => a.body.status)).toEqual(Array(50).fill(200))
    expect(tokens.requests.length).toBe(1)
    const sent = seen()
    expect(sent.length).toBe(50)
    expect(new Set(sent.map((r) => r.headers.get('authorization')))).toEqual(new Set(['Bearer tok-1']))
  })
})

describe('a 401 from the app', () => {
  test('refreshes once and retries once, then passes the 401 on as it is', async () => {
    const tokens = tokenEndpoint()
    const c = await oauth(tokens.url)
    const seen = saas.mark()
    const res = await execute(h, agent, c.id, { method: 'POST', path: '/unauthorized', body: { n: 1 } })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      status: 401,
      headers: expect.objectContaining({ 'www-authenticate': 'Bearer' }),
      body: { error: 'expired' },
      bodyEncoding: 'json',
    })
    expect(tokens.requests.length).toBe(2)
    const sent = seen()
    expect(sent.map((r) => r.headers.get('authorization'))).toEqual(['Bearer tok-1', 'Bearer tok-2'])
    // The retry carries the same body.
    expect(sent.map((r) => new TextDecoder().decode(r.body))).toEqual(['{"n":1}', '{"n":1}'])
    const logs = (await h.call('GET', '/api/audit-logs?action=app_connection_executed', { token: ws.key }))
      .body.logs
    expect(logs[0].metadata).toMatchObject({ status: 401, outcome: '4xx', retried: true })
  })

  test('the refreshed token is kept: the next call uses it without asking again', async () => {
    const tokens = tokenEndpoint()
    const c = await oauth(tokens.url)
    await execute(h, agent, c.id, { method: 'GET', path: '/unauthorized' })
    const seen = saas.mark()
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(tokens.requests.length).toBe(2)
    expect(seen()[0]!.headers.get('authorization')).toBe('Bearer tok-2')
  })

  test('concurrent 401s share one refresh', async () => {
    const tokens = tokenEndpoint()
    const c = await oauth(tokens.url)
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(tokens.requests.length).toBe(1)
    // The app holds its 401s until all ten calls have sent the first token.
    saas.gate(10)
    const seen = saas.mark()
    const calls = Array.from({ length: 10 }, () => execute(h, agent, c.id, { method: 'GET', path: '/gated' }))
    const answers = await Promise.all(calls)
    expect(answers.map((a) => a.body.status)).toEqual(Array(10).fill(401))
    expect(tokens.requests.length).toBe(2)
    const auth = seen().map((r) => r.headers.get('authorization'))
    expect(auth).toEqual([...Array(10).fill('Bearer tok-1'), ...Array(10).fill('Bearer tok-2')])
  })

  test('a static credential gets no retry', async () => {
    const c = await createConnection(h, ws.key, {
      baseUrl: `${saas.url}/api`,
      auth: { type: 'bearer', value: 'static' },
    })
    const seen = saas.mark()
    const res = await execute(h, agent, c.id, { method: 'GET', path: '/unauthorized' })
    expect(res.body.status).toBe(401)
    expect(seen().length).toBe(1)
  })
})

describe('the token endpoint passes the outbound guard', () => {
  test('at save time (400 naming the rule) and on every call (502, nothing sent)', async () => {
    const refused = await h.call('POST', '/api/app-connections', {
      token: ws.key,
      body: {
        name: 'guarded',
        baseUrl: `${saas.url}/api`,
        auth: {
          type: 'oauth2_client_credentials',
          tokenUrl: 'http://169.254.169.254/token',
          clientId: 'c',
          clientSecret: 's',
        },
      },
    })
    expect(refused.status).toBe(400)
    expect(refused.body.details).toEqual({ field: 'auth.tokenUrl', rule: 'metadata' })
    // A row pointing at a refused address anyway (an operator narrowed SWITCHBOARD_ALLOWED_NETWORKS since):
    const tokens = tokenEndpoint()
    const c = await oauth(tokens.url)
    const { appConnections: t } = h.deps.db.t
    const [row] = await h.deps.db.orm.select().from(t).where(eq(t.id, c.id))
    await h.deps.db.orm
      .update(t)
      .set({ auth: { ...(row!.auth as any), tokenUrl: 'http://10.1.2.3/token' }, secretVersion: 9 })
      .where(eq(t.id, c.id))
    const seen = saas.mark()
    const res = await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(res.status).toBe(502)
    expect(res.body.details).toEqual({ rule: 'private' })
    expect(res.body.error).toContain("app's token endpoint")
    expect(seen()).toEqual([])
    expect(tokens.requests.length).toBe(0)
  })

  test('a token endpoint that redirects is not followed', async () => {
    const tokens = tokenEndpoint({ status: 302 })
    const c = await oauth(tokens.url)
    const res = await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    expect(res.status).toBe(502)
    expect(tokens.requests.length).toBe(1)
  })
})
