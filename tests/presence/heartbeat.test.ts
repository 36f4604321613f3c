import { describe, expect, test } from 'bun:test'
import { asc, eq, sql } from 'drizzle-orm'
import type { Orm } from '../../src/db'
import { sweepPresence } from '../../src/modules/presence/service'
import { refuseUpdates } from '../db/refuse'
import { harness, registerAgent, TestClock } from '../helpers'

const clock = new TestClock()
const h = await harness({ clock, env: { SWITCHBOARD_ONLINE_WINDOW_SECONDS: '60' } })
const ws = await h.workspace()

/**
 * Runs `write` after `sweep` has read its page but before its transaction reads the rows
 * again: SQLite, by holding the one writer until the sweep waits for it; Postgres, by holding
 * the row lock (the write made, not committed) until the sweep waits for it. Returns what the
 * sweep returns.
 */
async function interleave<T>(write: (orm: Orm) => Promise<unknown>, sweep: () => Promise<T>): Promise<T> {
  const { db } = h.deps
  let holding!: () => void
  const held = new Promise<void>((r) => (holding = r))
  const done =
    db.dialect === 'sqlite'
      ? db.write(async () => {
          holding()
          await until(async () => db.stats().waiting > 0)
          await write(db.orm)
        })
      : db.tx(async (tx) => {
          await write(tx)
          holding()
          await until(
            async () =>
              Number(
                (
                  await db.execute(
                    sql`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
                  )
                )[0]?.n,
              ) > 0,
          )
        })
  await held
  // Started outside the transaction above, so it does not join it.
  const sweeping = sweep()
  await done
  return await sweeping
}

async function until(probe: () => Promise<boolean>) {
  for (const end = Date.now() + 10_000; !(await probe()); await Bun.sleep(1))
    if (Date.now() > end) throw new Error('the sweep never waited for the interleaved write')
}

const presenceOf = async (id: string) =>
  (await h.call('GET', `/api/agents/${id}`, { token: ws.key })).body.presence

describe('heartbeat', () => {
  test('reports presence and refreshes lastHeartbeatAt', async () => {
    const a = await registerAgent(h, ws.key)
    expect(await presenceOf(a.id)).toBe('offline')
    const res = await h.call('POST', `/api/agents/${a.id}/heartbeat`, {
      token: a.token,
      body: { status: 'online' },
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      agentId: a.id,
      permanentId: a.permanentId,
      status: 'online',
      presence: 'online',
      isOnline: true,
      onlineWindowSeconds: 60,
    })
    expect(res.body.lastHeartbeatAt).toBe(clock.now().toISOString())
    const got = await h.call('GET', `/api/agents/${a.id}`, { token: ws.key })
    expect(got.body).toMatchObject({
      presence: 'online',
      isOnline: true,
      lastHeartbeatAt: clock.now().toISOString(),
    })
    const online = await h.call('GET', '/api/agents/online', { token: ws.key })
    expect(online.body.agents.map((x: any) => x.id)).toContain(a.id)
  })

  test('idle and offline are reported as such; the default is online', async () => {
    const a = await registerAgent(h, ws.key)
    expect(
      (
        await h.call('POST', `/api/agents/${a.permanentId}/heartbeat`, {
          token: a.token,
          body: { status: 'idle' },
        })
      ).body.presence,
    ).toBe('idle')
    expect(
      (await h.call('POST', `/api/agents/${a.id}/heartbeat`, { token: a.token, body: { status: 'offline' } }))
        .body.presence,
    ).toBe('offline')
    expect((await h.call('POST', `/api/agents/${a.id}/heartbeat`, { token: a.token })).body.presence).toBe(
      'online',
    )
    expect(
      (await h.call('POST', `/api/agents/${a.id}/heartbeat`, { token: a.token, body: { status: 'busy' } }))
        .status,
    ).toBe(400)
  })

  test('the sweep ends presence when the window lapses', async () => {
    const a = await registerAgent(h, ws.key)
    await h.call('POST', `/api/agents/${a.id}/heartbeat`, { token: a.token, body: { status: 'online' } })
    clock.advance(59_000)
    await sweepPresence(h.deps)
    expect(await presenceOf(a.id)).toBe('online')
    clock.advance(2_000)
    expect(await sweepPresence(h.deps)).toBeGreaterThanOrEqual(1)
    expect(await presenceOf(a.id)).toBe('offline')
  })

  test('a sweep of many agents goes a page at a time and lets other work run between pages', async () => {
    const many = await Promise.all(Array.from({ length: 5 }, () => registerAgent(h, ws.key)))
    for (const a of many)
      await h.call('POST', `/api/agents/${a.id}/heartbeat`, { token: a.token, body: { status: 'online' } })
    clock.advance(61_000)
    let done = false
    let ranDuring = false
    const sweeping = sweepPresence(h.deps, { pageSize: 2 }).then((n) => {
      done = true
      return n
    })
    // A request arriving meanwhile is a macrotask like this one: it must not wait for the end.
    setImmediate(() => {
      ranDuring = !done
    })
    expect(await sweeping).toBeGreaterThanOrEqual(5)
    expect(ranDuring).toBe(true)
    for (const a of many) expect(await presenceOf(a.id)).toBe('offline')
    const { events } = h.deps.db.t
    const rows = await h.deps.db.orm
      .select()
      .from(events)
      .where(eq(events.type, 'agent.status_changed'))
      .orderBy(asc(events.id))
    for (const a of many)
      expect(rows.filter((e) => e.agentId === a.id).map((e) => (e.data as { to: string }).to)).toEqual([
        'online',
        'offline',
      ])
  })

  test('a heartbeat that lands between the page read and its write wins: the agent stays online', async () => {
    const { agents, events } = h.deps.db.t
    const late = await registerAgent(h, ws.key)
    const other = await registerAgent(h, ws.key)
    for (const a of [late, other])
      await h.call('POST', `/api/agents/${a.id}/heartbeat`, { token: a.token, body: { status: 'online' } })
    clock.advance(61_000)
    // The sweep reads both as lapsed; before it writes, `late` heartbeats (the columns a
    // heartbeat writes, set by another writer while the sweep waits for its transaction).
    const beat = (orm: Orm) =>
      orm
        .update(agents)
        .set({ reportedStatus: 'online', lastHeartbeatAt: clock.now() })
        .where(eq(agents.id, late.id))
    expect(await interleave(beat, () => sweepPresence(h.deps, { pageSize: 500 }))).toBeGreaterThanOrEqual(1)
    expect(await presenceOf(other.id)).toBe('offline')
    expect(await presenceOf(late.id)).toBe('online')
    const changes = await h.deps.db.orm
      .select()
      .from(events)
      .where(eq(events.agentId, late.id))
      .orderBy(asc(events.id))
    expect(changes.filter((e) => e.type === 'agent.status_changed').map((e) => e.data.to)).toEqual(['online'])
  })

  test('lastActiveAt follows authenticated calls without a write per request', async () => {
    const a = await registerAgent(h, ws.key)
    expect(a.agent.lastActiveAt).toBeNull()
    clock.advance(1000)
    await h.call('GET', '/api/agents/me', { token: a.token })
    const touched = clock.now().toISOString()
    // Visible at once through the API (from memory) …
    expect((await h.call('GET', `/api/agents/${a.id}`, { token: ws.key })).body.lastActiveAt).toBe(touched)
    // … and in the row after the debounced flush.
    const { agents } = h.deps.db.t
    const { eq } = await import('drizzle-orm')
    const before = await h.deps.db.orm.select().from(agents).where(eq(agents.id, a.id))
    expect(before[0]!.lastActiveAt).toBeNull()
    await h.deps.activity.flush()
    const after = await h.deps.db.orm.select().from(agents).where(eq(agents.id, a.id))
    expect(after[0]!.lastActiveAt?.toISOString()).toBe(touched)
  })

  test('an expired token is refused', async () => {
    const p = await h.call('POST', '/api/agents/provision', {
      token: ws.key,
      body: { clientType: 'cline', ttlSeconds: 60 },
    })
    expect((await h.call('GET', '/api/agents/me', { token: p.body.token })).status).toBe(200)
    clock.advance(61_000)
    expect((await h.call('GET', '/api/agents/me', { token: p.body.token })).status).toBe(401)
  })
})

describe('heartbeats that change nothing but the time', () => {
  test('are noted in memory and written on the next flush; a change of status is written at once', async () => {
    const { eq } = await import('drizzle-orm')
    const { agents } = h.deps.db.t
    const stored = async (id: string) =>
      (await h.deps.db.orm.select().from(agents).where(eq(agents.id, id)))[0]!
    const a = await registerAgent(h, ws.key)
    const beat = (status: string) =>
      h.call('POST', `/api/agents/${a.id}/heartbeat`, { token: a.token, body: { status } })
    await beat('online')
    const first = clock.now().toISOString()
    expect((await stored(a.id)).lastHeartbeatAt?.toISOString()).toBe(first)
    clock.advance(500)
    const second = (await beat('online')).body
    expect(second.presence).toBe('online')
    // Not written yet, but the API already shows it …
    expect((await stored(a.id)).lastHeartbeatAt?.toISOString()).toBe(first)
    expect((await h.call('GET', `/api/agents/${a.id}`, { token: ws.key })).body.lastHeartbeatAt).toBe(
      second.lastHeartbeatAt,
    )
    // … and the flush writes it.
    await h.deps.heartbeats.flush()
    expect((await stored(a.id)).lastHeartbeatAt?.toISOString()).toBe(second.lastHeartbeatAt)
    // A different status is a change: written and decided at once, one event.
    clock.advance(500)
    expect((await beat('idle')).body.presence).toBe('idle')
    const row = await stored(a.id)
    expect(row.presence).toBe('idle')
    expect(row.reportedStatus).toBe('idle')
    const { events } = h.deps.db.t
    const changes = await h.deps.db.orm
      .select()
      .from(events)
      .where(eq(events.agentId, a.id))
      .orderBy(events.id)
    expect(changes.filter((e) => e.type === 'agent.status_changed').map((e) => e.data.to)).toEqual([
      'online',
      'idle',
    ])
  })

  test('a batch that did not land is kept and written by the next flush, never dropped', async () => {
    const { eq } = await import('drizzle-orm')
    const { agents } = h.deps.db.t
    const a = await registerAgent(h, ws.key)
    const b = await registerAgent(h, ws.key)
    const beat = (x: { id: string; token: string }) =>
      h.call('POST', `/api/agents/${x.id}/heartbeat`, { token: x.token, body: { status: 'online' } })
    await beat(a)
    await beat(b)
    clock.advance(500)
    const answered = (await beat(a)).body.lastHeartbeatAt
    await beat(b)
    // The database refuses heartbeat times for `a` (a trigger: a real failure, not a stand-in).
    const block = await refuseUpdates(h.deps.db, 'agents', a.id)
    await expect(h.deps.heartbeats.flush()).rejects.toThrow()
    expect(h.deps.heartbeats.unwritten).toBe(2)
    // A newer heartbeat meanwhile wins over the kept one; the older one does not overwrite it.
    clock.advance(500)
    const newer = (await beat(b)).body.lastHeartbeatAt
    await block.lift()
    await h.deps.heartbeats.flush()
    expect(h.deps.heartbeats.unwritten).toBe(0)
    const stored = async (id: string) =>
      (await h.deps.db.orm.select().from(agents).where(eq(agents.id, id)))[0]!.lastHeartbeatAt?.toISOString()
    expect(await stored(a.id)).toBe(answered)
    expect(await stored(b.id)).toBe(newer)
  })

  test('a presence change made elsewhere is seen by the next heartbeat', async () => {
    const a = await registerAgent(h, ws.key)
    await h.call('POST', `/api/agents/${a.id}/heartbeat`, { token: a.token, body: { status: 'online' } })
    // The window lapses and the sweep (here, or on another instance) takes the agent offline.
    clock.advance(61_000)
    await sweepPresence(h.deps)
    expect(await presenceOf(a.id)).toBe('offline')
    const res = await h.call('POST', `/api/agents/${a.id}/heartbeat`, {
      token: a.token,
      body: { status: 'online' },
    })
    expect(res.body.presence).toBe('online')
    expect(await presenceOf(a.id)).toBe('online')
  })
})
