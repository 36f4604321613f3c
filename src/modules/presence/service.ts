import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Presence } from '../../db/schema/types'
import { lockInIdOrder } from '../../db/touch'
import type { Ctx, Deps } from '../../deps'
import { unauthorized } from '../../lib/errors'
import { yieldToLoop } from '../../lib/schedule/yield'
import { type AgentRow, assertSelf } from '../agents/lookup'
import { appendEvents } from '../events/append'
import type { AgentActor } from '../tokens/actor'
import { decidePresence, type PresenceReason, type PresenceSignals } from './rules'
import { PRESENCES } from './stats'

export type PresenceChange = { from: Presence; to: Presence; reason: PresenceReason }

/**
 * The single place presence changes. Writes the signal's columns (locking the row, so
 * concurrent signals for one agent are decided one after the other), decides presence
 * from the row as it now stands, and records a change only when there is one.
 */
export async function applySignal(
  deps: Deps,
  tx: Orm,
  agentId: string,
  signal: Partial<AgentRow>,
): Promise<{ row: AgentRow; change: PresenceChange | null } | null> {
  const { agents } = deps.db.t
  const set = Object.keys(signal).length > 0 ? signal : { presence: sql`${agents.presence}` }
  const [row] = await tx
    .update(agents)
    .set(set as Partial<AgentRow>)
    .where(eq(agents.id, agentId))
    .returning()
  if (!row) return null
  const [settled] = await settleRows(deps, tx, [row])
  const change = settled?.change ?? null
  return { row: change ? { ...row, presence: change.to } : row, change }
}

/** What `settleRows` reads of a row a signal was just written to. */
export type SignalledRow = PresenceSignals & {
  id: string
  workspaceId: string
  permanentId: string
  presence: Presence
}

/**
 * A heartbeat that changes nothing but the time is noted in memory and written within a
 * second (see heartbeats.ts); any other is written at once, and only when that changes
 * presence does a transaction re-decide it under the row lock (where a concurrent signal
 * for the same agent is seen) and record the change.
 */
export async function heartbeat({
  ctx,
  input,
}: {
  ctx: Ctx<AgentActor>
  input: { agentId: string; status: Presence }
}) {
  const { deps, actor } = ctx
  assertSelf(actor, input.agentId)
  const now = deps.clock.now()
  let presence = deps.heartbeats.coalesce(actor.agentId, input.status, now)
  if (presence === null) {
    const row = await deps.heartbeats.write(actor.agentId, input.status, now)
    // The token resolved a moment ago but the agent is gone: it was deleted in between.
    if (!row) throw unauthorized()
    presence = row.presence
    if (decidePresence(row, now, deps.presencePolicy).presence !== row.presence) {
      const applied = await deps.db.tx((tx) => applySignal(deps, tx, actor.agentId, {}))
      if (applied) presence = applied.row.presence
    }
    deps.heartbeats.remember(actor.agentId, input.status, presence)
  }
  return {
    agentId: actor.agentId,
    permanentId: actor.permanentId,
    status: input.status,
    presence,
    isOnline: presence === 'online',
    lastHeartbeatAt: now.toISOString(),
    onlineWindowSeconds: Math.round(deps.presencePolicy.onlineWindowMs / 1000),
  }
}

/** Agents re-decided a page at a time, and the changes of a page written in one transaction. */
const SWEEP_PAGE = 200

/**
 * Re-decides every agent not already offline; windows that lapsed without a signal end here.
 * After a restart or an outage this can be most of the agents (30,000 of 100,000 measured by
 * `npm run bench:scale`): they are read a page at a time by id, with only the columns presence
 * is decided from, each page's changes are written set-based in one transaction
 * (`settlePage`), and the sweep yields to the event loop between pages. On SQLite every query
 * is synchronous, so a sweep that never yielded held off every request until it ended (a
 * heartbeat waited the whole 7 s).
 */
export async function sweepPresence(deps: Deps, o: { pageSize?: number } = {}): Promise<number> {
  const pageSize = o.pageSize ?? SWEEP_PAGE
  // Heartbeat times noted in memory count: write them before deciding.
  await deps.heartbeats.flush()
  const { agents } = deps.db.t
  let changed = 0
  // By presence, so the index (presence, id) reads only the agents a sweep can change.
  for (const current of ['online', 'idle'] as const) {
    let after: string | null = null
    for (;;) {
      const page: Array<PresenceSignals & { id: string; presence: Presence }> = await deps.db.orm
        .select({ id: agents.id, presence: agents.presence, ...signalColumns(deps) })
        .from(agents)
        .where(and(eq(agents.presence, current), after === null ? undefined : gt(agents.id, after)))
        .orderBy(asc(agents.id))
        .limit(pageSize)
      if (page.length === 0) break
      after = page[page.length - 1]!.id
      const now = deps.clock.now()
      const due = page
        .filter((row) => decidePresence(row, now, deps.presencePolicy).presence !== row.presence)
        .map((row) => row.id)
      if (due.length > 0) changed += await deps.db.tx((tx) => settlePage(deps, tx, due))
      await yieldToLoop()
      if (page.length < pageSize) break
    }
  }
  return changed
}

/**
 * The changes of one page, set-based: the due agents locked (Postgres; on SQLite the write
 * transaction already excludes every other writer) and read again, each re-decided from its
 * row as it now stands — a heartbeat that landed since the page was read wins — then one
 * UPDATE per presence they move to, their events in one INSERT, and one note per agent after
 * commit. The same changes, events and notes as `applySignal` for each, in id order.
 */
async function settlePage(deps: Deps, tx: Orm, ids: string[]): Promise<number> {
  const { agents } = deps.db.t
  // In id order, as writeTimes locks its batches, so the two never deadlock each other.
  await lockInIdOrder(deps.db, tx, agents, ids)
  const rows = await tx
    .select({
      id: agents.id,
      workspaceId: agents.workspaceId,
      permanentId: agents.permanentId,
      presence: agents.presence,
      ...signalColumns(deps),
    })
    .from(agents)
    .where(inArray(agents.id, ids))
    .orderBy(asc(agents.id))
  return (await settleRows(deps, tx, rows)).length
}

/**
 * Rows whose signals were just written (and are locked by this transaction), settled
 * set-based: each re-decided, then one UPDATE per presence they move to, their events in one
 * INSERT, and one note per agent after commit — the changes, events and notes `applySignal`
 * gives each, in the order given. Used by `applySignal`, the presence sweep, a group of health checks and the socket refresh.
 */
export async function settleRows(
  deps: Deps,
  tx: Orm,
  rows: readonly SignalledRow[],
): Promise<Array<{ row: SignalledRow; change: PresenceChange }>> {
  const { agents } = deps.db.t
  const now = deps.clock.now()
  const changes = rows.flatMap((row) => {
    const decided = decidePresence(row, now, deps.presencePolicy)
    if (decided.presence === row.presence) return []
    return [{ row, change: { from: row.presence, to: decided.presence, reason: decided.reason } }]
  })
  if (changes.length === 0) return changes
  if (deps.db.dialect === 'sqlite') {
    // One prepared UPDATE a row: SQLite runs `where id in (…)` in two passes (the rowids
    // collected first), 26 µs an agent against 13 for the same rows one by one.
    const setPresence = presenceUpdate(deps)
    for (const { row, change } of changes) await setPresence(tx, { id: row.id, presence: change.to })
  } else {
    // Postgres: one statement per presence moved to (one round trip each).
    for (const to of PRESENCES) {
      const moving = changes.filter((c) => c.change.to === to).map((c) => c.row.id)
      if (moving.length > 0) await tx.update(agents).set({ presence: to }).where(inArray(agents.id, moving))
    }
  }
  await appendEvents(
    deps,
    tx,
    changes.map(({ row, change }) => ({
      workspaceId: row.workspaceId,
      type: 'agent.status_changed' as const,
      agentId: row.id,
      data: { agentId: row.id, permanentId: row.permanentId, ...change },
    })),
  )
  // Routing decisions (fallback when offline) read presence from a cache: refresh it.
  deps.db.onCommit(() => {
    for (const { row, change } of changes)
      deps.bus.publish('presence.changed', { agentId: row.id, presence: change.to })
  })
  return changes
}

const presenceUpdates = new WeakMap<
  Deps['db'],
  (tx: Orm, p: { id: string; presence: Presence }) => Promise<unknown>
>()
function presenceUpdate(deps: Deps) {
  let q = presenceUpdates.get(deps.db)
  if (!q) {
    const { agents } = deps.db.t
    q = deps.db.preparedTx('agent_presence_set', (orm) =>
      orm
        .update(agents)
        .set({ presence: sql.placeholder('presence') as never })
        .where(eq(agents.id, sql.placeholder('id'))),
    )
    presenceUpdates.set(deps.db, q)
  }
  return q
}

/** What presence is decided from (`PresenceSignals`), as columns to select. */
export const signalColumns = (deps: Deps) => {
  const { agents } = deps.db.t
  return {
    reportedStatus: agents.reportedStatus,
    lastHeartbeatAt: agents.lastHeartbeatAt,
    socketSeenAt: agents.socketSeenAt,
    lastHealthOkAt: agents.lastHealthOkAt,
    lastHealthCheckAt: agents.lastHealthCheckAt,
  }
}
