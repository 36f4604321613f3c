import { describe, expect, test } from 'bun:test'
import { harness, registerAgent } from '../helpers'

/** Pools by workspace key: CRUD, members with priority, allowed callers, auth and bad input. */
const h = await harness()
const ws = await h.workspace()
const other = await h.workspace()
const a = await registerAgent(h, ws.key, { name: 'a' })
const b = await registerAgent(h, ws.key, { name: 'b' })
const c = await registerAgent(h, ws.key, { name: 'c' })
const foreign = await registerAgent(h, other.key, { name: 'foreign' })

const create = (body: Record<string, unknown>, key = ws.key) =>
  h.call('POST', '/api/pools', { token: key, body })

describe('pools', () => {
  test('create with members and priorities, then get', async () => {
    const res = await create({
      name: 'workers',
      strategy: 'failover',
      members: [{ agentId: a.id, priority: 2 }, { agentId: b.permanentId }],
      allowedCallerIds: [c.id],
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      name: 'workers',
      description: null,
      strategy: 'failover',
      allowedCallerIds: [c.id],
      memberCount: 2,
    })
    expect(res.body.members).toEqual([
      expect.objectContaining({
        agentId: a.id,
        permanentId: a.permanentId,
        priority: 2,
        consecutiveFailures: 0,
        ejectedUntil: null,
      }),
      expect.objectContaining({ agentId: b.id, priority: 0 }),
    ])
    const got = await h.call('GET', `/api/pools/${res.body.id}`, { token: ws.key })
    expect(got.status).toBe(200)
    expect(got.body).toEqual(res.body)
  })

  test('every strategy is accepted; a missing or unknown one is a 400', async () => {
    for (const strategy of ['round_robin', 'failover', 'random'])
      expect((await create({ name: strategy, strategy })).status).toBe(201)
    expect((await create({ name: 'x' })).status).toBe(400)
    expect((await create({ name: 'x', strategy: 'weighted' })).status).toBe(400)
  })

  test('list is paginated', async () => {
    const mine = await h.workspace()
    for (const name of ['p1', 'p2', 'p3'])
      expect((await create({ name, strategy: 'random' }, mine.key)).status).toBe(201)
    const first = await h.call('GET', '/api/pools?limit=2', { token: mine.key })
    expect(first.body.pools.map((p: any) => p.name)).toEqual(['p1', 'p2'])
    expect(first.body.pools[0]).toMatchObject({ strategy: 'random', memberCount: 0 })
    const second = await h.call('GET', `/api/pools?limit=2&cursor=${first.body.nextCursor}`, {
      token: mine.key,
    })
    expect(second.body.pools.map((p: any) => p.name)).toEqual(['p3'])
    expect(second.body.nextCursor).toBeNull()
  })

  test('patch: name, description, strategy, allowed callers', async () => {
    const p = (await create({ name: 'p', strategy: 'failover' })).body
    const res = await h.call('PATCH', `/api/pools/${p.id}`, {
      token: ws.key,
      body: { name: 'q', description: 'd', strategy: 'round_robin', allowedCallerIds: [a.permanentId] },
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      name: 'q',
      description: 'd',
      strategy: 'round_robin',
      allowedCallerIds: [a.id],
    })
    const reopened = await h.call('PATCH', `/api/pools/${p.id}`, {
      token: ws.key,
      body: { allowedCallerIds: null },
    })
    expect(reopened.body.allowedCallerIds).toBeNull()
  })

  test('members: add (409 when already in), change priority, remove by any of its names', async () => {
    const p = (await create({ name: 'm', strategy: 'failover', members: [{ agentId: a.id, priority: 1 }] }))
      .body
    const added = await h.call('POST', `/api/pools/${p.id}/members`, {
      token: ws.key,
      body: { agentId: b.permanentId, priority: 5 },
    })
    expect(added.status).toBe(201)
    expect(added.body).toMatchObject({ agentId: b.id, permanentId: b.permanentId, priority: 5 })
    const dup = await h.call('POST', `/api/pools/${p.id}/members`, { token: ws.key, body: { agentId: b.id } })
    expect(dup.status).toBe(409)
    expect(dup.body.code).toBe('conflict')

    const moved = await h.call('PATCH', `/api/pools/${p.id}/members/${added.body.id}`, {
      token: ws.key,
      body: { priority: 0 },
    })
    expect(moved.status).toBe(200)
    expect(moved.body).toMatchObject({ id: added.body.id, priority: 0 })
    const byAgent = await h.call('PATCH', `/api/pools/${p.id}/members/${a.permanentId}`, {
      token: ws.key,
      body: { priority: 7 },
    })
    expect(byAgent.body.priority).toBe(7)

    const rm = await h.call('DELETE', `/api/pools/${p.id}/members/${b.id}`, { token: ws.key })
    expect(rm.body).toEqual({ id: added.body.id, agentId: b.id, removed: true })
    expect((await h.call('DELETE', `/api/pools/${p.id}/members/${b.id}`, { token: ws.key })).status).toBe(404)
    expect(
      (await h.call('PATCH', `/api/pools/${p.id}/members/${b.id}`, { token: ws.key, body: { priority: 1 } }))
        .status,
    ).toBe(404)
    const left = (await h.call('GET', `/api/pools/${p.id}`, { token: ws.key })).body
    expect(left.members.map((x: any) => [x.agentId, x.priority])).toEqual([[a.id, 7]])
  })

  test('delete removes the pool, not the agents', async () => {
    const p = (await create({ name: 'd', strategy: 'random', members: [{ agentId: a.id }] })).body
    expect((await h.call('DELETE', `/api/pools/${p.id}`, { token: ws.key })).body).toEqual({
      id: p.id,
      deleted: true,
    })
    expect((await h.call('GET', `/api/pools/${p.id}`, { token: ws.key })).status).toBe(404)
    expect((await h.call('GET', `/api/agents/${a.id}`, { token: ws.key })).status).toBe(200)
  })

  test('an agent named twice is a 400; a pool has at most 100 members', async () => {
    const twice = await create({
      name: 't',
      strategy: 'failover',
      members: [{ agentId: a.id }, { agentId: a.permanentId }],
    })
    expect(twice.status).toBe(400)
    const mine = await h.workspace()
    const agents = []
    for (let i = 0; i < 101; i++) agents.push((await registerAgent(h, mine.key)).id)
    const full = (
      await create(
        { name: 'big', strategy: 'random', members: agents.slice(0, 100).map((agentId) => ({ agentId })) },
        mine.key,
      )
    ).body
    expect(full.memberCount).toBe(100)
    const more = await h.call('POST', `/api/pools/${full.id}/members`, {
      token: mine.key,
      body: { agentId: agents[100] },
    })
    expect(more.status).toBe(400)
  })
})

describe('pools: auth and isolation', () => {
  test('missing credential 401, an agent token 403', async () => {
    const p = (await create({ name: 'auth', strategy: 'random', members: [{ agentId: a.id }] })).body
    const routes = [
      ['POST', '/api/pools', { name: 'x', strategy: 'random' }],
      ['GET', '/api/pools', undefined],
      ['GET', `/api/pools/${p.id}`, undefined],
      ['PATCH', `/api/pools/${p.id}`, { name: 'y' }],
      ['DELETE', `/api/pools/${p.id}`, undefined],
      ['POST', `/api/pools/${p.id}/members`, { agentId: b.id }],
      ['PATCH', `/api/pools/${p.id}/members/${a.id}`, { priority: 1 }],
      ['DELETE', `/api/pools/${p.id}/members/${a.id}`, undefined],
    ] as const
    for (const [m, path, body] of routes) {
      expect({ m, path, s: (await h.call(m, path, { body })).status }).toEqual({ m, path, s: 401 })
      expect({ m, path, s: (await h.call(m, path, { body, token: a.token })).status }).toEqual({
        m,
        path,
        s: 403,
      })
    }
  })

  test("another workspace's pool is 404 on every route; its agents cannot be members", async () => {
    const p = (await create({ name: 'mine', strategy: 'failover', members: [{ agentId: a.id }] })).body
    const k = other.key
    for (const [m, path, body] of [
      ['GET', `/api/pools/${p.id}`, undefined],
      ['PATCH', `/api/pools/${p.id}`, { name: 'z' }],
      ['DELETE', `/api/pools/${p.id}`, undefined],
      ['POST', `/api/pools/${p.id}/members`, { agentId: foreign.id }],
      ['PATCH', `/api/pools/${p.id}/members/${a.id}`, { priority: 3 }],
      ['DELETE', `/api/pools/${p.id}/members/${a.id}`, undefined],
    ] as const) {
      expect({ m, path, s: (await h.call(m, path, { token: k, body })).status }).toEqual({ m, path, s: 404 })
    }
    expect((await h.call('GET', '/api/pools', { token: k })).body.pools.map((x: any) => x.id)).not.toContain(
      p.id,
    )
    expect((await create({ name: 'x', strategy: 'random', members: [{ agentId: foreign.id }] })).status).toBe(
      404,
    )
    expect(
      (await create({ name: 'x', strategy: 'random', allowedCallerIds: [foreign.permanentId] })).status,
    ).toBe(404)
    const add = await h.call('POST', `/api/pools/${p.id}/members`, {
      token: ws.key,
      body: { agentId: foreign.id },
    })
    expect(add.status).toBe(404)
    expect((await h.call('GET', `/api/pools/${p.id}`, { token: ws.key })).body.memberCount).toBe(1)
  })
})

describe('pools: bad input', () => {
  test('wrong types, unknown fields and bad ids are 400s', async () => {
    const bad = [
      { name: 'x', strategy: 'random', members: [{ agentId: a.id, priority: -1 }] },
      { name: 'x', strategy: 'random', members: [{ agentId: a.id, priority: 1.5 }] },
      { name: 'x', strategy: 'random', members: [{ agentId: a.id, priority: '1' }] },
      { name: 'x', strategy: 'random', members: [{ agentId: a.id, weight: 1 }] },
      { name: 'x', strategy: 'random', members: [{ priority: 1 }] },
      { name: 'x', strategy: 'random', members: {} },
      { name: 'x', strategy: 'random', owner: 'me' },
      { name: ['x'], strategy: 'random' },
    ]
    for (const body of bad) {
      const res = await create(body)
      expect({ body, status: res.status, code: res.body.code }).toEqual({
        body,
        status: 400,
        code: 'invalid_request',
      })
    }
    const p = (await create({ name: 'ok', strategy: 'random', members: [{ agentId: a.id }] })).body
    for (const [m, path, body] of [
      ['PATCH', `/api/pools/${p.id}`, { strategy: 'fastest' }],
      ['PATCH', `/api/pools/${p.id}`, { members: [] }],
      ['POST', `/api/pools/${p.id}/members`, { agentId: 'someone' }],
      ['POST', `/api/pools/${p.id}/members`, { agentId: b.id, priority: 1, extra: 1 }],
      ['PATCH', `/api/pools/${p.id}/members/${a.id}`, {}],
      ['PATCH', `/api/pools/${p.id}/members/${a.id}`, { priority: null }],
      ['GET', '/api/pools/123', undefined],
      ['GET', '/api/pools?cursor=%%%', undefined],
    ] as const) {
      expect({ m, path, s: (await h.call(m, path, { token: ws.key, body })).status }).toEqual({
        m,
        path,
        s: 400,
      })
    }
  })

  test('a JSON body over the limit is a 413', async () => {
    const res = await h.call('POST', '/api/pools', {
      token: ws.key,
      raw: JSON.stringify({ name: 'x', strategy: 'random', description: 'd'.repeat(1_100_000) }),
    })
    expect(res.status).toBe(413)
  })
})
