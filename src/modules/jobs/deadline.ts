import { and, eq, lte } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { yieldToLoop } from '../../lib/schedule/yield'
import { finishJob } from './lifecycle'

const BATCH = 500

/**
 * Fails every running job past its deadline. Safe to run on several instances at once:
 * each job is made final by a conditional update that only one of them wins.
 */
export async function sweepJobDeadlines(deps: Deps): Promise<number> {
  const { jobs: j } = deps.db.t
  let failed = 0
  for (;;) {
    const now = deps.clock.now()
    const due = await deps.db.orm
      .select({ id: j.id, deadlineAt: j.deadlineAt })
      .from(j)
      .where(and(eq(j.status, 'running'), lte(j.deadlineAt, now)))
      .limit(BATCH)
    for (const job of due) {
      const done = await finishJob(deps, job.id, {
        status: 'failed',
        error: `No outcome was reported before the job's deadline (${job.deadlineAt.toISOString()})`,
      })
      if (done) failed++
    }
    if (due.length < BATCH) return failed
    await yieldToLoop()
  }
}
