import { and, eq, sql } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { JsonValue } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { newId } from '../../lib/ids'
import { enqueueCallback } from '../callbacks/enqueue'
import { appendEvent, type EventType } from '../events/append'

export type JobRow = Row<'jobs'>

export const pollPath = (jobId: string) => `/api/jobs/${jobId}`

/** A job event goes to each workspace involved: one row each, as connection events do. */
async function jobEvent(deps: Deps, tx: Orm, row: JobRow, type: EventType) {
  const data = {
    jobId: row.id,
    status: row.status,
    connectionId: row.connectionId,
    callerAgentId: row.callerAgentId,
    triggerId: row.triggerId,
    targetAgentId: row.targetAgentId,
    handledByAgentId: row.handledByAgentId,
    httpStatus: row.httpStatus,
  }
  for (const workspaceId of new Set([row.workspaceId, row.targetWorkspaceId])) {
    await appendEvent(deps, tx, {
      workspaceId,
      type,
      agentId: row.callerAgentId,
      peerAgentId: row.targetAgentId,
      data,
    })
  }
}

export type NewJob = {
  workspaceId: string
  targetWorkspaceId: string
  /** The connection it was called over; null for a trigger's job. */
  connectionId: string | null
  /** The agent that called; null for a trigger's job (`triggerId` says which). */
  callerAgentId: string | null
  triggerId: string | null
  targetAgentId: string
  handledByAgentId: string
  callbackUrl: string | null
  /** The creating request's trace context (its span is the parent of the delivery and the callback). */
  traceparent: string | null
  tracestate: string | null
}

/**
 * The job row, `running`, and its `job.created` event, in one transaction. `alongside` runs
 * first in that transaction (a trigger records its call there): if it throws, nothing is written.
 */
export async function createJob(
  deps: Deps,
  input: NewJob,
  alongside?: (tx: Orm, job: JobRow) => Promise<void>,
): Promise<JobRow> {
  const now = deps.clock.now()
  const row: JobRow = {
    id: newId(),
    ...input,
    status: 'running',
    httpStatus: null,
    result: null,
    error: null,
    deadlineAt: new Date(now.getTime() + deps.config.jobDeadlineMs),
    createdAt: now,
    updatedAt: now,
    completedAt: null,
  }
  await deps.db.tx(async (tx) => {
    await alongside?.(tx, row)
    await tx.insert(deps.db.t.jobs).values(row)
    await jobEvent(deps, tx, row, 'job.created')
  })
  return row
}

export type Outcome = {
  status: 'completed' | 'failed'
  result?: JsonValue | undefined
  error?: string | null | undefined
  /** Left as it is when not given (a report from the agent has no HTTP status of its own). */
  httpStatus?: number | null | undefined
}

/** The callback body: the job's final state, Standard Webhooks style `{type, timestamp, data}`. */
export function callbackPayload(row: JobRow): JsonValue {
  return {
    type: `job.${row.status}`,
    timestamp: (row.completedAt ?? row.updatedAt).toISOString(),
    data: {
      jobId: row.id,
      status: row.status,
      result: row.result,
      error: row.error,
      httpStatus: row.httpStatus,
      connectionId: row.connectionId,
      callerAgentId: row.callerAgentId,
      triggerId: row.triggerId,
      targetAgentId: row.targetAgentId,
      handledByAgentId: row.handledByAgentId,
      createdAt: row.createdAt.toISOString(),
      completedAt: row.completedAt?.toISOString() ?? null,
    },
  }
}

/**
 * Makes a running job final, once: the conditional update lets exactly one of a delivery
 * outcome, a report and the deadline sweep win; the others get null. In the same
 * transaction: the handling agent's task count (on completion), the event, and the callback
 * in the outbox, so none of them can exist without the others.
 */
export async function finishJob(deps: Deps, jobId: string, outcome: Outcome): Promise<JobRow | null> {
  const { jobs: j, agents: a } = deps.db.t
  const now = deps.clock.now()
  return deps.db.tx(async (tx) => {
    const [row] = await tx
      .update(j)
      .set({
        status: outcome.status,
        result: outcome.result ?? null,
        error: outcome.error ?? null,
        ...(outcome.httpStatus !== undefined ? { httpStatus: outcome.httpStatus } : {}),
        updatedAt: now,
        completedAt: now,
      })
      .where(and(eq(j.id, jobId), eq(j.status, 'running')))
      .returning()
    if (!row) return null
    if (row.status === 'completed') {
      await tx
        .update(a)
        .set({ taskCount: sql`${a.taskCount} + 1` })
        .where(eq(a.id, row.handledByAgentId))
    }
    await jobEvent(deps, tx, row, row.status === 'completed' ? 'job.completed' : 'job.failed')
    if (row.callbackUrl) {
      await enqueueCallback(deps, tx, {
        workspaceId: row.workspaceId,
        jobId: row.id,
        eventType: `job.${row.status}`,
        url: row.callbackUrl,
        payload: callbackPayload(row),
        traceparent: row.traceparent,
        tracestate: row.tracestate,
      })
    }
    return row
  })
}

/** The agent took the job (202): it stays running until reported; its answer's status is noted. */
export async function noteAccepted(deps: Deps, jobId: string, httpStatus: number) {
  const { jobs: j } = deps.db.t
  await deps.db.write(() =>
    deps.db.orm
      .update(j)
      .set({ httpStatus, updatedAt: deps.clock.now() })
      .where(and(eq(j.id, jobId), eq(j.status, 'running'))),
  )
}
