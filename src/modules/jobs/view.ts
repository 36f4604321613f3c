import type { Row } from '../../db/schema'
import { parseTraceparent } from '../../lib/trace/context'
import type { JobRow } from './lifecycle'

type Delivery = Row<'webhookDeliveries'>
type Attempt = Row<'webhookAttempts'>

const iso = (d: Date | null) => d?.toISOString() ?? null

/** The callback as a job shows it; its URL only to the caller's side, whose URL it is. */
export function deliveryView(d: Delivery, side: 'caller' | 'target', attempts?: Attempt[]) {
  return {
    id: d.id,
    webhookId: d.messageId,
    eventType: d.eventType,
    url: side === 'caller' ? d.url : null,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    lastAttemptAt: iso(d.lastAttemptAt),
    lastHttpStatus: d.lastHttpStatus,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    finishedAt: iso(d.finishedAt),
    ...(attempts
      ? {
          attemptLog: attempts.map((a) => ({
            attempt: a.attempt,
            at: a.at.toISOString(),
            httpStatus: a.httpStatus,
            error: a.error,
            durationMs: a.durationMs,
          })),
        }
      : {}),
  }
}

export function jobView(row: JobRow, callback: ReturnType<typeof deliveryView> | null) {
  return {
    id: row.id,
    jobId: row.id,
    status: row.status,
    connectionId: row.connectionId,
    workspaceId: row.workspaceId,
    targetWorkspaceId: row.targetWorkspaceId,
    callerAgentId: row.callerAgentId,
    triggerId: row.triggerId,
    targetAgentId: row.targetAgentId,
    handledByAgentId: row.handledByAgentId,
    httpStatus: row.httpStatus,
    result: row.result ?? null,
    error: row.error,
    deadlineAt: row.deadlineAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: iso(row.completedAt),
    traceId: parseTraceparent(row.traceparent)?.traceId ?? null,
    callback,
  }
}
