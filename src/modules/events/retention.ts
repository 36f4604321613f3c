import { and, count, desc, eq, gt, inArray, lt, lte } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { yieldToLoop } from '../../lib/schedule/yield'

const CHUNK = 5000

/**
 * Ends events past their retention: older than `eventHours`, or beyond the newest
 * `eventsPerWorkspace` of their workspace. Deletes in chunks of auto-committed statements
 * so the SQLite writer is never held for long, yielding to requests between chunks. A client
 * resuming from a cursor older than what is kept gets what is kept.
 */
export async function sweepEventRetention(deps: Deps): Promise<{ byAge: number; byCount: number }> {
  const e = deps.db.t.events
  const cutoff = new Date(deps.clock.now().getTime() - deps.config.retention.eventHours * 3_600_000)
  const byAge = await deleteInChunks(deps, (tx) =>
    // In time order, which the index on created_at gives: in id order SQLite scanned every
    // event to find none were due (270 ms on 1,000,000 events).
    tx.select({ id: e.id }).from(e).where(lt(e.createdAt, cutoff)).orderBy(e.createdAt).limit(CHUNK),
  )
  const max = deps.config.retention.eventsPerWorkspace
  const crowded = await deps.db.orm
    .select({ workspaceId: e.workspaceId, n: count() })
    .from(e)
    .groupBy(e.workspaceId)
    .having(({ n }) => gt(n, max))
  let byCount = 0
  for (const w of crowded) {
    const [edge] = await deps.db.orm
      .select({ id: e.id })
      .from(e)
      .where(eq(e.workspaceId, w.workspaceId))
      .orderBy(desc(e.id))
      .limit(1)
      .offset(max)
    if (!edge) continue
    byCount += await deleteInChunks(deps, (tx) =>
      tx
        .select({ id: e.id })
        .from(e)
        .where(and(eq(e.workspaceId, w.workspaceId), lte(e.id, edge.id)))
        .orderBy(e.id)
        .limit(CHUNK),
    )
  }
  if (byAge + byCount > 0) deps.log.info('events retention', { byAge, byCount })
  return { byAge, byCount }
}

async function deleteInChunks(
  deps: Deps,
  pick: (orm: Deps['db']['orm']) => Promise<{ id: number }[]>,
): Promise<number> {
  const e = deps.db.t.events
  let total = 0
  for (;;) {
    const n = await deps.db.tx(async (tx) => {
      const ids = (await pick(tx)).map((r) => r.id)
      if (ids.length > 0) await tx.delete(e).where(inArray(e.id, ids))
      return ids.length
    })
    total += n
    if (n < CHUNK) return total
    // On SQLite every statement is synchronous: requests get their turn between chunks.
    await yieldToLoop()
  }
}
