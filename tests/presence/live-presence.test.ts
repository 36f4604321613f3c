import { afterAll, describe, expect, test } from 'bun:test'
import { runHealthSweep } from '../../src/modules/health/sweep'
import { sweepPresence } from '../../src/modules/presence/service'
import { TestClock } from '../helpers'
import { liveServer, type TestSocket } from '../ws/live'

const clock = new TestClock()
const live = await liveServer(
  {
    SWITCHBOARD_ONLINE_WINDOW_SECONDS: '60',
    // A pattern with a known interval (a day) that will not fire during the suite.
    SWITCHBOARD_HEALTH_CRON: '0 0 0 * * *',
    SWITCHBOARD_HEALTH_TIMEOUT_MS: '300',
    SWITCHBOARD_HEALTH_SPREAD: '0',
    SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
  },
  { clock },
)
const DAY = 86_400_000
const ws = await live.workspace()

/** An agent endpoint whose answer the test sets. */
let mode: 'ok' | '503' | '404' | 'slow' = 'ok'
const endpoint = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch() {
    if (mode === 'slow') await Bun.sleep(1500)
    return new Response('hi', { status: mode === 'ok' || mode === 'slow' ? 200 : Number(mode) })
  },
})
afterAll(() => endpoint.stop(true))

const watcher = await live.socket(`?token=${ws.key}`)
await watcher.ready()

/** The status changes of one agent seen by the workspace's socket, as from→to:reason. */
const changes = (s: TestSocket, agentId: string) =>
  s.events
    .filter((e) => e.type === 'agent.status_changed' && e.data.agentId === agentId)
    .map((e) => `${e.data.from}→${e.data.to}:${e.data.reason}`)

/** Waits for an agent's nth status change on the watcher. */
const nth = (agentId: string, n: number) =>
  watcher.eventsMatching((e) => e.type === 'agent.status_changed' && e.data.agentId === agentId, n)

/** A later change of a barrier agent proves every earlier event has arrived. */
async function settle() {
  const b = await live.agent(ws.key, { name: 'barrier' })
  await live.heartbeat(b, 'online')
  await watcher.until((e) => e.type === 'agent.status_changed' && e.data.agentId === b.id)
}

describe('presence transitions, one event per change', () => {
  test('heartbeats: each reported change once, a repeat none; the window lapsing once', async () => {
    const a = await live.agent(ws.key)
    await live.heartbeat(a, 'online')
    await live.heartbeat(a, 'online')
    await live.heartbeat(a, 'idle')
    await live.heartbeat(a, 'idle')
    await live.heartbeat(a, 'offline')
    await live.heartbeat(a, 'online')
    clock.advance(61_000)
    await sweepPresence(live.deps)
    await sweepPresence(live.deps)
    await nth(a.id, 5)
    await settle()
    expect(changes(watcher, a.id)).toEqual([
      'offline→online:heartbeat',
      'online→idle:heartbeat',
      'idle→offline:heartbeat',
      'offline→online:heartbeat',
      'online→offline:heartbeat_expired',
    ])
    expect(watcher.events.find((e) => e.data?.agentId === a.id)!.data.permanentId).toBe(a.permanentId)
  })

  test('health checks: up, one 503 does not flap, two intervals of failure do, a timeout fails, a 404 is up', async () => {
    const a = await live.agent(ws.key, { endpointUrl: `http://127.0.0.1:${endpoint.port}/agent` })
    const health = () => live.call('GET', `/api/agents/${a.id}/health`, { token: ws.key })
    mode = 'ok'
    await runHealthSweep(live.deps)
    await nth(a.id, 1)
    mode = '503'
    clock.advance(DAY)
    await runHealthSweep(live.deps)
    expect((await health()).body.presence).toBe('online')
    clock.advance(DAY + 1)
    await runHealthSweep(live.deps)
    await nth(a.id, 2)
    mode = 'slow'
    clock.advance(1000)
    await runHealthSweep(live.deps)
    mode = '404'
    clock.advance(1000)
    await runHealthSweep(live.deps)
    await nth(a.id, 3)
    await settle()
    expect(changes(watcher, a.id)).toEqual([
      'offline→online:health_check',
      'online→offline:health_check_failed',
      'offline→online:health_check',
    ])
    const checks = (await health()).body.checks
    expect(checks.map((c: any) => [c.ok, c.httpStatus])).toEqual([
      [true, 404],
      [false, null],
      [false, 503],
      [false, 503],
      [true, 200],
    ])
    expect(checks[1].error).toMatch(/^timeout/)
    expect(checks[2].error).toBe('HTTP 503')
  }, 30_000)

  test('an open WebSocket of the agent: online at the first, offline after the last closes', async () => {
    const a = await live.agent(ws.key)
    const s1 = await live.socket(`?token=${a.token}`)
    await s1.ready()
    // The agent's own socket sees the change its opening caused.
    await s1.until((e) => e.type === 'agent.status_changed' && e.data.to === 'online')
    const s2 = await live.socket('', { authorization: `Bearer ${a.token}` })
    await s2.ready()
    await s1.close()
    // A fresh heartbeat decides over the socket …
    await live.heartbeat(a, 'idle')
    await nth(a.id, 2)
    // … and when it lapses, the socket that is still open counts again.
    clock.advance(61_000)
    await sweepPresence(live.deps)
    await nth(a.id, 3)
    await s2.close()
    await nth(a.id, 4)
    await settle()
    expect(changes(watcher, a.id)).toEqual([
      'offline→online:websocket',
      'online→idle:heartbeat',
      'idle→online:websocket',
      'online→offline:heartbeat_expired',
    ])
  })

  test('the socket signal is refreshed while open and lapses when it is not', async () => {
    const a = await live.agent(ws.key)
    const s = await live.socket(`?token=${a.token}`)
    await s.ready()
    await nth(a.id, 1)
    // A socket whose instance died stops being refreshed: the sweep ends it after socketFreshMs.
    clock.advance(live.deps.presencePolicy.socketFreshMs + 1)
    await sweepPresence(live.deps)
    await nth(a.id, 2)
    const { refreshSockets } = await import('../../src/modules/presence/sockets')
    await refreshSockets(live.deps, [a.id])
    await nth(a.id, 3)
    await s.close()
    await nth(a.id, 4)
    await settle()
    expect(changes(watcher, a.id)).toEqual([
      'offline→online:websocket',
      'online→offline:no_signal',
      'offline→online:websocket',
      'online→offline:no_signal',
    ])
  })
})
