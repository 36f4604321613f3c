import { afterAll, describe, expect, test } from 'bun:test'
import { and, asc, eq, gt } from 'drizzle-orm'
import { type LiveEvent, Switchboard } from '../../sdk/src/index'
import { startServer } from '../../src/server'
import { newWorkspace, testConfig } from '../helpers'
import { waitFor } from '../jobs/fixtures'
import { NEVER } from '../ws/live'

/**
 * The SDK's live subscription across a server restart: a real Switchboard on a fixed port is
 * stopped mid-stream and started again on the same database; events made while the client is
 * away are replayed. Counted against the events table: none lost, none twice, in order.
 */
const port = await freePort()
const config = testConfig({
  PORT: String(port),
  SWITCHBOARD_BOOTSTRAP: 'false',
  SWITCHBOARD_SHUTDOWN_GRACE_SECONDS: '1',
  SWITCHBOARD_PRESENCE_SWEEP_CRON: NEVER,
  SWITCHBOARD_HEALTH_CRON: NEVER,
  SWITCHBOARD_RETENTION_CRON: NEVER,
  SWITCHBOARD_MESSAGE_PURGE_CRON: NEVER,
})
let server = await startServer(config)
afterAll(() => server.stop())
const baseUrl = `http://127.0.0.1:${port}`
const ws = await newWorkspace(server.deps)
const owner = new Switchboard({ baseUrl, token: ws.key })
const a = await owner.register({ name: 'a' })
const b = await owner.register({ name: 'b' })
const sender = new Switchboard({ baseUrl, token: a.token })

async function freePort() {
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const p = probe.port
  probe.stop(true)
  return p!
}

/** `n` messages from a to b: one `message.received` event each. */
async function produce(n: number, tag: string) {
  for (let i = 0; i < n; i++)
    await sender.sendMessage({ toAgentId: b.agent.id, payload: { tag, i } }, { from: a.agent.id })
}

async function storedIds(after: number) {
  const e = server.deps.db.t.events
  const rows = await server.deps.db.orm
    .select({ id: e.id })
    .from(e)
    .where(and(eq(e.workspaceId, ws.id), gt(e.id, after)))
    .orderBy(asc(e.id))
  return rows.map((r) => r.id)
}

describe('SDK live events', () => {
  test('a server restart mid-stream loses nothing and repeats nothing', async () => {
    const received: LiveEvent[] = []
    const ready: number[] = []
    const sub = owner.subscribe({
      onEvent: (e) => {
        received.push(e)
      },
      onReady: ({ cursor }) => {
        ready.push(cursor)
      },
      reconnect: { baseMs: 50, maxMs: 200 },
    })
    await waitFor(async () => ready.length === 1, 'the stream')
    const start = ready[0]!

    await produce(5, 'before')
    await waitFor(async () => received.length === 5, 'five events before the restart')
    await server.stop()
    server = await startServer(config)
    // Made before the client is back: it must catch these up with ?since.
    await produce(5, 'while-away')
    await waitFor(async () => ready.length === 2, 'the reconnect')
    await produce(5, 'after')

    const expected = await storedIds(start)
    expect(expected.length).toBe(15)
    await waitFor(async () => received.length >= expected.length, 'every stored event')
    await sub.close()
    expect(await sub.done).toBeNull()
    expect(received.map((e) => e.id)).toEqual(expected)
    expect(new Set(received.map((e) => e.id)).size).toBe(received.length)
    expect(received.map((e) => (e.data.payload as { tag: string }).tag)).toEqual([
      ...Array(5).fill('before'),
      ...Array(5).fill('while-away'),
      ...Array(5).fill('after'),
    ])
    expect(sub.reconnects).toBeGreaterThanOrEqual(1)
    expect(ready[1]).toBe(received[4]!.id)
  })

  test('events() iterates the stream; a refused token ends it with the error', async () => {
    const seen: LiveEvent[] = []
    // From the cursor now: what is produced next is replayed even if it comes before the socket is up.
    const { data } = await owner.api.GET('/api/ws')
    const iterating = (async () => {
      for await (const e of owner.events({ types: ['message.received'], since: data!.cursor })) {
        seen.push(e)
        if (seen.length === 2) break
      }
    })()
    await produce(2, 'iterated')
    await iterating
    expect(seen.map((e) => [e.type, (e.data.payload as { tag: string }).tag])).toEqual([
      ['message.received', 'iterated'],
      ['message.received', 'iterated'],
    ])

    const refused = new Switchboard({ baseUrl, token: 'tk_not-a-token' }).subscribe({ onEvent: () => {} })
    const ended = await refused.done
    expect({ status: ended?.status, code: ended?.code }).toEqual({ status: 401, code: 'unauthorized' })
  })
})
