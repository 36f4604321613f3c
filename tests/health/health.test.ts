import { afterAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { runHealthSweep } from '../../src/modules/health/sweep'
import { TestClock } from '../helpers'
import { eventually, liveServer } from '../ws/live'

const clock = new TestClock()
const live = await liveServer(
  {
    SWITCHBOARD_HEALTH_CRON: '0 0 * * * *',
    SWITCHBOARD_HEALTH_TIMEOUT_MS: '500',
    SWITCHBOARD_HEALTH_SPREAD: '0',
    SWITCHBOARD_HEALTH_HISTORY: '10',
    SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
  },
  { clock },
)
const ws = await live.workspace()
const other = await live.workspace()

const hits = new Map<string, number>()
const endpoint = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch(req) {
    const path = new URL(req.url).pathname
    hits.set(path, (hits.get(path) ?? 0) + 1)
    return new Response(null, { status: path.includes('down') ? 500 : 204 })
  },
})
afterAll(() => endpoint.stop(true))
const url = (p: string) => `http://127.0.0.1:${endpoint.port}/${p}`

const checksOf = async (agentId: string) => {
  const h = live.deps.db.t.healthChecks
  return live.deps.db.orm.select().from(h).where(eq(h.agentId, agentId))
}

describe('the health checker', () => {
  test('checks every active, non-archived agent with an endpoint, once per run, through the guard', async () => {
    const up = await live.agent(ws.key, { endpointUrl: url('up') })
    const down = await live.agent(ws.key, { endpointUrl: url('down') })
    const none = await live.agent(ws.key)
    const inactive = await live.agent(ws.key, { endpointUrl: url('inactive') })
    const archived = await live.agent(ws.key, { endpointUrl: url('archived') })
    await live.call('PATCH', `/api/agents/${inactive.id}`, { token: ws.key, body: { status: 'inactive' } })
    await live.call('PATCH', `/api/agents/${archived.id}`, { token: ws.key, body: { archived: true } })
    const summary = await runHealthSweep(live.deps)
    expect(summary.checked).toBeGreaterThanOrEqual(2)
    expect(hits.get('/up')).toBe(1)
    expect(hits.get('/down')).toBe(1)
    expect(hits.has('/inactive')).toBe(false)
    expect(hits.has('/archived')).toBe(false)
    expect(await checksOf(none.id)).toHaveLength(0)
    const agent = (await live.call('GET', `/api/agents/${up.id}`, { token: ws.key })).body
    expect(agent.lastHealthCheck).toMatchObject({ ok: true, httpStatus: 204, error: null })
    expect(agent.presence).toBe('online')
    const bad = (await live.call('GET', `/api/agents/${down.id}`, { token: ws.key })).body
    expect(bad.lastHealthCheck).toMatchObject({ ok: false, httpStatus: 500, error: 'HTTP 500' })
    expect(bad.presence).toBe('offline')
  })

  test('a refused address is a failed check, never a request', async () => {
    const a = await live.agent(ws.key, { endpointUrl: url('later') })
    // The endpoint moves somewhere the guard refuses (metadata); the row is changed directly
    // because registration would refuse it.
    const { agents } = live.deps.db.t
    await live.deps.db.write(() =>
      live.deps.db.orm
        .update(agents)
        .set({ endpointUrl: 'http://169.254.169.254/latest' })
        .where(eq(agents.id, a.id)),
    )
    await runHealthSweep(live.deps)
    const [check] = await checksOf(a.id)
    expect(check).toMatchObject({ ok: false, httpStatus: null })
    expect(check!.error).toMatch(/^refused/)
  })

  test('the history is bounded per agent, newest kept; uptime counts the last 24 hours', async () => {
    const a = await live.agent(ws.key, { endpointUrl: url('bounded') })
    for (let i = 0; i < 13; i++) {
      clock.advance(3_600_000)
      await runHealthSweep(live.deps)
    }
    const rows = await checksOf(a.id)
    expect(rows).toHaveLength(10)
    const h = await live.call('GET', `/api/agents/${a.permanentId}/health?limit=4`, { token: ws.key })
    expect(h.status).toBe(200)
    expect(h.body).toMatchObject({ agentId: a.id, permanentId: a.permanentId, presence: 'online' })
    expect(h.body.uptime).toEqual({ windowHours: 24, checks: 10, passed: 10, ratio: 1 })
    expect(h.body.checks).toHaveLength(4)
    expect(h.body.checks[0].at).toBe(clock.now().toISOString())
    expect(typeof h.body.checks[0].latencyMs).toBe('number')
    const all: string[] = h.body.checks.map((c: any) => c.at)
    let cursor = h.body.nextCursor
    while (cursor) {
      const next = await live.call('GET', `/api/agents/${a.id}/health?limit=4&cursor=${cursor}`, {
        token: ws.key,
      })
      all.push(...next.body.checks.map((c: any) => c.at))
      cursor = next.body.nextCursor
    }
    expect(all).toHaveLength(10)
    expect(all).toEqual([...all].sort().reverse())
    clock.advance(20 * 3_600_000)
    const later = await live.call('GET', `/api/agents/${a.id}/health`, { token: ws.key })
    expect(later.body.uptime).toMatchObject({ checks: 5, passed: 5 })
    clock.advance(5 * 3_600_000)
    const none = await live.call('GET', `/api/agents/${a.id}/health`, { token: ws.key })
    expect(none.body.uptime).toEqual({ windowHours: 24, checks: 0, passed: 0, ratio: null })
  }, 30_000)

  test('GET /api/agents/{agentId}/health: auth and input', async () => {
    const a = await live.agent(ws.key)
    expect((await live.call('GET', `/api/agents/${a.id}/health`)).status).toBe(401)
    expect((await live.call('GET', `/api/agents/${a.id}/health`, { token: a.token })).status).toBe(403)
    expect((await live.call('GET', `/api/agents/${a.id}/health`, { token: other.key })).status).toBe(404)
    expect((await live.call('GET', '/api/agents/not-an-id/health', { token: ws.key })).status).toBe(400)
    expect((await live.call('GET', `/api/agents/${a.id}/health?limit=0`, { token: ws.key })).status).toBe(400)
    const badCursor = await live.call('GET', `/api/agents/${a.id}/health?cursor=abc`, { token: ws.key })
    expect(badCursor.status).toBe(400)
    expect(badCursor.body.code).toBe('invalid_cursor')
  })
})

describe('on its schedule', () => {
  test('the cron runs the checker by itself', async () => {
    // On Postgres the scheduled jobs run on whichever instance holds the cluster's lead; the
    // suite's first server (its job-deadline sweep ticks every 30 s) must not hold it here.
    await live.running.stop()
    const fast = await liveServer({
      SWITCHBOARD_HEALTH_CRON: '* * * * * *',
      SWITCHBOARD_HEALTH_TIMEOUT_MS: '300',
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
    })
    const w = await fast.workspace()
    const a = await fast.agent(w.key, { endpointUrl: url('scheduled') })
    const checked = await eventually(async () => {
      const h = await fast.call('GET', `/api/agents/${a.id}/health`, { token: w.key })
      // The check is recorded, then the presence it decides: wait for both.
      return h.body.checks.length > 0 && h.body.presence === 'online' ? h.body : null
    })
    expect(checked.checks[0]).toMatchObject({ ok: true, httpStatus: 204 })
    expect(checked.presence).toBe('online')
  }, 30_000)
})
