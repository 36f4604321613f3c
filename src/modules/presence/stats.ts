import { and, count, eq } from 'drizzle-orm'
import type { Presence } from '../../db/schema/types'
import type { Deps } from '../../deps'

export const PRESENCES: readonly Presence[] = ['online', 'idle', 'offline']

/** Active, unarchived agents by presence across the database (every instance reports the same). */
export async function countAgentsByPresence(deps: Pick<Deps, 'db'>): Promise<Record<Presence, number>> {
  const { agents: a } = deps.db.t
  const rows = await deps.db.orm
    .select({ presence: a.presence, n: count() })
    .from(a)
    .where(and(eq(a.status, 'active'), eq(a.archived, false)))
    .groupBy(a.presence)
  const out = { online: 0, idle: 0, offline: 0 }
  for (const r of rows) out[r.presence] = Number(r.n)
  return out
}
