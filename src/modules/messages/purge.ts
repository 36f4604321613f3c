import { inArray, lte } from 'drizzle-orm'
import type { Deps } from '../../deps'

const CHUNK = 5000

/** Deletes expired messages, a chunk per statement so the SQLite writer is never held for long. */
export async function purgeExpiredMessages(deps: Deps): Promise<number> {
  const { messages: m } = deps.db.t
  let total = 0
  for (;;) {
    const now = deps.clock.now()
    const n = await deps.db.tx(async (tx) => {
      const ids = (await tx.select({ id: m.id }).from(m).where(lte(m.expiresAt, now)).limit(CHUNK)).map(
        (r) => r.id,
      )
      if (ids.length > 0) await tx.delete(m).where(inArray(m.id, ids))
      return ids.length
    })
    total += n
    if (n < CHUNK) break
  }
  if (total > 0) deps.log.info('expired messages purged', { count: total })
  return total
}
