import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { harness, registerAgent } from '../helpers'
import { createConnection } from './fixtures'

/** App connections by workspace key: CRUD, write-only secrets, the guard at save time, auth, bad input. */
const h = await harness()
const ws = await h.workspace()
const other = await h.workspace()
const agent = await registerAgent(h, ws.key, { name: 'a' })
const second = await registerAgent(h, ws.key, { name: 'b' })
const foreign = await registerAgent(h, other.key, { name: 'foreign' })
const BASE = 'http://127.0.0.1:9/api'

const create = (body: Record<string, unknown>, key = ws.key) =>
  h.call('POST', '/api/app-connections', { token: key, body: { baseUrl: BASE, ...body } })
const storedRow = async (id: string) => {
  const { appConnections: c } = h.deps.db.t
  const [row] = await h.deps.db.orm.select().from(c).where(eq(c.id, id))
  return row!
}
const auditOf = async (key: string, action: string) =>
  (await h.call('GET', `/api/audit-logs?action=${action}`, { token: key })).body.logs as any[]

describe('create and read', () => {
  test('every auth type: the answer shows the type, the non-secret fields and a last-4 hint', async () => {
    const cases = [
      [
        { type: 'bearer', value: 'bearer-secret-0001' },
        { type: 'bearer', secretHint: '0001' },
      ],
      [
        { type: 'header', name: 'X-Api-Key', value: 'header-secret-0002' },
        { type: 'header', name: 'X-Api-Key', secretHint: '0002' },
      ],
      [
        { type: 'basic', username: 'ada', password: 'basic-secret-0003' },
        { type: 'basic', username: 'ada', secretHint: '0003' },
      ],
      [
        { type: 'query', name: 'api_key', value: 'query-secret-0004' },
        { type: 'query', name: 'api_key', secretHint: '0004' },
      ],
      [
        {
          type: 'oauth2_client_credentials',
          tokenUrl: 'http://127.0.0.1:9/oauth/token',
          clientId: 'client-1',
          clientSecret: 'oauth-secret-0005',
          scopes: ['read', 'write', 'read'],
          audience: 'https://api.example.com',
        },
        {
          type: 'oauth2_client_credentials',
          tokenUrl: 'http://127.0.0.1:9/oauth/token',
          clientId: 'client-1',
          scopes: ['read', 'write'],
          audience: 'https://api.example.com',
          clientAuthMethod: 'client_secret_basic',
          secretHint: '0005',
        },
      ],
    ] as const
    const mine = await h.workspace()
    for (const [auth, shown] of cases) {
      const res = await create({ name: `conn-${auth.type}`, auth }, mine.key)
      expect(res.status).toBe(201)
      expect(res.body.auth).toEqual(shown)
      expect(res.text).not.toContain('-secret-')
      const got = await h.call('GET', `/api/app-connections/${res.body.id}`, { token: mine.key })
      expect(got.body).toEqual(res.body)
    }
    const list = await h.call('GET', '/api/app-connections', { token: mine.key })
    expect(list.body.appConnections.length).toBe(5)
    expect(list.text).not.toContain('-secret-')
  })

  test('defaults and the stored row: sealed with its key id, bound to the row id; short secrets get no hint', async () => {
    const res = await create({ name: 'plain', auth: { type: 'bearer', value: 'short' } })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      description: null,
      allowedAgentIds: null,
      allowedMethods: null,
      allowedPathPrefixes: null,
      timeoutMs: null,
      secretVersion: 1,
      auth: { type: 'bearer', secretHint: null },
    })
    const row = await storedRow(res.body.id)
    expect(row.secret).toStartWith(`v1.${h.deps.sealer.currentKeyId}.`)
    expect(row.secret).not.toContain('short')
    expect(h.deps.sealer.open(row.secret, `app_connections.secret:${row.id}`)).toBe('short')
    // The row id is the additional data: the same value does not open for another row.
    expect(() => h.deps.sealer.open(row.secret, `app_connections.secret:${crypto.randomUUID()}`)).toThrow()
  })

  test('allowed agents by UUID or permanent id (stored as UUIDs), methods and prefixes deduplicated', async () => {
    const res = await create({
      name: 'scoped',
      auth: { type: 'bearer', value: 'scoped-secret-1' },
      allowedAgentIds: [agent.permanentId, second.id, agent.id],
      allowedMethods: ['GET', 'POST', 'GET'],
      allowedPathPrefixes: ['/contacts', '/deals/', '/contacts'],
      timeoutMs: 5000,
      description: 'the CRM',
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      allowedAgentIds: [agent.id, second.id],
      allowedMethods: ['GET', 'POST'],
      allowedPathPrefixes: ['/contacts', '/deals/'],
      timeoutMs: 5000,
      description: 'the CRM',
    })
  })

  test('names are unique in a workspace (409), not across workspaces', async () => {
    expect((await create({ name: 'twice', auth: { type: 'bearer', value: 'x' } })).status).toBe(201)
    const again = await create({ name: 'twice', auth: { type: 'bearer', value: 'x' } })
    expect(again.status).toBe(409)
    expect(again.body.code).toBe('conflict')
    expect((await create({ name: 'twice', auth: { type: 'bearer', value: 'x' } }, other.key)).status).toBe(
      201,
    )
  })

  test('list is paginated', async () => {
    const mine = await h.workspace()
    for (const name of ['l1', 'l2', 'l3'])
      await createConnection(h, mine.key, { name, baseUrl: BASE, auth: { type: 'bearer', value: 'v' } })
    const first = await h.call('GET', '/api/app-connections?limit=2', { token: mine.key })
    expect(first.body.appConnections.map((c: any) => c.name)).toEqual(['l1', 'l2'])
    const next = await h.call('GET', `/api/app-connections?limit=2&cursor=${first.body.nextCursor}`, {
      token: mine.key,
    })
    expect(next.body.appConnections.map((c: any) => c.name)).toEqual(['l3'])
    expect(next.body.nextCursor).toBeNull()
    expect((await h.call('GET', '/api/app-connections?cursor=bogus', { token: mine.key })).status).toBe(400)
  })

  test('a workspace holds at most SWITCHBOARD_MAX_APP_CONNECTIONS_PER_WORKSPACE connections', async () => {
    const small = await harness({ env: { SWITCHBOARD_MAX_APP_CONNECTIONS_PER_WORKSPACE: '5' } })
    const mine = await small.workspace()
    for (let i = 0; i < 5; i++)
      await createConnection(small, mine.key, { baseUrl: BASE, auth: { type: 'bearer', value: 'v' } })
    const over = await small.call('POST', '/api/app-connections', {
      token: mine.key,
      body: { name: 'sixth', baseUrl: BASE, auth: { type: 'bearer', value: 'v' } },
    })
    expect(over.status).toBe(429)
    expect(over.body).toMatchObject({ code: 'quota_exceeded', details: { limit: 5 } })
  })
})

describe('the outbound guard at save time', () => {
  test('a refused baseUrl or tokenUrl is a 400 naming the field and the rule', async () => {
    const cases = [
      [{ baseUrl: 'http://10.0.0.8/api' }, 'baseUrl', 'private'],
      [{ baseUrl: 'http://169.254.169.254/latest' }, 'baseUrl', 'metadata'],
      [{ baseUrl: 'http://[::1]:8080/' }, 'baseUrl', 'loopback'],
      [
        {
          auth: {
            type: 'oauth2_client_credentials',
            tokenUrl: 'http://192.168.1.1/token',
            clientId: 'c',
            clientSecret: 's',
          },
        },
        'auth.tokenUrl',
        'private',
      ],
    ] as const
    for (const [body, field, rule] of cases) {
      const res = await create({ name: 'refused', auth: { type: 'bearer', value: 'v' }, ...body })
      expect({ field, status: res.status, code: res.body.code, details: res.body.details }).toEqual({
        field,
        status: 400,
        code: 'invalid_url',
        details: { field, rule },
      })
    }
    const created = await createConnection(h, ws.key, { baseUrl: BASE, auth: { type: 'bearer', value: 'v' } })
    const patched = await h.call('PATCH', `/api/app-connections/${created.id}`, {
      token: ws.key,
      body: { baseUrl: 'http://10.1.1.1/x', auth: { type: 'bearer', value: 'v' } },
    })
    expect(patched.status).toBe(400)
    expect(patched.body.details).toEqual({ field: 'baseUrl', rule: 'private' })
  })

  test('a name that does not resolve yet is accepted (every call checks again)', async () => {
    const res = await create({
      name: 'later',
      baseUrl: 'https://not-yet.invalid/api',
      auth: { type: 'bearer', value: 'v' },
    })
    expect(res.status).toBe(201)
  })

  test('baseUrl must be http(s) without query, fragment or credentials; prefixes obey the path rules', async () => {
    for (const baseUrl of [
      'ftp://files.example.com/',
      'https://u:p@api.example.com/',
      'https://api.example.com/?k=1',
      'https://api.example.com/#x',
      'not a url',
    ]) {
      const res = await create({ name: 'bad', baseUrl, auth: { type: 'bearer', value: 'v' } })
      expect({ baseUrl, status: res.status }).toEqual({ baseUrl, status: 400 })
    }
    const res = await create({
      name: 'bad',
      auth: { type: 'bearer', value: 'v' },
      allowedPathPrefixes: ['/ok', '/../admin'],
    })
    expect(res.status).toBe(400)
    expect(res.body.details).toEqual({ field: 'allowedPathPrefixes.1', rule: 'dot_segment' })
  })
})

describe('update and delete', () => {
  test('plain fields; auth with the same type keeps the secret when it is left out', async () => {
    const c = await createConnection(h, ws.key, {
      baseUrl: BASE,
      auth: {
        type: 'oauth2_client_credentials',
        tokenUrl: `${BASE}/token`,
        clientId: 'one',
        clientSecret: 'kept-secret-77',
      },
    })
    const res = await h.call('PATCH', `/api/app-connections/${c.id}`, {
      token: ws.key,
      body: {
        name: 'renamed',
        description: 'now described',
        allowedMethods: ['GET'],
        timeoutMs: 1000,
        auth: {
          type: 'oauth2_client_credentials',
          tokenUrl: `${BASE}/token`,
          clientId: 'two',
          scopes: ['read'],
        },
      },
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      name: 'renamed',
      description: 'now described',
      allowedMethods: ['GET'],
      timeoutMs: 1000,
      secretVersion: 2,
      auth: { clientId: 'two', scopes: ['read'], secretHint: 't-77' },
    })
    const row = await storedRow(c.id)
    expect(h.deps.sealer.open(row.secret, `app_connections.secret:${c.id}`)).toBe('kept-secret-77')
    // Nothing of auth changed: the version stays.
    const same = await h.call('PATCH', `/api/app-connections/${c.id}`, {
      token: ws.key,
      body: { description: null },
    })
    expect(same.body).toMatchObject({ description: null, secretVersion: 2 })
  })

  test('a new type needs its secret; a new secret is a secret change with its own audit row', async () => {
    const c = await createConnection(h, ws.key, {
      baseUrl: BASE,
      auth: { type: 'bearer', value: 'first-secret-1111' },
    })
    const noSecret = await h.call('PATCH', `/api/app-connections/${c.id}`, {
      token: ws.key,
      body: { auth: { type: 'header', name: 'X-Key' } },
    })
    expect(noSecret.status).toBe(400)
    const changed = await h.call('PATCH', `/api/app-connections/${c.id}`, {
      token: ws.key,
      body: { auth: { type: 'header', name: 'X-Key', value: 'second-secret-2222' } },
    })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({
      auth: { type: 'header', name: 'X-Key', secretHint: '2222' },
      secretVersion: 2,
    })
    const rows = (await auditOf(ws.key, 'app_connection_secret_changed')).filter(
      (l) => l.metadata.connectionId === c.id,
    )
    expect(rows.length).toBe(1)
    expect(rows[0].metadata).toEqual({
      connectionId: c.id,
      authType: 'header',
      secretHint: '2222',
      secretVersion: 2,
    })
    expect(rows[0]).toMatchObject({ actorType: 'workspace_key' })
    const updated = (await auditOf(ws.key, 'app_connection_updated')).filter(
      (l) => l.metadata.connectionId === c.id,
    )
    expect(updated[0].metadata.fields).toEqual(['auth'])
  })

  test('the secret follows its host: moving baseUrl or the token endpoint elsewhere needs the secret again', async () => {
    const c = await createConnection(h, ws.key, {
      baseUrl: 'http://127.0.0.1:9/api',
      auth: {
        type: 'oauth2_client_credentials',
        tokenUrl: 'http://127.0.0.1:9/token',
        clientId: 'c',
        clientSecret: 's',
      },
    })
    const url = `/api/app-connections/${c.id}`
    const moves = [
      { baseUrl: 'http://127.0.0.2:9/api' },
      { baseUrl: 'https://127.0.0.1:9/api' },
      { auth: { type: 'oauth2_client_credentials', tokenUrl: 'http://127.0.0.3:9/token', clientId: 'c' } },
    ]
    for (const body of moves) {
      const res = await h.call('PATCH', url, { token: ws.key, body })
      expect({ body, status: res.status }).toEqual({ body, status: 400 })
    }
    // Same origin, another path: fine without the secret.
    const samePlace = await h.call('PATCH', url, {
      token: ws.key,
      body: { baseUrl: 'http://127.0.0.1:9/v2' },
    })
    expect(samePlace.status).toBe(200)
    // With the secret, anywhere the guard allows.
    const moved = await h.call('PATCH', url, {
      token: ws.key,
      body: {
        baseUrl: 'http://127.0.0.2:9/api',
        auth: {
          type: 'oauth2_client_credentials',
          tokenUrl: 'http://127.0.0.3:9/token',
          clientId: 'c',
          clientSecret: 's2',
        },
      },
    })
    expect(moved.status).toBe(200)
  })

  test('audit rows for create, update and delete name the connection, never a secret', async () => {
    const mine = await h.workspace()
    const c = await createConnection(h, mine.key, {
      name: 'audited',
      baseUrl: BASE,
      auth: { type: 'bearer', value: 'audited-secret-9999' },
    })
    await h.call('PATCH', `/api/app-connections/${c.id}`, { token: mine.key, body: { name: 'audited-2' } })
    const del = await h.call('DELETE', `/api/app-connections/${c.id}`, { token: mine.key })
    expect(del.status).toBe(200)
    expect(del.body).toEqual({ id: c.id, deleted: true })
    expect((await h.call('GET', `/api/app-connections/${c.id}`, { token: mine.key })).status).toBe(404)
    expect((await h.call('DELETE', `/api/app-connections/${c.id}`, { token: mine.key })).status).toBe(404)
    const logs = (await h.call('GET', '/api/audit-logs', { token: mine.key })).body.logs as any[]
    const mineOnly = logs.filter((l) => l.action.startsWith('app_connection_'))
    expect(mineOnly.map((l) => l.action)).toEqual([
      'app_connection_deleted',
      'app_connection_updated',
      'app_connection_created',
    ])
    expect(mineOnly[2].metadata).toEqual({
      connectionId: c.id,
      name: 'audited',
      baseUrl: BASE,
      authType: 'bearer',
      secretHint: '9999',
    })
    expect(mineOnly[1].metadata).toEqual({ connectionId: c.id, fields: ['name'] })
    expect(mineOnly[0].metadata).toEqual({ connectionId: c.id, name: 'audited-2' })
    expect(JSON.stringify(logs)).not.toContain('audited-secret')
  })

  test('a deleted agent leaves the allowed list', async () => {
    const gone = await registerAgent(h, ws.key, { name: 'gone' })
    const c = await createConnection(h, ws.key, {
      baseUrl: BASE,
      auth: { type: 'bearer', value: 'v' },
      allowedAgentIds: [gone.id, agent.id],
    })
    expect((await h.call('DELETE', `/api/agents/${gone.id}`, { token: ws.key })).status).toBe(200)
    expect(
      (await h.call('GET', `/api/app-connections/${c.id}`, { token: ws.key })).body.allowedAgentIds,
    ).toEqual([agent.id])
  })
})

describe('auth and isolation', () => {
  test('missing credential 401, an agent token 403, on every route', async () => {
    const c = await createConnection(h, ws.key, { baseUrl: BASE, auth: { type: 'bearer', value: 'v' } })
    const routes = [
      ['POST', '/api/app-connections', { name: 'x', baseUrl: BASE, auth: { type: 'bearer', value: 'v' } }],
      ['GET', '/api/app-connections', undefined],
      ['GET', `/api/app-connections/${c.id}`, undefined],
      ['PATCH', `/api/app-connections/${c.id}`, { name: 'y' }],
      ['DELETE', `/api/app-connections/${c.id}`, undefined],
    ] as const
    for (const [m, p, body] of routes) {
      expect({ m, p, s: (await h.call(m, p, { body })).status }).toEqual({ m, p, s: 401 })
      expect({ m, p, s: (await h.call(m, p, { body, token: 'wk_not-a-real-key' })).status }).toEqual({
        m,
        p,
        s: 401,
      })
      expect({ m, p, s: (await h.call(m, p, { body, token: agent.token })).status }).toEqual({ m, p, s: 403 })
    }
  })

  test("another workspace's connection is 404 on every route and absent from its list", async () => {
    const c = await createConnection(h, ws.key, { baseUrl: BASE, auth: { type: 'bearer', value: 'v' } })
    const k = other.key
    expect((await h.call('GET', `/api/app-connections/${c.id}`, { token: k })).status).toBe(404)
    expect(
      (await h.call('PATCH', `/api/app-connections/${c.id}`, { token: k, body: { name: 'z' } })).status,
    ).toBe(404)
    expect((await h.call('DELETE', `/api/app-connections/${c.id}`, { token: k })).status).toBe(404)
    const list = await h.call('GET', '/api/app-connections', { token: k })
    expect(list.body.appConnections.map((x: any) => x.id)).not.toContain(c.id)
    expect((await h.call('GET', `/api/app-connections/${c.id}`, { token: ws.key })).status).toBe(200)
  })

  test("another workspace's agent cannot be allowed (404)", async () => {
    for (const ref of [foreign.id, foreign.permanentId]) {
      const res = await create({ name: 'x', auth: { type: 'bearer', value: 'v' }, allowedAgentIds: [ref] })
      expect(res.status).toBe(404)
    }
  })
})

describe('bad input', () => {
  test('wrong types, unknown fields, bad auth, NUL and control characters are 400s', async () => {
    const auth = { type: 'bearer', value: 'v' }
    const bad: Record<string, unknown>[] = [
      {},
      { name: 'x', auth },
      { name: '', auth, baseUrl: BASE },
      { name: 42, auth, baseUrl: BASE },
      { name: 'x', baseUrl: BASE },
      { name: 'x', baseUrl: BASE, auth: { type: 'magic', value: 'v' } },
      { name: 'x', baseUrl: BASE, auth: { type: 'bearer' } },
      { name: 'x', baseUrl: BASE, auth: { type: 'bearer', value: '' } },
      { name: 'x', baseUrl: BASE, auth: { type: 'bearer', value: 'v', extra: 1 } },
      { name: 'x', baseUrl: BASE, auth: { type: 'header', name: 'Bad Name', value: 'v' } },
      { name: 'x', baseUrl: BASE, auth: { type: 'header', name: 'Host', value: 'v' } },
      { name: 'x', baseUrl: BASE, auth: { type: 'basic', username: 'a:b', password: 'v' } },
      { name: 'x', baseUrl: BASE, auth: { type: 'query', name: 'a b', value: 'v' } },
      {
        name: 'x',
        baseUrl: BASE,
        auth: { type: 'oauth2_client_credentials', tokenUrl: 'nope', clientId: 'c', clientSecret: 's' },
      },
      {
        name: 'x',
        baseUrl: BASE,
        auth: {
          type: 'oauth2_client_credentials',
          tokenUrl: BASE,
          clientId: 'c',
          clientSecret: 's',
          scopes: ['has space'],
        },
      },
      { name: 'x\u0000y', baseUrl: BASE, auth },
      { name: 'x', description: 'a\u0000b', baseUrl: BASE, auth },
      { name: 'x', baseUrl: BASE, auth: { type: 'bearer', value: 'line\r\nbreak' } },
      { name: 'x', baseUrl: BASE, auth: { type: 'bearer', value: 'nul\u0000' } },
      { name: 'x', baseUrl: `${BASE}/\u0000`, auth },
      { name: 'x', baseUrl: BASE, auth, allowedMethods: ['TRACE'] },
      { name: 'x', baseUrl: BASE, auth, allowedMethods: 'GET' },
      { name: 'x', baseUrl: BASE, auth, allowedAgentIds: ['nobody'] },
      { name: 'x', baseUrl: BASE, auth, timeoutMs: 5 },
      { name: 'x', baseUrl: BASE, auth, timeoutMs: '1000' },
      { name: 'x', baseUrl: BASE, auth, extra: true },
      { name: 'x', baseUrl: BASE, auth: { type: 'bearer', value: 'v'.repeat(5000) } },
      { name: 'x'.repeat(101), baseUrl: BASE, auth },
    ]
    for (const body of bad) {
      const res = await h.call('POST', '/api/app-connections', { token: ws.key, body })
      expect({ body, status: res.status }).toEqual({ body, status: 400 })
    }
    const c = await createConnection(h, ws.key, { baseUrl: BASE, auth })
    for (const body of [
      { name: 7 },
      { auth: { type: 'basic' } },
      { allowedPathPrefixes: 'x' },
      { unknown: 1 },
      { name: 'a\u0000' },
    ]) {
      const res = await h.call('PATCH', `/api/app-connections/${c.id}`, { token: ws.key, body })
      expect({ body, status: res.status }).toEqual({ body, status: 400 })
    }
    expect((await h.call('GET', '/api/app-connections/not-a-uuid', { token: ws.key })).status).toBe(400)
    expect((await h.call('POST', '/api/app-connections', { token: ws.key, raw: '{"name":' })).status).toBe(
      400,
    )
  })

  test('deep nesting is a 400, not a crash', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
    for (const raw of [
      `{"name":${deep}}`,
      `{"name":"x","baseUrl":"${BASE}","auth":{"type":"bearer","value":${deep}}}`,
    ]) {
      const res = await h.call('POST', '/api/app-connections', {
        token: ws.key,
        raw,
        headers: { 'content-type': 'application/json' },
      })
      expect(res.status).toBe(400)
    }
  })

  test('a body over the JSON limit is a 413', async () => {
    const res = await h.call('POST', '/api/app-connections', {
      token: ws.key,
      raw: JSON.stringify({ name: 'x', description: 'd'.repeat(1_100_000) }),
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(413)
  })

  test('an unknown connection is a 404', async () => {
    expect(
      (await h.call('GET', `/api/app-connections/${crypto.randomUUID()}`, { token: ws.key })).status,
    ).toBe(404)
  })
})
