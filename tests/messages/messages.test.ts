import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { purgeExpiredMessages } from '../../src/modules/messages/purge'
import { ADMIN_TOKEN, TestClock } from '../helpers'
import { liveServer } from '../ws/live'

const clock = new TestClock()
const live = await liveServer({ SWITCHBOARD_MESSAGE_TTL_SECONDS: '3600' }, { clock })
const ws = await live.workspace()
const other = await live.workspace()
const alice = await live.agent(ws.key, { name: 'alice' })
const bob = await live.agent(ws.key, { name: 'bob' })
const carol = await live.agent(ws.key, { name: 'carol' })
const stranger = await live.agent(other.key, { name: 'stranger' })

const send = (from: { id: string }, token: string, body: Record<string, unknown>) =>
  live.call('POST', `/api/agents/${from.id}/messages/send`, { token, body })
const inbox = (a: { id: string }, token: string, query = '') =>
  live.call('GET', `/api/agents/${a.id}/messages${query}`, { token })

describe('messages', () => {
  test('send: the answer, the inbox, and message.received on the recipient’s socket', async () => {
    const sock = await live.socket(`?token=${bob.token}`)
    await sock.ready()
    const res = await send(alice, alice.token, {
      toAgentId: bob.permanentId,
      payload: { action: 'process', data: 'example' },
      channel: 'tasks',
      type: 'request',
      correlationId: 'req-456',
      ttlSeconds: 300,
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      success: true,
      messageId: expect.any(String),
      expiresAt: new Date(clock.now().getTime() + 300_000).toISOString(),
    })
    const pushed = await sock.until((f) => f.type === 'message.received')
    expect(pushed.data).toMatchObject({
      messageId: res.body.messageId,
      agentId: bob.id,
      from: alice.id,
      fromPermanentId: alice.permanentId,
      channel: 'tasks',
      type: 'request',
      payload: { action: 'process', data: 'example' },
      correlationId: 'req-456',
    })
    const box = await inbox(bob, bob.token)
    expect(box.status).toBe(200)
    expect(box.body.messages).toEqual([
      {
        id: res.body.messageId,
        from: alice.id,
        channel: 'tasks',
        type: 'request',
        payload: { action: 'process', data: 'example' },
        correlationId: 'req-456',
        createdAt: clock.now().toISOString(),
        expiresAt: res.body.expiresAt,
        readAt: null,
      },
    ])
    expect(box.body.nextCursor).toBeNull()
    // The sender's inbox is its own.
    expect((await inbox(alice, alice.token)).body.messages).toEqual([])
    await sock.close()
  })

  test('inbox filters: channel, unreadOnly (default true), limit and cursor; mark read', async () => {
    const ids: string[] = []
    for (const channel of ['a', 'b', 'a', 'a']) {
      ids.push(
        (await send(bob, ws.key, { toAgentId: carol.id, payload: { channel }, channel })).body.messageId,
      )
    }
    expect((await inbox(carol, carol.token, '?channel=a')).body.messages.map((m: any) => m.id)).toEqual([
      ids[0],
      ids[2],
      ids[3],
    ])
    const marked = await live.call('POST', `/api/agents/${carol.id}/messages/read`, {
      token: carol.token,
      body: { messageIds: [ids[0], ids[1], ids[1], crypto.randomUUID()] },
    })
    expect(marked.body).toEqual({ success: true, marked: 2 })
    const again = await live.call('POST', `/api/agents/${carol.id}/messages/read`, {
      token: ws.key,
      body: { messageIds: [ids[0]] },
    })
    expect(again.body.marked).toBe(0)
    expect((await inbox(carol, carol.token)).body.messages.map((m: any) => m.id)).toEqual([ids[2], ids[3]])
    const all = await inbox(carol, ws.key, '?unreadOnly=false&limit=3')
    expect(all.body.messages.map((m: any) => m.id)).toEqual(ids.slice(0, 3))
    expect(all.body.messages[0].readAt).toBe(clock.now().toISOString())
    const rest = await inbox(carol, ws.key, `?unreadOnly=false&limit=3&cursor=${all.body.nextCursor}`)
    expect(rest.body.messages.map((m: any) => m.id)).toEqual([ids[3]])
    expect(rest.body.nextCursor).toBeNull()
    // Another agent's messages cannot be marked through this inbox.
    const foreign = await live.call('POST', `/api/agents/${alice.id}/messages/read`, {
      token: alice.token,
      body: { messageIds: [ids[2]] },
    })
    expect(foreign.body.marked).toBe(0)
  })

  test('broadcast: every other active, non-archived agent of the workspace gets one', async () => {
    const w = await live.workspace()
    const [s, r1, r2, gone] = await Promise.all(
      ['s', 'r1', 'r2', 'gone'].map((name) => live.agent(w.key, { name })),
    )
    await live.call('PATCH', `/api/agents/${gone!.id}`, { token: w.key, body: { archived: true } })
    const watcher = await live.socket(`?token=${w.key}`)
    await watcher.ready()
    const res = await live.call('POST', `/api/agents/${s!.id}/messages/broadcast`, {
      token: s!.token,
      body: { payload: { announcement: 'maintenance in 1 hour' }, channel: 'system', ttlSeconds: 3600 },
    })
    expect(res.status).toBe(200)
    expect(res.body.recipients).toBe(2)
    expect(res.body.messageIds).toHaveLength(2)
    const events = await watcher.eventsMatching((e) => e.type === 'message.received', 2)
    expect(events.map((e) => e.data.agentId).sort()).toEqual([r1!.id, r2!.id].sort())
    expect(events.every((e) => e.data.type === 'broadcast' && e.data.channel === 'system')).toBe(true)
    for (const r of [r1!, r2!]) {
      const box = await inbox(r, r.token)
      expect(box.body.messages).toHaveLength(1)
      expect(box.body.messages[0]).toMatchObject({ from: s!.id, type: 'broadcast', channel: 'system' })
    }
    expect((await inbox(s!, s!.token)).body.messages).toHaveLength(0)
    await watcher.close()
  })

  test('TTL: an expired message disappears from the inbox at once, and the purge deletes it', async () => {
    const w = await live.workspace()
    const [from, to] = await Promise.all([live.agent(w.key), live.agent(w.key)])
    const short = await send(from, from.token, { toAgentId: to.id, payload: 'short', ttlSeconds: 60 })
    const long = await send(from, from.token, { toAgentId: to.id, payload: 'default ttl' })
    expect(long.body.expiresAt).toBe(new Date(clock.now().getTime() + 3_600_000).toISOString())
    clock.advance(61_000)
    expect((await inbox(to, to.token)).body.messages.map((m: any) => m.id)).toEqual([long.body.messageId])
    const marked = await live.call('POST', `/api/agents/${to.id}/messages/read`, {
      token: to.token,
      body: { messageIds: [short.body.messageId] },
    })
    expect(marked.body.marked).toBe(0)
    expect(await purgeExpiredMessages(live.deps)).toBeGreaterThanOrEqual(1)
    const m = live.deps.db.t.messages
    expect(await live.deps.db.orm.select().from(m).where(eq(m.id, short.body.messageId))).toHaveLength(0)
    expect(await live.deps.db.orm.select().from(m).where(eq(m.id, long.body.messageId))).toHaveLength(1)
  })
})

describe('messages: auth and input', () => {
  const routes = (a: { id: string }) =>
    [
      ['POST', `/api/agents/${a.id}/messages/send`, { toAgentId: bob.id, payload: {} }],
      ['POST', `/api/agents/${a.id}/messages/broadcast`, { payload: {} }],
      ['GET', `/api/agents/${a.id}/messages`, undefined],
      ['POST', `/api/agents/${a.id}/messages/read`, { messageIds: [crypto.randomUUID()] }],
    ] as const

  test('missing → 401; another agent’s token → 403; another workspace → 404; the admin token → 403', async () => {
    for (const [method, path, body] of routes(alice)) {
      expect({ path, s: (await live.call(method, path, { body })).status }).toEqual({ path, s: 401 })
      expect({ path, s: (await live.call(method, path, { token: bob.token, body })).status }).toEqual({
        path,
        s: 403,
      })
      expect({ path, s: (await live.call(method, path, { token: other.key, body })).status }).toEqual({
        path,
        s: 404,
      })
      expect({ path, s: (await live.call(method, path, { token: stranger.token, body })).status }).toEqual({
        path,
        s: 403,
      })
      expect({ path, s: (await live.call(method, path, { token: ADMIN_TOKEN, body })).status }).toEqual({
        path,
        s: 403,
      })
    }
  })

  test('a recipient of another workspace is not found; an archived one is an invalid state', async () => {
    expect((await send(alice, alice.token, { toAgentId: stranger.id, payload: 1 })).status).toBe(404)
    const archived = await live.agent(ws.key)
    await live.call('PATCH', `/api/agents/${archived.id}`, { token: ws.key, body: { archived: true } })
    const res = await send(alice, alice.token, { toAgentId: archived.id, payload: 1 })
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('invalid_state')
  })

  test('bad input → 400', async () => {
    const bad: Record<string, unknown>[] = [
      {},
      { toAgentId: bob.id },
      { toAgentId: 'nobody', payload: 1 },
      { toAgentId: bob.id, payload: 1, type: 'shout' },
      { toAgentId: bob.id, payload: 1, ttlSeconds: 0 },
      { toAgentId: bob.id, payload: 1, ttlSeconds: 2_592_001 },
      { toAgentId: bob.id, payload: 1, channel: '' },
      { toAgentId: bob.id, payload: 'x'.repeat(70_000) },
      { toAgentId: bob.id, payload: 1, extra: true },
    ]
    for (const body of bad) {
      const res = await send(alice, alice.token, body)
      expect({ body: Object.keys(body), status: res.status }).toEqual({
        body: Object.keys(body),
        status: 400,
      })
    }
    expect((await inbox(alice, alice.token, '?unreadOnly=maybe')).status).toBe(400)
    expect((await inbox(alice, alice.token, '?limit=501')).status).toBe(400)
    const read = (body: unknown) =>
      live.call('POST', `/api/agents/${alice.id}/messages/read`, { token: alice.token, body })
    expect((await read({ messageIds: [] })).status).toBe(400)
    expect((await read({ messageIds: ['nope'] })).status).toBe(400)
  })
})
