import { describe, expect, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { recordCheck, trimEvery, trimsNow } from '../../src/modules/health/record'
import { runHealthSweep } from '../../src/modules/health/sweep'
import { TestClock } from '../helpers'
import { liveServer } from '../ws/live'

// Finding an agent's surplus checks reads past its whole history, so the history is
// trimmed every healthHistory/16 sweeps rather than on every check (docs/adr/0018).

describe('health history trimming', () => {
  test('each agent is trimmed on exactly one sweep of every trimEvery, whatever its id', () => {
    expect(trimEvery(1440)).toBe(90)
    expect(trimEvery(32)).toBe(2)
    expect(trimEvery(10)).toBe(1)
    const ids = Array.from({ length: 200 }, () => crypto.randomUUID())
    for (const every of [1, 2, 7, 90]) {
      for (const id of ids) {
        const start = Math.floor(Math.random() * 1e6)
        const hits = Array.from({ length: every }, (_, i) => trimsNow(id, start + i, every)).filter(Boolean)
        expect(hits).toHaveLength(1)
      }
    }
  })

  test('a history holds at most trimEvery − 1 checks over its bound, and is cut back to it', async () => {
    const clock = new TestClock()
    const live = await liveServer(
      {
        SWITCHBOARD_HEALTH_CRON: '0 0 * * * *',
        SWITCHBOARD_HEALTH_SPREAD: '0',
        SWITCHBOARD_HEALTH_HISTORY: '32',
        SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      },
      { clock },
    )
    const endpoint = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () => new Response(null, { status: 204 }),
    })
    try {
      const ws = await live.workspace()
      const agents = await Promise.all(
        Array.from({ length: 4 }, () =>
          live.agent(ws.key, { endpointUrl: `http://127.0.0.1:${endpoint.port}/` }),
        ),
      )
      const h = live.deps.db.t.healthChecks
      const count = async (agentId: string) => live.deps.db.orm.$count(h, eq(h.agentId, agentId))
      const every = trimEvery(32)
      expect(every).toBe(2)
      const seen = new Map<string, number[]>()
      for (let i = 0; i < 44; i++) {
        clock.advance(3_600_000)
        await runHealthSweep(live.deps)
        for (const a of agents) seen.set(a.id, [...(seen.get(a.id) ?? []), await count(a.id)])
      }
      for (const a of agents) {
        const counts = seen.get(a.id)!
        expect(Math.max(...counts)).toBe(32 + every - 1)
        // Once full, every trim brings it back to exactly the bound, the newest kept.
        expect(counts.slice(32).filter((n) => n === 32).length).toBe(12 / every)
        const newest = await live.deps.db.orm.select({ at: h.at }).from(h).where(eq(h.agentId, a.id))
        expect(Math.max(...newest.map((r) => r.at.getTime()))).toBe(clock.now().getTime())
      }
    } finally {
      endpoint.stop(true)
    }
  }, 30_000)

  test('two results for one agent in one commit group change its presence once', async () => {
    const live = await liveServer({ SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8' })
    const ws = await live.workspace()
    const agent = await live.agent(ws.key, { endpointUrl: 'http://127.0.0.1:9/' })
    const passed = { ok: true, httpStatus: 204, latencyMs: 1, error: null }
    await Promise.all([recordCheck(live.deps, agent.id, passed), recordCheck(live.deps, agent.id, passed)])
    const ev = live.deps.db.t.events
    const changes = await live.deps.db.orm
      .select({ data: ev.data })
      .from(ev)
      .where(and(eq(ev.agentId, agent.id), eq(ev.type, 'agent.status_changed')))
    expect(changes.map((c) => (c.data as { to: string }).to)).toEqual(['online'])
    expect(
      await live.deps.db.orm.$count(
        live.deps.db.t.healthChecks,
        eq(live.deps.db.t.healthChecks.agentId, agent.id),
      ),
    ).toBe(2)
  })
})
