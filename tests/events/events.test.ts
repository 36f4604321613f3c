import { describe, expect, test } from 'bun:test'
import { and, asc, eq } from 'drizzle-orm'
import { appendEvent } from '../../src/modules/events/append'
import { sweepEventRetention } from '../../src/modules/events/retention'
import { TestClock } from '../helpers'
import { liveServer } from '../ws/live'

const clock = new TestClock()
const live = await liveServer(
  { SWITCHBOARD_EVENTS_RETENTION_HOURS: '1', SWITCHBOARD_EVENTS_MAX_PER_WORKSPACE: '100' },
  { clock },
)
const { deps } = live

async function append(workspaceId: string, n: number) {
  for (let i = 0; i < n; i++) {
    await deps.db.tx((tx) => appendEvent(deps, tx, { workspaceId, type: 'agent.updated', data: { i } }))
  }
}
async function idsOf(workspaceId: string) {
  const e = deps.db.t.events
  const rows = await deps.db.orm
    .select({ id: e.id })
    .from(e)
    .where(eq(e.workspaceId, workspaceId))
    .orderBy(asc(e.id))
  return rows.map((r) => r.id)
}

describe('agent.updated', () => {
  test('a PATCH that changes something is one event naming the fields, never a value', async () => {
    const ws = await live.workspace()
    const a = await live.agent(ws.key)
    const s = await live.socket(`?token=${ws.key}`)
    await s.ready()
    await live.call('PATCH', `/api/agents/${a.id}`, {
      token: ws.key,
      body: { description: 'new', endpointCredential: 'secret-cred-123', status: 'inactive' },
    })
    await live.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: {} })
    await live.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { archived: true } })
    const events = await s.eventsMatching((e) => e.type === 'agent.updated', 2)
    expect(events.map((e) => e.data)).toEqual([
      {
        agentId: a.id,
        permanentId: a.permanentId,
        fields: ['description', 'endpointCredential', 'status'],
        status: 'inactive',
        archived: false,
      },
      { agentId: a.id, permanentId: a.permanentId, fields: ['archived'], status: 'inactive', archived: true },
    ])
    expect(JSON.stringify(s.frames)).not.toContain('secret-cred-123')
    await s.close()
  })
})

describe('retention', () => {
  test('rows per workspace: the newest are kept, per workspace', async () => {
    const A = await live.workspace()
    const B = await live.workspace()
    const C = await live.workspace()
    await append(A.id, 130)
    await append(B.id, 20)
    await append(C.id, 100)
    const before = await idsOf(A.id)
    const whole = await idsOf(C.id)
    expect(await sweepEventRetention(deps)).toEqual({ byAge: 0, byCount: 30 })
    expect(await idsOf(A.id)).toEqual(before.slice(30))
    expect(await idsOf(B.id)).toHaveLength(20)
    // Exactly at the limit: nothing of it goes.
    expect(await idsOf(C.id)).toEqual(whole)
    // The events of a workspace that no longer exists are trimmed too: they are found in the
    // events, not in the workspaces table.
    const gone = crypto.randomUUID()
    await append(gone, 105)
    const orphans = await idsOf(gone)
    expect(await sweepEventRetention(deps)).toEqual({ byAge: 0, byCount: 5 })
    expect(await idsOf(gone)).toEqual(orphans.slice(5))
  })

  test('hours: older events end; the cursor keeps growing; a resume from before gets what is kept', async () => {
    const W = await live.workspace()
    await append(W.id, 5)
    const old = await idsOf(W.id)
    clock.advance(3_600_001)
    await append(W.id, 3)
    await sweepEventRetention(deps)
    const kept = await idsOf(W.id)
    expect(kept).toHaveLength(3)
    expect(Math.min(...kept)).toBeGreaterThan(Math.max(...old))
    const s = await live.socket(`?token=${W.key}&since=0`)
    await s.eventsMatching(() => true, 3)
    expect(s.events.map((e) => e.id)).toEqual(kept)
    await append(W.id, 1)
    const [latest] = (await idsOf(W.id)).slice(-1)
    await s.until((e) => e.id === latest)
    expect(latest).toBeGreaterThan(Math.max(...kept))
    await s.close()
  })

  test('each event type of the contract is stored and streamed with {id, type, at, data}', async () => {
    const W = await live.workspace()
    const s = await live.socket(`?token=${W.key}`)
    await s.ready()
    const { EVENT_TYPES } = await import('../../src/modules/events/append')
    for (const type of EVENT_TYPES) {
      await deps.db.tx((tx) => appendEvent(deps, tx, { workspaceId: W.id, type, data: { type } }))
    }
    const got = await s.eventsMatching(() => true, EVENT_TYPES.length)
    expect(got.map((e) => e.type)).toEqual([...EVENT_TYPES])
    for (const f of got) expect(Object.keys(f).sort()).toEqual(['at', 'data', 'id', 'type'])
    const e = deps.db.t.events
    const stored = await deps.db.orm
      .select()
      .from(e)
      .where(and(eq(e.workspaceId, W.id)))
    expect(stored).toHaveLength(EVENT_TYPES.length)
    await s.close()
  })
})
