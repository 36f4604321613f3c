import { describe, expect, test } from 'bun:test'
import { and, eq, inArray } from 'drizzle-orm'
import type { Presence } from '../../src/db/schema/types'
import type { PresenceChangedNote } from '../../src/modules/events/bus'
import { latestEventId } from '../../src/modules/events/feed'
import { sweepPresence } from '../../src/modules/presence/service'
import { TestClock } from '../helpers'
import { liveServer } from '../ws/live'

const clock = new TestClock()
const live = await liveServer({ SWITCHBOARD_ONLINE_WINDOW_SECONDS: '60' }, { clock })
const { deps } = live
const { agents, events, webhookDeliveries } = deps.db.t

type Signals = {
  presence: Presence
  reportedStatus?: Presence | null
  lastHeartbeatAt?: Date | null
  socketSeenAt?: Date | null
  lastHealthCheckAt?: Date | null
}

/** Each kind of agent a sweep meets, and what it should make of it (null: nothing). */
const KINDS: { name: string; signals: (now: number) => Signals; expect: string | null }[] = [
  {
    name: 'online, its heartbeat lapsed',
    signals: (now) => ({
      presence: 'online',
      reportedStatus: 'online',
      lastHeartbeatAt: new Date(now - 61_000),
    }),
    expect: 'online→offline:heartbeat_expired',
  },
  {
    name: 'idle, its heartbeat lapsed',
    signals: (now) => ({
      presence: 'idle',
      reportedStatus: 'idle',
      lastHeartbeatAt: new Date(now - 120_000),
    }),
    expect: 'idle→offline:heartbeat_expired',
  },
  {
    name: 'online, only a failed health check',
    signals: (now) => ({ presence: 'online', lastHealthCheckAt: new Date(now - 1000) }),
    expect: 'online→offline:health_check_failed',
  },
  {
    name: 'online with no signal at all',
    signals: () => ({ presence: 'online' }),
    expect: 'online→offline:no_signal',
  },
  {
    name: 'idle, with an open socket',
    signals: (now) => ({ presence: 'idle', socketSeenAt: new Date(now - 1000) }),
    expect: 'idle→online:websocket',
  },
  {
    name: 'online, a fresh heartbeat says idle',
    signals: (now) => ({ presence: 'online', reportedStatus: 'idle', lastHeartbeatAt: new Date(now - 1000) }),
    expect: 'online→idle:heartbeat',
  },
  {
    name: 'online, its heartbeat fresh',
    signals: (now) => ({
      presence: 'online',
      reportedStatus: 'online',
      lastHeartbeatAt: new Date(now - 59_000),
    }),
    expect: null,
  },
  {
    name: 'idle, its heartbeat fresh',
    signals: (now) => ({ presence: 'idle', reportedStatus: 'idle', lastHeartbeatAt: new Date(now - 1000) }),
    expect: null,
  },
  { name: 'offline already', signals: () => ({ presence: 'offline' }), expect: null },
]

type Seeded = { id: string; permanentId: string; workspaceId: string; was: Presence; expect: string | null }

/** Two of every kind in each of two workspaces, registered in turn so their ids interleave. */
async function seed() {
  const spaces = [await live.workspace(), await live.workspace()]
  const now = clock.now().getTime()
  const seeded: Seeded[] = []
  for (let copy = 0; copy < 2; copy++)
    for (const kind of KINDS)
      for (const ws of spaces) {
        // The first lapsed one of workspace 0 has a webhook: its change is queued for it too.
        const hook = copy === 0 && kind === KINDS[0] && ws === spaces[0]
        const a = await live.agent(ws.key, hook ? { webhookUrl: 'http://127.0.0.1:9/hook' } : {})
        const signals = kind.signals(now)
        await deps.db.write(() => deps.db.orm.update(agents).set(signals).where(eq(agents.id, a.id)))
        seeded.push({ ...a, workspaceId: ws.id, was: signals.presence, expect: kind.expect })
      }
  return { spaces, seeded }
}

/**
 * What one workspace's stream should carry: the sweep reads the online agents and then the
 * idle ones, each in id order, so that is the order of their events.
 */
function expectedStream(seeded: Seeded[], workspaceId: string) {
  const changed = seeded.filter((s) => s.workspaceId === workspaceId && s.expect !== null)
  const byId = (a: Seeded, b: Seeded) => (a.id < b.id ? -1 : 1)
  return [
    ...changed.filter((s) => s.was === 'online').sort(byId),
    ...changed.filter((s) => s.was === 'idle').sort(byId),
  ].map((s) => `${s.id} ${s.expect}`)
}

describe('the presence sweep, a page at a time', () => {
  test('one event per changed agent, in each workspace in order; nothing for the others; one note each', async () => {
    const { spaces, seeded } = await seed()
    const ours = new Set(seeded.map((s) => s.id))
    const before = await latestEventId(deps)
    const sockets = await Promise.all(spaces.map((ws) => live.socket(`?token=${ws.key}`)))
    for (const s of sockets) await s.ready()
    const notes: PresenceChangedNote[] = []
    const off = deps.bus.subscribe('presence.changed', (n) => {
      if (ours.has(n.agentId)) notes.push(n)
    })
    // Routing has one of them cached as online: the note must correct it.
    const cachedOne = seeded.find((s) => s.expect === 'online→offline:no_signal')!
    expect((await deps.routes.agent(cachedOne.id))?.presence).toBe('online')

    // A page of 5 over 36 agents (4 of them not read): several pages, each mixing workspaces.
    const changed = await sweepPresence(deps, { pageSize: 5 })
    off()
    const changes = seeded.filter((s) => s.expect !== null)
    expect(changed).toBeGreaterThanOrEqual(changes.length)

    for (const [i, ws] of spaces.entries()) {
      const want = expectedStream(seeded, ws.id)
      expect(want).toHaveLength(12)
      const frames = await sockets[i]!.eventsMatching(
        (e) => e.type === 'agent.status_changed' && ours.has(e.data.agentId),
        want.length,
      )
      const seen = (list: typeof frames) =>
        list.map((e) => `${e.data.agentId} ${e.data.from}→${e.data.to}:${e.data.reason}`)
      expect(seen(frames)).toEqual(want)
      // The same from a replay (`?since=`), with ids that only grow, and the data's shape as ever.
      const replay = await live.socket(`?token=${ws.key}&since=${before}`)
      const replayed = await replay.eventsMatching(
        (e) => e.type === 'agent.status_changed' && ours.has(e.data.agentId),
        want.length,
      )
      expect(seen(replayed)).toEqual(want)
      expect(replayed.map((e) => e.id)).toEqual(frames.map((e) => e.id))
      const ids = replayed.map((e) => e.id as number)
      expect(ids).toEqual([...ids].sort((a, b) => a - b))
      for (const e of replayed) {
        const s = seeded.find((x) => x.id === e.data.agentId)!
        const [from, rest] = s.expect!.split('→') as [string, string]
        const [to, reason] = rest.split(':')
        expect(e.data).toEqual({ agentId: s.id, permanentId: s.permanentId, from, to, reason })
      }
      await replay.close()
      await sockets[i]!.close()
    }

    // Presence in the database: the changed ones moved, the others did not.
    const rows = await deps.db.orm
      .select({ id: agents.id, presence: agents.presence })
      .from(agents)
      .where(inArray(agents.id, [...ours]))
    const now = new Map(rows.map((r) => [r.id, r.presence]))
    for (const s of seeded)
      expect(now.get(s.id)).toBe(s.expect ? (s.expect.split(/[→:]/)[1] as Presence) : s.was)
    // Nothing at all for the unchanged ones, in either workspace.
    const unchanged = seeded.filter((s) => s.expect === null).map((s) => s.id)
    const stray = await deps.db.orm
      .select({ id: events.id })
      .from(events)
      .where(inArray(events.agentId, unchanged))
    expect(stray.filter((e) => e.id > before)).toEqual([])

    // One presence note per changed agent, naming its new presence.
    const key = (n: { agentId: string; presence: string }) => `${n.agentId} ${n.presence}`
    expect(notes.map(key).sort()).toEqual(
      changes.map((s) => key({ agentId: s.id, presence: s.expect!.split(/[→:]/)[1]! })).sort(),
    )
    expect((await deps.routes.agent(cachedOne.id))?.presence).toBe('offline')

    // The agent with a webhook has its change in the outbox, under that event's id.
    const hooked = seeded[0]!
    const [event] = await deps.db.orm
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.agentId, hooked.id), eq(events.type, 'agent.status_changed')))
    const queued = await deps.db.orm
      .select({ eventId: webhookDeliveries.eventId, eventType: webhookDeliveries.eventType })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.agentId, hooked.id))
    expect(queued.filter((d) => d.eventType === 'agent.status_changed')).toEqual([
      { eventId: event!.id, eventType: 'agent.status_changed' },
    ])

    // A second sweep finds nothing more to do for them.
    const again: PresenceChangedNote[] = []
    const off2 = deps.bus.subscribe('presence.changed', (n) => {
      if (ours.has(n.agentId)) again.push(n)
    })
    await sweepPresence(deps, { pageSize: 5 })
    off2()
    expect(again).toEqual([])
  })
})
