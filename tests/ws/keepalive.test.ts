import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { sweepPresence } from '../../src/modules/presence/service'
import { TestClock } from '../helpers'
import { eventually, liveServer } from './live'

const clock = new TestClock()
const live = await liveServer(
  { SWITCHBOARD_WS_PING_SECONDS: '1', SWITCHBOARD_TOKEN_CACHE_SECONDS: '0' },
  { clock },
)
const ws = await live.workspace()

describe('keepalive', () => {
  test('a token that expires while connected closes its socket (4009) at the next keepalive', async () => {
    const p = await live.call('POST', '/api/agents/provision', {
      token: ws.key,
      body: { clientType: 'cline', ttlSeconds: 60 },
    })
    const s = await live.socket(`?token=${p.body.token}`)
    await s.ready()
    const keeper = await live.socket(`?token=${ws.key}`)
    await keeper.ready()
    clock.advance(61_000)
    expect((await s.closed).code).toBe(4009)
    // The workspace key's socket lives on through the same keepalives.
    keeper.send({ type: 'ping' })
    await keeper.until((f) => f.type === 'pong')
    expect(keeper.closeInfo).toBeNull()
    await keeper.close()
  })

  test('an agent with an open socket stays online across keepalives; closing it ends that', async () => {
    const a = await live.agent(ws.key)
    const watcher = await live.socket(`?token=${ws.key}`)
    await watcher.ready()
    const s = await live.socket(`?token=${a.token}`)
    await s.ready()
    await watcher.until((f) => f.type === 'agent.status_changed' && f.data.agentId === a.id)
    // Each keepalive re-records the socket, so it never lapses while open.
    const { agents } = live.deps.db.t
    const seenAt = async () =>
      (await live.deps.db.orm.select().from(agents).where(eq(agents.id, a.id)))[0]!.socketSeenAt!.getTime()
    for (let i = 0; i < 3; i++) {
      clock.advance(2_000)
      const now = clock.now().getTime()
      await eventually(async () => (await seenAt()) >= now)
      await sweepPresence(live.deps)
    }
    const agent = await live.call('GET', `/api/agents/${a.id}`, { token: ws.key })
    expect(agent.body.presence).toBe('online')
    await s.close()
    const off = await watcher.until(
      (f) => f.type === 'agent.status_changed' && f.data.agentId === a.id && f.data.to === 'offline',
    )
    expect(off.data).toMatchObject({ agentId: a.id, from: 'online', reason: 'no_signal' })
    expect(watcher.events.filter((e) => e.data.agentId === a.id)).toHaveLength(2)
    await watcher.close()
  }, 20_000)
})
