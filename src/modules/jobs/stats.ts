import { count } from 'drizzle-orm'
import type { Deps } from '../../deps'
import type { JobRow } from './lifecycle'

export const JOB_STATUSES: readonly JobRow['status'][] = ['running', 'completed', 'failed']

/** Jobs by status across the database (every instance reports the same numbers). */
export async function countJobsByStatus(deps: Pick<Deps, 'db'>): Promise<Record<JobRow['status'], number>> {
  const { jobs: j } = deps.db.t
  const rows = await deps.db.orm.select({ status: j.status, n: count() }).from(j).groupBy(j.status)
  const out = { running: 0, completed: 0, failed: 0 }
  for (const r of rows) out[r.status] = Number(r.n)
  return out
}
