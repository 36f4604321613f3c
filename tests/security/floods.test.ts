import { describe, expect, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { purgeExpiredMessages } from '../../src/modules/messages/purge'
import { harness, registerAgent, TestClock } from '../helpers'

/**
 * What one credential, or one workspace, can make the database hold and write: a broadcast's
 * payload is stored once however many agents get it, every mutating route is limited per
 * credential, and a workspace holds at most so many agents, messages, commands and bytes of
 * agent metadata — each refusal a clear 429 or 413 naming its setting.
 */
const payload = (kb: number) => ({ blob: 'x'.repeat(kb * 1024) })
const clock = new TestClock()
const plain = await harness()
const writeLimited = await harness({
  env: { SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND: '0.001', SWITCHBOARD_RATE_LIMIT_WRITE_BURST: '3' },
})
const small = await harness({
  clock,
  env: {
    SWITCHBOARD_MAX_AGENTS_PER_WORKSPACE: '4',
    SWITCHBOARD_MAX_MESSAGES_PER_WORKSPACE: '5',
    SWITCHBOARD_MAX_MESSAGE_BYTES_PER_WORKSPACE: '65536',
    SWITCHBOARD_MAX_PENDING_COMMANDS_PER_WORKSPACE: '2',
    SWITCHBOARD_MAX_METADATA_BYTES_PER_WORKSPACE: '65536',
  },
})

describe('a broadcast stores its payload once', () => {
  test('twenty recipients, one payload row; every inbox still reads the payload', async () => {
    const h = plain
    const ws = await h.workspace()
    const from = await registerAgent(h, ws.key)
    const to = []
    for (let i = 0; i < 20; i++) to.push(await registerAgent(h, ws.key))
    const sent = await h.call('POST', `/api/agents/${from.id}/messages/broadcast`, {
      token: from.token,
      body: { payload: payload(60) },
    })
    expect(sent.status).toBe(200)
    expect(sent.body.recipients).toBe(20)

    const { payloads, messages, events } = h.deps.db.t
    const stored = await h.deps.db.orm.select().from(payloads).where(eq(payloads.workspaceId, ws.id))
    expect(stored).toHaveLength(1)
    expect(stored[0]!.bytes).toBeGreaterThan(60 * 1024)
    // The messages and events refer to it; none holds a copy.
    const rows = await h.deps.db.orm.select().from(messages).where(eq(messages.workspaceId, ws.id))
    expect(rows).toHaveLength(20)
    expect(JSON.stringify(rows).length).toBeLessThan(20 * 1024)
    const evs = await h.deps.db.orm
      .select()
      .from(events)
      .where(and(eq(events.workspaceId, ws.id), eq(events.type, 'message.received')))
    expect(evs).toHaveLength(20)
    expect(JSON.stringify(evs).length).toBeLessThan(20 * 1024)

    for (const agent of [to[0]!, to[19]!]) {
      const inbox = await h.call('GET', `/api/agents/${agent.id}/messages`, { token: agent.token })
      expect(inbox.body.messages).toHaveLength(1)
      expect(inbox.body.messages[0].payload).toEqual(payload(60))
    }
  })
})

describe('writes are limited per credential', () => {
  test('every mutating route counts; reads do not; another credential has its own budget', async () => {
    const h = writeLimited
    const ws = await h.workspace()
    const other = await h.call('POST', '/api/workspace/keys', { token: ws.key, body: { name: 'second' } })
    expect(other.status).toBe(201) // 1 of the first key's 3
    const a = await registerAgent(h, ws.key) // 2
    expect(
      (await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { label: 'x' } })).status,
    ).toBe(200) // 3
    const limited = await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { label: 'y' } })
    expect(limited.status).toBe(429)
    expect(limited.body.code).toBe('rate_limited')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    for (const [m, p, body] of [
      ['POST', `/api/agents/${a.id}/command`, { action: 'status' }],
      ['DELETE', `/api/agents/${a.id}`, undefined],
      ['POST', `/api/agents/${a.id}/messages/broadcast`, { payload: 1 }],
    ] as const) {
      expect((await h.call(m, p, { token: ws.key, body })).status).toBe(429)
    }
    // Reads are not writes; the workspace's other key has its own budget.
    expect((await h.call('GET', `/api/agents/${a.id}`, { token: ws.key })).status).toBe(200)
    expect(
      (await h.call('PATCH', `/api/agents/${a.id}`, { token: other.body.apiKey, body: { label: 'z' } }))
        .status,
    ).toBe(200)

    // An agent: all its tokens share one budget.
    const rotated = await h.call('POST', `/api/agents/${a.id}/rotate-token`, {
      token: a.token,
      body: { graceSeconds: 600 },
    }) // 1
    expect(rotated.status).toBe(200)
    const beats = []
    for (const token of [a.token, rotated.body.token, a.token])
      beats.push((await h.call('POST', `/api/agents/${a.id}/heartbeat`, { token, body: {} })).status)
    expect(beats).toEqual([200, 200, 429])
  })
})

describe('what one workspace may hold', () => {
  test('agents: the next registration or provisioning is a 429 naming the setting', async () => {
    const h = small
    const ws = await h.workspace()
    for (let i = 0; i < 3; i++) await registerAgent(h, ws.key)
    expect(
      (await h.call('POST', '/api/agents/provision', { token: ws.key, body: { clientType: 'cursor' } }))
        .status,
    ).toBe(201)
    const more = await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'fifth' } })
    expect(more.status).toBe(429)
    expect(more.body).toMatchObject({
      code: 'quota_exceeded',
      details: { limit: 4, setting: 'SWITCHBOARD_MAX_AGENTS_PER_WORKSPACE' },
    })
    const provision = await h.call('POST', '/api/agents/provision', {
      token: ws.key,
      body: { clientType: 'cline' },
    })
    expect(provision.status).toBe(429)
    // Another workspace is not affected.
    const other = await h.workspace()
    expect((await h.call('POST', '/api/agents', { token: other.key, body: { name: 'fine' } })).status).toBe(
      201,
    )
  })

  test('messages: by count and by bytes, freed again when they expire', async () => {
    const h = small
    const ws = await h.workspace()
    const [a, b, c] = [
      await registerAgent(h, ws.key),
      await registerAgent(h, ws.key),
      await registerAgent(h, ws.key),
    ]
    const send = (body: Record<string, unknown>) =>
      h.call('POST', `/api/agents/${a.id}/messages/send`, {
        token: a.token,
        body: { toAgentId: b.id, ...body },
      })
    const cast = await h.call('POST', `/api/agents/${a.id}/messages/broadcast`, {
      token: a.token,
      body: { payload: 1, ttlSeconds: 60 },
    })
    expect(cast.body.recipients).toBe(2)
    for (let i = 0; i < 3; i++) expect((await send({ payload: i, ttlSeconds: 60 })).status).toBe(200)
    const full = await send({ payload: 'one too many' })
    expect(full.status).toBe(429)
    expect(full.body.details.setting).toBe('SWITCHBOARD_MAX_MESSAGES_PER_WORKSPACE')
    // A broadcast that would pass the count is refused whole.
    const castAgain = await h.call('POST', `/api/agents/${c.id}/messages/broadcast`, {
      token: c.token,
      body: { payload: 1 },
    })
    expect(castAgain.status).toBe(429)
    clock.advance(61_000)
    await purgeExpiredMessages(h.deps)
    const big = await send({ payload: payload(40) })
    expect(big.status).toBe(200)
    const tooBig = await send({ payload: payload(40) })
    expect(tooBig.status).toBe(429)
    expect(tooBig.body.details.setting).toBe('SWITCHBOARD_MAX_MESSAGE_BYTES_PER_WORKSPACE')
  })

  test('commands: at most so many unacknowledged; an acknowledgement frees a place', async () => {
    const h = small
    const ws = await h.workspace()
    const a = await registerAgent(h, ws.key)
    const queue = () =>
      h.call('POST', `/api/agents/${a.id}/command`, { token: ws.key, body: { action: 'status' } })
    const first = await queue()
    expect(first.status).toBe(200)
    expect((await queue()).status).toBe(200)
    const third = await queue()
    expect(third.status).toBe(429)
    expect(third.body.details.setting).toBe('SWITCHBOARD_MAX_PENDING_COMMANDS_PER_WORKSPACE')
    const ack = await h.call('POST', `/api/agents/${a.id}/commands/${first.body.commandId}/ack`, {
      token: a.token,
      body: { status: 'done' },
    })
    expect(ack.status).toBe(200)
    expect((await queue()).status).toBe(200)
  })

  test('agent metadata: the workspace total is capped too', async () => {
    const h = small
    const ws = await h.workspace()
    const caps = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: `c${i}`, metadata: { v: 'm'.repeat(7000) } }))
    expect(
      (await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'a', capabilities: caps(4) } }))
        .status,
    ).toBe(201)
    expect(
      (await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'b', capabilities: caps(4) } }))
        .status,
    ).toBe(201)
    const third = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'c', capabilities: caps(4) },
    })
    expect(third.status).toBe(429)
    expect(third.body.details.setting).toBe('SWITCHBOARD_MAX_METADATA_BYTES_PER_WORKSPACE')
  })
})
