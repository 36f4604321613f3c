import { describe, expect, test } from 'bun:test'
import { and, asc, eq, gt } from 'drizzle-orm'
import { liveServer } from './live'

const live = await liveServer()
const ws = await live.workspace()
const x = await live.agent(ws.key, { name: 'x' })
const y = await live.agent(ws.key, { name: 'y' })

/** Every event id of the workspace after `after`, from the table. */
async function storedIds(after: number) {
  const e = live.deps.db.t.events
  const rows = await live.deps.db.orm
    .select({ id: e.id })
    .from(e)
    .where(and(eq(e.workspaceId, ws.id), gt(e.id, after)))
    .orderBy(asc(e.id))
  return rows.map((r) => r.id)
}

/** Sends `n` messages from x to y, one event each. */
async function produce(n: number, tag: string) {
  for (let i = 0; i < n; i++) {
    const res = await live.call('POST', `/api/agents/${x.id}/messages/send`, {
      token: x.token,
      body: { toAgentId: y.id, payload: { tag, i }, ttlSeconds: 600 },
    })
    if (res.status !== 200) throw new Error(`send failed: ${res.status}`)
  }
}

describe('resume', () => {
  test('reconnecting with ?since while events are produced loses nothing and duplicates nothing', async () => {
    let s = await live.socket(`?token=${ws.key}`)
    const start = (await s.ready()).cursor as number
    const received: number[] = []
    let producing = true
    const producers = Promise.all([produce(300, 'p1'), produce(300, 'p2')]).finally(() => {
      producing = false
    })
    let reconnects = 0
    while (producing || received.length < (await storedIds(start)).length) {
      // Take some events on this socket, then drop it and come back from the last id we have.
      await s.eventsMatching(() => true, 40, 2000).catch(() => {})
      await s.close()
      received.push(...s.events.map((e) => e.id!))
      const since = received.length > 0 ? received[received.length - 1]! : start
      s = await live.socket(`?token=${ws.key}&since=${since}`)
      expect((await s.ready()).cursor).toBe(since)
      reconnects++
    }
    await producers
    await s.close()
    received.push(...s.events.map((e) => e.id!))
    expect(reconnects).toBeGreaterThan(3)
    const expected = await storedIds(start)
    expect(expected.length).toBe(600)
    expect(received).toEqual(expected)
  }, 60_000)

  test('?since replays stored events across pages, then goes live on the same socket', async () => {
    const first = await live.socket(`?token=${ws.key}`)
    const from = (await first.ready()).cursor as number
    await first.close()
    await produce(650, 'paged')
    const s = await live.socket(`?token=${ws.key}&since=${from}`)
    await s.eventsMatching(() => true, 650, 20_000)
    await produce(5, 'after')
    await s.until((f) => f.data?.payload?.tag === 'after' && f.data.payload.i === 4)
    expect(s.events.map((e) => e.id)).toEqual(await storedIds(from))
    await s.close()
  }, 60_000)

  test('{type:"resume", since} on a live socket replays from there again', async () => {
    const s = await live.socket(`?token=${ws.key}`)
    const from = (await s.ready()).cursor as number
    await produce(5, 'r1')
    const got = await s.eventsMatching(() => true, 5)
    const mid = got[1]!.id!
    s.send({ type: 'resume', since: String(mid) })
    await produce(2, 'r2')
    await s.until((f) => f.data?.payload?.tag === 'r2' && f.data.payload.i === 1)
    const ids = s.events.map((e) => e.id!)
    const all = await storedIds(from)
    // The five, then again everything after the second of them, then the new two.
    expect(ids).toEqual([...all.slice(0, 5), ...all.slice(2)])
    await s.close()
  })

  test('an empty ?since= (a client with no id yet) starts from now, like no since at all', async () => {
    await produce(2, 'before')
    const probe = await live.call('GET', '/api/ws', { token: ws.key })
    const s = await live.socket(`?token=${ws.key}&since=`)
    expect((await s.ready()).cursor).toBe(probe.body.cursor)
    await produce(3, 'after')
    const got = await s.eventsMatching((e) => e.data?.payload?.tag === 'after', 3)
    expect(s.events.filter((e) => e.data?.payload?.tag === 'before')).toEqual([])
    expect(got.map((e) => e.data.payload.i)).toEqual([0, 1, 2])
    await s.close()
  })

  test('a cursor ahead of the stream waits for ids beyond it', async () => {
    const probe = await live.call('GET', '/api/ws', { token: ws.key })
    const ahead = probe.body.cursor + 3
    const s = await live.socket(`?token=${ws.key}&since=${ahead}`)
    await s.ready()
    await produce(5, 'ahead')
    await s.eventsMatching(() => true, 2)
    expect(s.events.every((e) => e.id! > ahead)).toBe(true)
    await s.close()
  })
})
