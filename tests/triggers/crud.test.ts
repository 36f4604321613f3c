import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { ADMIN_TOKEN, harness, registerAgent } from '../helpers'

/** Managing webhook triggers with the workspace key: the contract's fields, secrets write-only, isolation, bad input. */
const h = await harness()
const ws = await h.workspace()
const other = await h.workspace()
const agent = await registerAgent(h, ws.key, { name: 'target', protocols: { mcp: { enabled: true } } })
const foreign = await registerAgent(h, other.key, { name: 'theirs' })

const create = (body: Record<string, unknown>, token = ws.key) =>
  h.call('POST', '/api/triggers', { token, body: { name: 'ci', agentId: agent.id, ...body } })

describe('trigger CRUD', () => {
  test('create: an unguessable id, its URL, a secret made and shown once, stored sealed', async () => {
    const res = await create({ verify: { type: 'hmac_sha256' }, protocol: 'mcp' })
    expect(res.status).toBe(201)
    const { trigger, secret } = res.body
    expect(trigger.id).toMatch(/^trg_[a-z2-7]{32}$/)
    expect(trigger).toMatchObject({
      url: `/hooks/${trigger.id}`,
      name: 'ci',
      agentId: agent.id,
      permanentId: agent.permanentId,
      protocol: 'mcp',
      verify: {
        type: 'hmac_sha256',
        header: 'x-hub-signature-256',
        hasSecret: true,
        secretHint: secret.slice(-4),
      },
      transform: 'raw',
      enabled: true,
      lastCalledAt: null,
    })
    expect(secret.length).toBeGreaterThanOrEqual(40)
    const got = await h.call('GET', `/api/triggers/${trigger.id}`, { token: ws.key })
    expect(got.body).toEqual(trigger)
    expect(got.text).not.toContain(secret)
    const [row] = await h.deps.db.orm
      .select()
      .from(h.deps.db.t.triggers)
      .where(eq(h.deps.db.t.triggers.id, trigger.id))
    expect(row!.verifySecret).not.toContain(secret)
    expect(row!.verifySecret).toStartWith('v1.')
    const audit = await h.call('GET', '/api/audit-logs?action=trigger_created', { token: ws.key })
    expect(audit.body.logs[0].metadata).toMatchObject({ triggerId: trigger.id, verify: 'hmac_sha256' })
    expect(audit.text).not.toContain(secret)
    // A secret you give is not echoed back.
    const given = await create({ verify: { type: 'token', secret: 'my-own-token-0123456789' } })
    expect(given.body.secret).toBeNull()
    expect(given.body.trigger.verify).toMatchObject({ header: 'authorization', secretHint: '6789' })
    // Ids do not repeat.
    const ids = new Set(
      await Promise.all(
        Array.from({ length: 20 }, async () => (await create({ verify: { type: 'none' } })).body.trigger.id),
      ),
    )
    expect(ids.size).toBe(20)
  })

  test('list (paginated, newest first), patch, delete', async () => {
    const w = await h.workspace()
    const a = await registerAgent(h, w.key)
    const made: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = await create({ name: `t${i}`, agentId: a.id, verify: { type: 'none' } }, w.key)
      made.push(r.body.trigger.id)
    }
    const first = await h.call('GET', '/api/triggers?limit=2', { token: w.key })
    expect(first.body.triggers).toHaveLength(2)
    const rest = await h.call('GET', `/api/triggers?limit=10&cursor=${first.body.nextCursor}`, {
      token: w.key,
    })
    expect(rest.body.nextCursor).toBeNull()
    // Every one once, newest first (two made in the same millisecond may come either way).
    const all = [...first.body.triggers, ...rest.body.triggers]
    expect(all.map((t: any) => t.id).sort()).toEqual([...made].sort())
    const times = all.map((t: any) => Date.parse(t.createdAt))
    expect(times).toEqual([...times].sort((x, y) => y - x))

    const id = made[0]!
    const renamed = await h.call('PATCH', `/api/triggers/${id}`, {
      token: w.key,
      body: { name: 'renamed', enabled: false, transform: 'json_envelope' },
    })
    expect(renamed.body).toMatchObject({ name: 'renamed', enabled: false, transform: 'json_envelope' })
    // Changing the verification type needs a secret; keeping the type keeps the secret.
    const noSecret = await h.call('PATCH', `/api/triggers/${id}`, {
      token: w.key,
      body: { verify: { type: 'token' } },
    })
    expect(noSecret.status).toBe(400)
    const token = await h.call('PATCH', `/api/triggers/${id}`, {
      token: w.key,
      body: { verify: { type: 'token', secret: 'patched-token-0123456789' } },
    })
    expect(token.body.verify).toMatchObject({ type: 'token', hasSecret: true, secretHint: '6789' })
    const header = await h.call('PATCH', `/api/triggers/${id}`, {
      token: w.key,
      body: { verify: { type: 'token', header: 'X-Token' } },
    })
    expect(header.body.verify).toMatchObject({ type: 'token', header: 'x-token', secretHint: '6789' })
    const none = await h.call('PATCH', `/api/triggers/${id}`, {
      token: w.key,
      body: { verify: { type: 'none' } },
    })
    expect(none.body.verify).toEqual({ type: 'none', header: null, hasSecret: false, secretHint: null })

    const del = await h.call('DELETE', `/api/triggers/${id}`, { token: w.key })
    expect(del.body).toEqual({ id, deleted: true })
    expect((await h.call('GET', `/api/triggers/${id}`, { token: w.key })).status).toBe(404)
    expect((await h.call('DELETE', `/api/triggers/${id}`, { token: w.key })).status).toBe(404)
    const actions = (await h.call('GET', '/api/audit-logs', { token: w.key })).body.logs.map(
      (l: any) => l.action,
    )
    expect(actions).toEqual(expect.arrayContaining(['trigger_created', 'trigger_updated', 'trigger_deleted']))
  })

  test("auth: none 401, an agent token or the admin 403, another workspace's trigger 404", async () => {
    const { trigger } = (await create({ verify: { type: 'none' } })).body
    const routes: [string, string, unknown?][] = [
      ['POST', '/api/triggers', { name: 'x', agentId: agent.id, verify: { type: 'none' } }],
      ['GET', '/api/triggers'],
      ['GET', `/api/triggers/${trigger.id}`],
      ['PATCH', `/api/triggers/${trigger.id}`, { name: 'x' }],
      ['GET', `/api/triggers/${trigger.id}/calls`],
      ['DELETE', `/api/triggers/${trigger.id}`],
    ]
    for (const [method, path, body] of routes) {
      const as = (token?: string) =>
        h.call(method, path, { ...(token ? { token } : {}), ...(body ? { body } : {}) })
      expect({ path, method, s: (await as()).status }).toEqual({ path, method, s: 401 })
      expect({ path, method, s: (await as(agent.token)).status }).toEqual({ path, method, s: 403 })
      expect({ path, method, s: (await as(ADMIN_TOKEN)).status }).toEqual({ path, method, s: 403 })
    }
    for (const [method, path, body] of routes.slice(2)) {
      const res = await h.call(method, path, { token: other.key, ...(body ? { body } : {}) })
      expect({ path, method, s: res.status }).toEqual({ path, method, s: 404 })
    }
    expect((await h.call('GET', '/api/triggers', { token: other.key })).body.triggers).toEqual([])
    // Another workspace's agent cannot be a trigger's agent.
    const theirs = await create({ agentId: foreign.id, verify: { type: 'none' } })
    expect(theirs.status).toBe(400)
    const patched = await h.call('PATCH', `/api/triggers/${trigger.id}`, {
      token: ws.key,
      body: { agentId: foreign.permanentId },
    })
    expect(patched.status).toBe(400)
  })

  test('bad input: wrong types, oversize, deep nesting, NUL bytes, rules of each verification', async () => {
    const deep = JSON.parse(`${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`)
    const bad: Record<string, unknown>[] = [
      { verify: 'none' },
      { verify: { type: 'basic' } },
      { verify: { type: 'none', secret: 'a-long-secret-0123456' } },
      { verify: { type: 'none', header: 'X-Token' } },
      { verify: { type: 'token', secret: 'short' } },
      { verify: { type: 'token', secret: 'has spaces in it 0123456' } },
      { verify: { type: 'token', secret: `x${'\u0000'.repeat(20)}` } },
      { verify: { type: 'token', secret: 'y'.repeat(5000) } },
      { verify: { type: 'token', header: 'Content-Length' } },
      { verify: { type: 'token', header: 'not a header' } },
      { verify: { type: 'standard_webhooks', secret: 'not-a-whsec-0123456789' } },
      { verify: { type: 'standard_webhooks', header: 'X-Sig' } },
      { verify: { type: 'hmac_sha256', extra: true } },
      { verify: { type: 'none' }, name: '' },
      { verify: { type: 'none' }, name: 'n'.repeat(101) },
      { verify: { type: 'none' }, name: 12 },
      { verify: { type: 'none' }, name: 'a\u0000b' },
      { verify: { type: 'none' }, agentId: 'agt-nope' },
      { verify: { type: 'none' }, protocol: 'smtp' },
      { verify: { type: 'none' }, protocol: 'a2a' },
      { verify: { type: 'none' }, transform: 'xml' },
      { verify: { type: 'none' }, enabled: 'yes' },
      { verify: { type: 'none' }, nested: deep },
    ]
    for (const body of bad) {
      const res = await create(body)
      expect({ body: JSON.stringify(body).slice(0, 120), status: res.status }).toEqual({
        body: JSON.stringify(body).slice(0, 120),
        status: 400,
      })
    }
    const huge = await h.call('POST', '/api/triggers', {
      token: ws.key,
      raw: JSON.stringify({
        name: 'x',
        agentId: agent.id,
        verify: { type: 'none' },
        pad: 'x'.repeat(2_000_000),
      }),
    })
    expect(huge.status).toBe(413)
    expect((await create({ verify: { type: 'none' }, agentId: crypto.randomUUID() })).status).toBe(400)
    for (const path of [
      '/api/triggers/nope',
      `/api/triggers/trg_${'A'.repeat(32)}`,
      '/api/triggers/trg_%00',
    ]) {
      expect((await h.call('GET', path, { token: ws.key })).status).toBe(400)
    }
    const { trigger } = (await create({ verify: { type: 'none' } })).body
    for (const body of [{}, { enabled: 'no' }, { verify: { type: 'token', secret: 1 } }, { unknown: 1 }]) {
      const res = await h.call('PATCH', `/api/triggers/${trigger.id}`, { token: ws.key, body })
      expect({ body, s: res.status }).toEqual({ body, s: 400 })
    }
    for (const q of ['?limit=0', '?limit=x', `?cursor=${'c'.repeat(600)}`, '?cursor=notours']) {
      expect((await h.call('GET', `/api/triggers${q}`, { token: ws.key })).status).toBe(400)
      expect((await h.call('GET', `/api/triggers/${trigger.id}/calls${q}`, { token: ws.key })).status).toBe(
        400,
      )
    }
  })
})
