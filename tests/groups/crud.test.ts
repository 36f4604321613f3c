import { describe, expect, test } from 'bun:test'
import { harness, registerAgent } from '../helpers'

/** Broadcast groups by workspace key: CRUD, members, allowed callers, auth and bad input. */
const h = await harness()
const ws = await h.workspace()
const other = await h.workspace()
const a = await registerAgent(h, ws.key, { name: 'a' })
const b = await registerAgent(h, ws.key, { name: 'b' })
const c = await registerAgent(h, ws.key, { name: 'c' })
const foreign = await registerAgent(h, other.key, { name: 'foreign' })

const create = (body: Record<string, unknown>, key = ws.key) =>
  h.call('POST', '/api/broadcast-groups', { token: key, body })

describe('broadcast groups', () => {
  test('create with members and allowed callers (UUID or permanent id), then get', async () => {
    const res = await create({
      name: 'reviewers',
      description: 'all reviewers',
      memberIds: [a.id, b.permanentId, a.permanentId],
      allowedCallerIds: [c.permanentId],
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      name: 'reviewers',
      description: 'all reviewers',
      allowedCallerIds: [c.id],
      memberCount: 2,
    })
    // Named twice (by UUID and permanent id) is one membership; the order given is kept.
    expect(res.body.members.map((m: any) => m.permanentId)).toEqual([a.permanentId, b.permanentId])
    expect(res.body.members[0]).toMatchObject({
      agentId: a.id,
      name: 'a',
      status: 'active',
      archived: false,
      presence: 'offline',
    })
    const got = await h.call('GET', `/api/broadcast-groups/${res.body.id}`, { token: ws.key })
    expect(got.status).toBe(200)
    expect(got.body).toEqual(res.body)
  })

  test('defaults: no description, no members, any agent of the workspace may call', async () => {
    const res = await create({ name: 'empty' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ description: null, allowedCallerIds: null, memberCount: 0, members: [] })
  })

  test('list is paginated with member counts', async () => {
    const mine = await h.workspace()
    const x = await registerAgent(h, mine.key)
    for (const name of ['g1', 'g2', 'g3'])
      expect((await create({ name, memberIds: [x.id] }, mine.key)).status).toBe(201)
    const first = await h.call('GET', '/api/broadcast-groups?limit=2', { token: mine.key })
    expect(first.status).toBe(200)
    expect(first.body.groups.map((g: any) => g.name)).toEqual(['g1', 'g2'])
    expect(first.body.groups[0].memberCount).toBe(1)
    expect(first.body.groups[0].members).toBeUndefined()
    const second = await h.call('GET', `/api/broadcast-groups?limit=2&cursor=${first.body.nextCursor}`, {
      token: mine.key,
    })
    expect(second.body.groups.map((g: any) => g.name)).toEqual(['g3'])
    expect(second.body.nextCursor).toBeNull()
    expect((await h.call('GET', '/api/broadcast-groups?cursor=nope', { token: mine.key })).status).toBe(400)
    expect((await h.call('GET', '/api/broadcast-groups?limit=501', { token: mine.key })).status).toBe(400)
  })

  test('patch: name, description, allowed callers (null opens it again)', async () => {
    const g = (await create({ name: 'p', allowedCallerIds: [a.id] })).body
    const res = await h.call('PATCH', `/api/broadcast-groups/${g.id}`, {
      token: ws.key,
      body: { name: 'renamed', description: 'now described', allowedCallerIds: [b.permanentId, c.id] },
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      name: 'renamed',
      description: 'now described',
      allowedCallerIds: [b.id, c.id],
    })
    const open = await h.call('PATCH', `/api/broadcast-groups/${g.id}`, {
      token: ws.key,
      body: { allowedCallerIds: null, description: null },
    })
    expect(open.body).toMatchObject({ name: 'renamed', description: null, allowedCallerIds: null })
    const closed = await h.call('PATCH', `/api/broadcast-groups/${g.id}`, {
      token: ws.key,
      body: { allowedCallerIds: [] },
    })
    expect(closed.body.allowedCallerIds).toEqual([])
  })

  test('members: add is idempotent, remove by membership id, UUID or permanent id', async () => {
    const g = (await create({ name: 'm', memberIds: [a.id] })).body
    const added = await h.call('POST', `/api/broadcast-groups/${g.id}/members`, {
      token: ws.key,
      body: { agentIds: [a.permanentId, b.id, c.permanentId] },
    })
    expect(added.status).toBe(200)
    expect(added.body.members.map((m: any) => m.agentId)).toEqual([a.id, b.id, c.id])
    const byMembership = added.body.members[0].id
    const rm = await h.call('DELETE', `/api/broadcast-groups/${g.id}/members/${byMembership}`, {
      token: ws.key,
    })
    expect(rm.status).toBe(200)
    expect(rm.body).toEqual({ id: byMembership, agentId: a.id, removed: true })
    expect(
      (await h.call('DELETE', `/api/broadcast-groups/${g.id}/members/${b.permanentId}`, { token: ws.key }))
        .status,
    ).toBe(200)
    expect(
      (await h.call('DELETE', `/api/broadcast-groups/${g.id}/members/${c.id}`, { token: ws.key })).status,
    ).toBe(200)
    const again = await h.call('DELETE', `/api/broadcast-groups/${g.id}/members/${c.id}`, { token: ws.key })
    expect(again.status).toBe(404)
    expect((await h.call('GET', `/api/broadcast-groups/${g.id}`, { token: ws.key })).body.members).toEqual([])
  })

  test('delete removes the group and its memberships, not the agents', async () => {
    const g = (await create({ name: 'd', memberIds: [a.id] })).body
    const res = await h.call('DELETE', `/api/broadcast-groups/${g.id}`, { token: ws.key })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ id: g.id, deleted: true })
    expect((await h.call('GET', `/api/broadcast-groups/${g.id}`, { token: ws.key })).status).toBe(404)
    expect((await h.call('DELETE', `/api/broadcast-groups/${g.id}`, { token: ws.key })).status).toBe(404)
    expect((await h.call('GET', `/api/agents/${a.id}`, { token: ws.key })).status).toBe(200)
  })

  test('a deleted agent leaves its groups and their allowed-caller lists', async () => {
    const gone = await registerAgent(h, ws.key, { name: 'gone' })
    const g = (await create({ name: 'x', memberIds: [gone.id, a.id], allowedCallerIds: [gone.id, b.id] }))
      .body
    expect((await h.call('DELETE', `/api/agents/${gone.id}`, { token: ws.key })).status).toBe(200)
    const got = (await h.call('GET', `/api/broadcast-groups/${g.id}`, { token: ws.key })).body
    expect(got.members.map((m: any) => m.agentId)).toEqual([a.id])
    expect(got.allowedCallerIds).toEqual([b.id])
  })

  test('a group has at most 100 members', async () => {
    const mine = await h.workspace()
    const agents = []
    for (let i = 0; i < 101; i++) agents.push((await registerAgent(h, mine.key)).id)
    expect((await create({ name: 'big', memberIds: agents }, mine.key)).status).toBe(400)
    const g = (await create({ name: 'big', memberIds: agents.slice(0, 100) }, mine.key)).body
    expect(g.memberCount).toBe(100)
    const more = await h.call('POST', `/api/broadcast-groups/${g.id}/members`, {
      token: mine.key,
      body: { agentIds: [agents[100]] },
    })
    expect(more.status).toBe(400)
    // Adding members it already has is still fine.
    const same = await h.call('POST', `/api/broadcast-groups/${g.id}/members`, {
      token: mine.key,
      body: { agentIds: [agents[0]] },
    })
    expect(same.status).toBe(200)
  })
})

describe('broadcast groups: auth and isolation', () => {
  test('missing credential 401, an agent token 403', async () => {
    const g = (await create({ name: 'auth' })).body
    const routes = [
      ['POST', '/api/broadcast-groups', { name: 'x' }],
      ['GET', '/api/broadcast-groups', undefined],
      ['GET', `/api/broadcast-groups/${g.id}`, undefined],
      ['PATCH', `/api/broadcast-groups/${g.id}`, { name: 'y' }],
      ['DELETE', `/api/broadcast-groups/${g.id}`, undefined],
      ['POST', `/api/broadcast-groups/${g.id}/members`, { agentIds: [a.id] }],
      ['DELETE', `/api/broadcast-groups/${g.id}/members/${a.id}`, undefined],
    ] as const
    for (const [m, p, body] of routes) {
      expect({ m, p, s: (await h.call(m, p, { body })).status }).toEqual({ m, p, s: 401 })
      expect({ m, p, s: (await h.call(m, p, { body, token: a.token })).status }).toEqual({ m, p, s: 403 })
    }
  })

  test("another workspace's group is 404 on every route, and absent from its list", async () => {
    const g = (await create({ name: 'private', memberIds: [a.id] })).body
    const k = other.key
    expect((await h.call('GET', `/api/broadcast-groups/${g.id}`, { token: k })).status).toBe(404)
    expect(
      (await h.call('PATCH', `/api/broadcast-groups/${g.id}`, { token: k, body: { name: 'z' } })).status,
    ).toBe(404)
    expect((await h.call('DELETE', `/api/broadcast-groups/${g.id}`, { token: k })).status).toBe(404)
    expect(
      (
        await h.call('POST', `/api/broadcast-groups/${g.id}/members`, {
          token: k,
          body: { agentIds: [foreign.id] },
        })
      ).status,
    ).toBe(404)
    expect(
      (await h.call('DELETE', `/api/broadcast-groups/${g.id}/members/${a.id}`, { token: k })).status,
    ).toBe(404)
    const list = await h.call('GET', '/api/broadcast-groups', { token: k })
    expect(list.body.groups.map((x: any) => x.id)).not.toContain(g.id)
    // Still there for its owner.
    expect((await h.call('GET', `/api/broadcast-groups/${g.id}`, { token: ws.key })).body.memberCount).toBe(1)
  })

  test("another workspace's agent cannot be a member or an allowed caller (404)", async () => {
    for (const body of [
      { name: 'x', memberIds: [foreign.id] },
      { name: 'x', memberIds: [foreign.permanentId] },
      { name: 'x', allowedCallerIds: [foreign.id] },
    ]) {
      const res = await create(body)
      expect(res.status).toBe(404)
      expect(res.body.code).toBe('not_found')
    }
    const g = (await create({ name: 'y' })).body
    const add = await h.call('POST', `/api/broadcast-groups/${g.id}/members`, {
      token: ws.key,
      body: { agentIds: [a.id, foreign.permanentId] },
    })
    expect(add.status).toBe(404)
    expect(add.body.details.missing).toEqual([foreign.permanentId])
    // Nothing was added.
    expect((await h.call('GET', `/api/broadcast-groups/${g.id}`, { token: ws.key })).body.members).toEqual([])
  })
})

describe('broadcast groups: bad input', () => {
  test('wrong types, unknown fields and bad ids are 400s', async () => {
    const bad = [
      {},
      { name: '' },
      { name: 42 },
      { name: 'x', memberIds: 'a' },
      { name: 'x', memberIds: ['not-an-id'] },
      { name: 'x', allowedCallerIds: [1] },
      { name: 'x', description: 'd'.repeat(1001) },
      { name: 'x', extra: true },
    ]
    for (const body of bad) {
      const res = await create(body)
      expect({ body, status: res.status, code: res.body.code }).toEqual({
        body,
        status: 400,
        code: 'invalid_request',
      })
    }
    const g = (await create({ name: 'ok' })).body
    const cases = [
      ['PATCH', `/api/broadcast-groups/${g.id}`, { name: 'x', members: [] }],
      ['PATCH', `/api/broadcast-groups/${g.id}`, { allowedCallerIds: 'all' }],
      ['POST', `/api/broadcast-groups/${g.id}/members`, { agentIds: [] }],
      ['POST', `/api/broadcast-groups/${g.id}/members`, { agentId: a.id }],
      ['GET', '/api/broadcast-groups/not-a-uuid', undefined],
      ['DELETE', `/api/broadcast-groups/${g.id}/members/nobody`, undefined],
    ] as const
    for (const [m, p, body] of cases) {
      expect({ m, p, s: (await h.call(m, p, { token: ws.key, body })).status }).toEqual({ m, p, s: 400 })
    }
    expect((await h.call('POST', '/api/broadcast-groups', { token: ws.key, raw: '{"name":' })).status).toBe(
      400,
    )
  })

  test('a JSON body over the limit is a 413', async () => {
    const res = await h.call('POST', '/api/broadcast-groups', {
      token: ws.key,
      raw: JSON.stringify({ name: 'x', description: 'd'.repeat(1_100_000) }),
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(413)
  })

  test('unknown group is 404', async () => {
    expect(
      (await h.call('GET', `/api/broadcast-groups/${crypto.randomUUID()}`, { token: ws.key })).status,
    ).toBe(404)
  })
})
