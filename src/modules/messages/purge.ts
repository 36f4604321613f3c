import { inArray, lte } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { yieldToLoop } from '../../lib/schedule/yield'
import { releaseHeld } from './held'

const CHUNK = 5000

/**
 * Deletes expired messages, then their payloads (which expire with them), a chunk per
 * transaction so the SQLite writer is never held for long; each chunk gives its workspaces
 * back what they held. An event that carried an expired payload reads `payload: null`.
 */
export async function purgeExpiredMessages(deps: Deps): Promise<number> {
  const { messages: m, payloads: p } = deps.db.t
  let total = 0
  for (;;) {
    const now = deps.clock.now()
    const n = await deps.db.tx(async (tx) => {
      const rows = await tx
        .select({ id: m.id, workspaceId: m.workspaceId })
        .from(m)
        .where(lte(m.expiresAt, now))
        .limit(CHUNK)
      if (rows.length === 0) return 0
      await tx.delete(m).where(
        inArray(
          m.id,
          rows.map((r) => r.id),
        ),
      )
      for (const [workspaceId, messages] of tally(rows, () => 1))
        await releaseHeld(deps, tx, workspaceId, { messages })
      return rows.length
    })
    total += n
    if (n < CHUNK) break
    await yieldToLoop()
  }
  for (;;) {
    const now = deps.clock.now()
    const n = await deps.db.tx(async (tx) => {
      const rows = await tx
        .select({ id: p.id, workspaceId: p.workspaceId, bytes: p.bytes })
        .from(p)
        .where(lte(p.expiresAt, now))
        .limit(CHUNK)
      if (rows.length === 0) return 0
      await tx.delete(p).where(
        inArray(
          p.id,
          rows.map((r) => r.id),
        ),
      )
      for (const [workspaceId, bytes] of tally(rows, (r) => r.bytes))
        await releaseHeld(deps, tx, workspaceId, { bytes })
      return rows.length
    })
    if (n < CHUNK) break
    await yieldToLoop()
  }
  if (total > 0) deps.log.info('expired messages purged', { count: total })
  return total
}

function tally<R extends { workspaceId: string }>(rows: R[], weight: (r: R) => number) {
  const by = new Map<string, number>()
  for (const r of rows) by.set(r.workspaceId, (by.get(r.workspaceId) ?? 0) + weight(r))
  return by
}
