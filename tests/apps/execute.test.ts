import { describe, expect, test } from 'bun:test'
import { harness, registerAgent, upstream } from '../helpers'
import { appWorkspace, createConnection, execute, standInSaas } from './fixtures'

/**
 * Execute against a real local stand-in SaaS that records what it received: each auth type at
 * the upstream, the answer as the agent sees it, timeouts, sizes, redirects, who may call.
 */
const h = await harness()
const saas = standInSaas()
const { ws, agent } = await appWorkspace(h)
const BASE = `${saas.url}/api`

const connection = (auth: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  createConnection(h, ws.key, { baseUrl: BASE, auth, ...extra })

describe('each auth type reaches the app as it should, and nothing of Switchboard does', () => {
  test('bearer, header, basic and query credentials, injected server-side', async () => {
    const cases = [
      [
        { type: 'bearer', value: 'bearer-0001' },
        (r: any) => r.headers.get('authorization') === 'Bearer bearer-0001',
      ],
      [
        { type: 'header', name: 'X-Api-Key', value: 'header-0002' },
        (r: any) => r.headers.get('x-api-key') === 'header-0002' && !r.headers.has('authorization'),
      ],
      [
        { type: 'basic', username: 'ada', password: 'pässword-0003' },
        (r: any) =>
          r.headers.get('authorization') === `Basic ${Buffer.from('ada:pässword-0003').toString('base64')}`,
      ],
      [
        { type: 'query', name: 'api_key', value: 'query 0004&x' },
        (r: any) => r.query.get('api_key') === 'query 0004&x' && !r.headers.has('authorization'),
      ],
    ] as const
    for (const [auth, check] of cases) {
      const c = await connection(auth)
      const seen = saas.mark()
      const res = await execute(h, agent, c.id, {
        method: 'GET',
        path: '/echo',
        query: { q: 'contacts' },
        headers: { 'X-Trace': 'abc', Accept: 'application/json' },
      })
      expect({ type: auth.type, status: res.status, upstream: res.body.status }).toEqual({
        type: auth.type,
        status: 200,
        upstream: 200,
      })
      const [got, ...more] = seen()
      expect(more).toEqual([])
      expect({ type: auth.type, ok: check(got) }).toEqual({ type: auth.type, ok: true })
      expect(got!.path).toBe('/api/echo')
      expect(got!.query.get('q')).toBe('contacts')
      expect(got!.headers.get('x-trace')).toBe('abc')
      expect(got!.headers.get('user-agent')).toBe('Switchboard-Apps/1')
      // The agent's token, Switchboard's own headers and cookies never go up.
      const sent = JSON.stringify([...got!.headers])
      expect(sent).not.toContain(agent.token)
      expect([...got!.headers.keys()].filter((k) => k.startsWith('x-switchboard') || k === 'cookie')).toEqual(
        [],
      )
    }
  })

  test('hop-by-hop and forwarding headers of the caller are not passed on', async () => {
    const c = await connection({ type: 'bearer', value: 'v-0005' })
    const seen = saas.mark()
    const res = await execute(h, agent, c.id, {
      method: 'GET',
      path: '/echo',
      headers: {
        'X-Forwarded-For': '10.0.0.1',
        Upgrade: 'h2c',
        'Keep-Alive': '1',
        'X-Switchboard-Caller': 'agt-spoofed1',
        'User-Agent': 'mine/2',
      },
    })
    expect(res.status).toBe(200)
    const got = seen()[0]!
    for (const name of ['x-forwarded-for', 'upgrade', 'keep-alive', 'x-switchboard-caller'])
      expect({ name, sent: got.headers.has(name) }).toEqual({ name, sent: false })
    expect(got.headers.get('user-agent')).toBe('mine/2')
  })
})

describe('the answer', () => {
  let c: { id: string }
  const run = async (path: string, extra: Record<string, unknown> = {}) => {
    c ??= await connection({ type: 'bearer', value: 'answers-0006' })
    return execute(h, agent, c.id, { method: 'GET', path, ...extra })
  }

  test('JSON parsed, text as text (in its charset), anything else base64, nothing as none', async () => {
    const json = await run('/echo')
    expect(json.body).toMatchObject({
      status: 200,
      bodyEncoding: 'json',
      body: { method: 'GET', path: '/api/echo' },
    })
    expect((await run('/text')).body).toMatchObject({ bodyEncoding: 'text', body: 'plain words' })
    expect((await run('/latin1')).body).toMatchObject({ bodyEncoding: 'text', body: 'café' })
    const bin = (await run('/binary')).body
    expect(bin).toMatchObject({ bodyEncoding: 'base64', headers: { 'content-type': 'image/png' } })
    expect([...Buffer.from(bin.body, 'base64')]).toEqual([0, 1, 2, 0xff, 0xfe])
    expect((await run('/empty')).body).toEqual({
      status: 204,
      headers: expect.any(Object),
      body: null,
      bodyEncoding: 'none',
    })
    expect((await run('/gzip')).body).toMatchObject({ bodyEncoding: 'json', body: { packed: true } })
    expect((await run('/deep')).body.bodyEncoding).toBe('text')
  })

  test("the app's status passes as it is, 4xx and 5xx included", async () => {
    for (const status of [201, 404, 422, 500, 503]) {
      const res = await run(`/status/${status}`)
      expect({ status: res.status, upstream: res.body.status, body: res.body.body }).toEqual({
        status: 200,
        upstream: status,
        body: { status },
      })
    }
  })

  test('answer headers: no set-cookie, no hop-by-hop, no length or encoding; the rest passes', async () => {
    const res = await run('/headers')
    expect(res.body.headers['x-rate-remaining']).toBe('41')
    expect(res.body.headers['cache-control']).toBe('no-store')
    for (const name of ['set-cookie', 'keep-alive', 'connection', 'content-length', 'transfer-encoding'])
      expect({ name, shown: name in res.body.headers }).toEqual({ name, shown: false })
    // …and none of the app's headers leak onto Switchboard's own answer.
    expect(res.headers.get('set-cookie')).toBeNull()
    const gz = await run('/gzip')
    expect(gz.body.headers['content-encoding']).toBeUndefined()
  })

  test('a redirect is not followed: it comes back as it is', async () => {
    const seen = saas.mark()
    const res = await run('/redirect')
    expect(res.body).toMatchObject({
      status: 302,
      headers: { location: `${saas.url}/api/elsewhere` },
      bodyEncoding: 'none',
    })
    expect(seen().map((r) => r.path)).toEqual(['/api/redirect'])
  })
})

describe('bodies up', () => {
  test('JSON by default, text, base64; a content type of the caller wins', async () => {
    const c = await connection({ type: 'bearer', value: 'bodies-0007' })
    const cases = [
      [{ body: { a: [1, 'two'] } }, '{"a":[1,"two"]}', 'application/json'],
      [{ body: 'hello', bodyEncoding: 'text' }, 'hello', 'text/plain; charset=utf-8'],
      [{ body: 'AAEC', bodyEncoding: 'base64' }, '\u0000\u0001\u0002', 'application/octet-stream'],
      [
        { body: '<a/>', bodyEncoding: 'text', headers: { 'Content-Type': 'application/xml' } },
        '<a/>',
        'application/xml',
      ],
    ] as const
    for (const [extra, body, type] of cases) {
      const res = await execute(h, agent, c.id, { method: 'POST', path: '/echo', ...extra })
      expect({ body: res.body.body.body, type: res.body.body.contentType }).toEqual({ body, type })
    }
  })

  test('1 MB both ways: a larger request body is a 413 before anything is sent, a larger answer an error', async () => {
    const c = await connection({ type: 'bearer', value: 'sizes-0008' })
    const seen = saas.mark()
    const big = await execute(h, agent, c.id, {
      method: 'POST',
      path: '/echo',
      body: 'x'.repeat(1_048_577),
      bodyEncoding: 'text',
    })
    expect(big.status).toBe(413)
    expect(big.body).toMatchObject({ code: 'payload_too_large', details: { limitBytes: 1_048_576 } })
    const b64 = Buffer.alloc(1_048_577).toString('base64')
    expect(
      (await execute(h, agent, c.id, { method: 'POST', path: '/echo', body: b64, bodyEncoding: 'base64' }))
        .status,
    ).toBe(413)
    expect(seen()).toEqual([])
    const fits = await execute(h, agent, c.id, {
      method: 'POST',
      path: '/echo',
      body: 'y'.repeat(1_000_000),
      bodyEncoding: 'text',
    })
    expect(fits.body.status).toBe(200)
    const answer = await execute(h, agent, c.id, { method: 'GET', path: '/big' })
    expect(answer.status).toBe(502)
    expect(answer.body).toMatchObject({ code: 'bad_gateway', details: { limitBytes: 1_048_576 } })
    expect(answer.text).not.toContain('xxxx')
    // The whole request envelope is capped too, while it is read.
    const raw = JSON.stringify({ method: 'POST', path: '/echo', body: 'z'.repeat(1_500_000) })
    const envelope = await h.call('POST', `/api/agents/${agent.id}/app-connections/${c.id}/execute`, {
      token: agent.token,
      raw,
      headers: { 'content-type': 'application/json' },
    })
    expect(envelope.status).toBe(413)
  })
})

describe('timeouts and failures', () => {
  test("the connection's timeout covers the call: 504, and the app's request is aborted", async () => {
    const c = await connection({ type: 'bearer', value: 'slow-0009' }, { timeoutMs: 300 })
    const res = await execute(h, agent, c.id, { method: 'GET', path: '/slow' })
    expect(res.status).toBe(504)
    expect(res.body.code).toBe('gateway_timeout')
    expect(res.body.error).toContain('300 ms')
  })

  test('an app that cannot be reached is a 502; a host that never resolves too (checked on every call)', async () => {
    const closed = upstream(() => new Response('never'))
    const port = closed.server.port
    closed.server.stop(true)
    const down = await createConnection(h, ws.key, {
      baseUrl: `http://127.0.0.1:${port}/api`,
      auth: { type: 'bearer', value: 'v' },
    })
    const res = await execute(h, agent, down.id, { method: 'GET', path: '/x' })
    expect(res.status).toBe(502)
    expect(res.body.code).toBe('bad_gateway')
    const nowhere = await createConnection(h, ws.key, {
      baseUrl: 'https://app.invalid/api',
      auth: { type: 'bearer', value: 'v' },
    })
    const res2 = await execute(h, agent, nowhere.id, { method: 'GET', path: '/x' })
    expect(res2.status).toBe(502)
    expect(res2.body.error).toContain('does not resolve')
  })
})

describe('who may execute', () => {
  test('allowed agents only; anyone else, and any agent of another workspace, gets 404', async () => {
    const allowed = await registerAgent(h, ws.key, { name: 'allowed' })
    const notAllowed = await registerAgent(h, ws.key, { name: 'not-allowed' })
    const other = await h.workspace()
    const stranger = await registerAgent(h, other.key, { name: 'stranger' })
    const c = await connection({ type: 'bearer', value: 'v' }, { allowedAgentIds: [allowed.id] })
    const seen = saas.mark()
    expect((await execute(h, allowed, c.id, { method: 'GET', path: '/echo' })).status).toBe(200)
    const refused = await execute(h, notAllowed, c.id, { method: 'GET', path: '/echo' })
    expect(refused.status).toBe(404)
    expect(refused.body).toEqual({ error: 'App connection not found', code: 'not_found' })
    const foreign = await execute(h, stranger, c.id, { method: 'GET', path: '/echo' })
    expect(foreign.body).toEqual(refused.body)
    expect(foreign.status).toBe(404)
    // The same answer as a connection that does not exist at all.
    const unknown = await execute(h, allowed, crypto.randomUUID(), { method: 'GET', path: '/echo' })
    expect(unknown.body).toEqual(refused.body)
    const closed = await connection({ type: 'bearer', value: 'v' }, { allowedAgentIds: [] })
    expect((await execute(h, allowed, closed.id, { method: 'GET', path: '/echo' })).status).toBe(404)
    expect(seen().length).toBe(1)
    // Opened to the workspace again.
    await h.call('PATCH', `/api/app-connections/${closed.id}`, {
      token: ws.key,
      body: { allowedAgentIds: null },
    })
    expect((await execute(h, notAllowed, closed.id, { method: 'GET', path: '/echo' })).status).toBe(200)
  })

  test('the credential: missing or bad 401, a workspace key 403, another agent’s id 403, a deleted connection 404', async () => {
    const c = await connection({ type: 'bearer', value: 'v' })
    const other = await registerAgent(h, ws.key, { name: 'other' })
    const path = `/api/agents/${agent.id}/app-connections/${c.id}/execute`
    const body = { method: 'GET', path: '/echo' }
    expect((await h.call('POST', path, { body })).status).toBe(401)
    expect((await h.call('POST', path, { body, token: 'tk_bogus' })).status).toBe(401)
    expect((await h.call('POST', path, { body, token: ws.key })).status).toBe(403)
    expect((await h.call('POST', path, { body, token: other.token })).status).toBe(403)
    // By permanent id works as well as by UUID.
    const byPermanent = `/api/agents/${agent.permanentId}/app-connections/${c.id}/execute`
    expect((await h.call('POST', byPermanent, { body, token: agent.token })).status).toBe(200)
    await h.call('DELETE', `/api/app-connections/${c.id}`, { token: ws.key })
    expect((await h.call('POST', path, { body, token: agent.token })).status).toBe(404)
    // A deactivated agent's token stops working.
    const gone = await registerAgent(h, ws.key, { name: 'deactivated' })
    const c2 = await connection({ type: 'bearer', value: 'v' })
    await h.call('PATCH', `/api/agents/${gone.id}`, { token: ws.key, body: { status: 'inactive' } })
    expect((await execute(h, gone, c2.id, body)).status).toBe(401)
  })

  test('the proxy rate limit applies per credential (429 with Retry-After)', async () => {
    const limited = await harness({
      env: { SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '0.001', SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '1' },
    })
    const mine = await appWorkspace(limited)
    const c = await createConnection(limited, mine.ws.key, {
      baseUrl: BASE,
      auth: { type: 'bearer', value: 'v' },
    })
    const first = await execute(limited, mine.agent, c.id, { method: 'GET', path: '/echo' })
    expect(first.status).toBe(200)
    expect(first.headers.get('ratelimit-limit')).toBeTruthy()
    const second = await execute(limited, mine.agent, c.id, { method: 'GET', path: '/echo' })
    expect(second.status).toBe(429)
    expect(second.headers.get('retry-after')).toBeTruthy()
  })
})

describe('audit and metrics', () => {
  test('one audit row per execute: agent, connection, method, path with query values redacted, status, duration', async () => {
    const mine = await appWorkspace(h)
    const c = await createConnection(h, mine.ws.key, {
      name: 'crm',
      baseUrl: BASE,
      auth: { type: 'bearer', value: 'audit-0010' },
    })
    await execute(h, mine.agent, c.id, {
      method: 'POST',
      path: '/echo',
      query: { email: 'ada@example.com', page: 2 },
      body: { note: 'private body text' },
    })
    await execute(h, mine.agent, c.id, { method: 'GET', path: '/../admin' })
    await execute(h, mine.agent, c.id, { method: 'GET', path: '/status/404' })
    const logs = (
      await h.call('GET', '/api/audit-logs?action=app_connection_executed', { token: mine.ws.key })
    ).body.logs
    expect(logs.length).toBe(3)
    const [notFound, refused, ok] = logs
    expect(ok).toMatchObject({ agentId: mine.agent.id, actorType: 'agent', actorId: mine.agent.id })
    expect(ok.metadata).toEqual({
      connectionId: c.id,
      connectionName: 'crm',
      method: 'POST',
      path: '/echo?email=[redacted]&page=[redacted]',
      outcome: '2xx',
      status: 200,
      durationMs: expect.any(Number),
    })
    expect(refused.metadata).toMatchObject({
      path: '/../admin',
      outcome: 'refused',
      status: null,
      rule: 'dot_segment',
      error: 'invalid_request',
    })
    expect(notFound.metadata).toMatchObject({ outcome: '4xx', status: 404 })
    const text = JSON.stringify(logs)
    for (const hidden of ['ada@example.com', 'private body text', 'audit-0010'])
      expect(text).not.toContain(hidden)
    // The agent's own audit log shows them too.
    const own = await h.call(
      'GET',
      `/api/agents/${mine.agent.id}/audit-logs?action=app_connection_executed`,
      { token: mine.ws.key },
    )
    expect(own.body.logs.length).toBe(3)
  })

  test('metrics per connection: calls by status, latency', async () => {
    const c = await connection({ type: 'bearer', value: 'metrics-0011' })
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    await execute(h, agent, c.id, { method: 'GET', path: '/echo' })
    await execute(h, agent, c.id, { method: 'GET', path: '/status/500' })
    await execute(h, agent, c.id, { method: 'GET', path: '//evil.example' })
    const text = (await h.call('GET', '/metrics')).text
    const line = (status: string) =>
      new RegExp(
        `^switchboard_app_calls_total\\{connection="${c.id}",status="${status}"\\} (\\d+)$`,
        'm',
      ).exec(text)?.[1]
    expect({ ok: line('2xx'), err: line('5xx'), refused: line('refused') }).toEqual({
      ok: '2',
      err: '1',
      refused: '1',
    })
    const count = new RegExp(
      `^switchboard_app_call_duration_seconds_count\\{connection="${c.id}"\\} (\\d+)$`,
      'm',
    ).exec(text)?.[1]
    expect(count).toBe('3')
    expect(text).not.toContain('metrics-0011')
  })
})

describe('bad input', () => {
  test('wrong types, unknown fields, oversize fields, NUL bytes and deep nesting are 400s; nothing is sent', async () => {
    const c = await connection({ type: 'bearer', value: 'bad-0012' })
    const seen = saas.mark()
    const bad: unknown[] = [
      {},
      { path: '/x' },
      { method: 'FETCH', path: '/x' },
      { method: 'get', path: '/x' },
      { method: 'GET' },
      { method: 'GET', path: 42 },
      { method: 'GET', path: '' },
      { method: 'GET', path: `/${'a'.repeat(2048)}` },
      { method: 'GET', path: '/x', query: { a: { nested: true } } },
      { method: 'GET', path: '/x', query: 'a=1' },
      { method: 'GET', path: '/x', headers: { 'x-a': 1 } },
      { method: 'GET', path: '/x', headers: ['x-a'] },
      { method: 'GET', path: '/x', headers: { 'x-a': 'v'.repeat(8193) } },
      { method: 'GET', path: '/x', extra: true },
      { method: 'POST', path: '/x', body: 'x', bodyEncoding: 'hex' },
      { method: 'GET', path: '/a\u0000b' },
      { method: 'GET', path: '/x', headers: { 'x-a': 'a\u0000b' } },
      { method: 'GET', path: '/x', query: { 'a\u0000': 'b' } },
      [],
      'GET /x',
    ]
    for (const body of bad) {
      const res = await execute(h, agent, c.id, body)
      expect({ body, status: res.status }).toEqual({ body, status: 400 })
    }
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
    for (const raw of [`{"method":"POST","path":"/x","body":${deep}}`, `{"method":${deep}}`, '{"method":']) {
      const res = await h.call('POST', `/api/agents/${agent.id}/app-connections/${c.id}/execute`, {
        token: agent.token,
        raw,
        headers: { 'content-type': 'application/json' },
      })
      expect(res.status).toBe(400)
    }
    const badIds = [
      `/api/agents/nobody/app-connections/${c.id}/execute`,
      `/api/agents/${agent.id}/app-connections/not-a-uuid/execute`,
    ]
    for (const p of badIds)
      expect(
        (await h.call('POST', p, { token: agent.token, body: { method: 'GET', path: '/x' } })).status,
      ).toBe(400)
    expect(seen()).toEqual([])
  })
})
