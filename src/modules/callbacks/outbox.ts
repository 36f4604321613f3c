import { and, asc, count, eq, inArray, isNull, lte, min, or, sql } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { JsonValue } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { newId } from '../../lib/ids'
import { afterAttempt } from './schedule'

export type Delivery = Row<'webhookDeliveries'>
export type NewCallback = {
  workspaceId: string
  jobId: string
  eventType: string
  url: string
  payload: JsonValue
  /** The trace the callback joins (its job's); null: a trace of its own. */
  traceparent: string | null
  tracestate: string | null
}

/** The webhook-id receivers deduplicate on: one per job, the same on every attempt. */
export const messageIdFor = (jobId: string) => `msg_${jobId}`

/**
 * Writes a callback into the outbox in the caller's transaction — the one that makes the job
 * final — so a committed final state always has its callback, and a rolled-back one never.
 */
export async function insertCallback(deps: Pick<Deps, 'db' | 'clock'>, tx: Orm, cb: NewCallback) {
  const now = deps.clock.now()
  await tx.insert(deps.db.t.webhookDeliveries).values({
    id: newId(),
    workspaceId: cb.workspaceId,
    jobId: cb.jobId,
    messageId: messageIdFor(cb.jobId),
    eventType: cb.eventType,
    url: cb.url,
    payload: cb.payload,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    lockedUntil: null,
    lastAttemptAt: null,
    lastHttpStatus: null,
    lastError: null,
    traceparent: cb.traceparent,
    tracestate: cb.tracestate,
    createdAt: now,
    finishedAt: null,
  })
}

const dueNow = (d: Deps['db']['t']['webhookDeliveries'], now: Date) =>
  and(eq(d.status, 'pending'), lte(d.nextAttemptAt, now), or(isNull(d.lockedUntil), lte(d.lockedUntil, now)))

/**
 * Claims up to `limit` due deliveries for this instance: one UPDATE takes a lease
 * (`lockedUntil`) and counts the attempt. The due condition is repeated on the outer UPDATE,
 * which Postgres re-checks on the locked row, so when two instances race only one gets a row;
 * a claim whose instance died expires with its lease and is taken again (as the next attempt).
 */
export async function claimDue(
  deps: Pick<Deps, 'db' | 'clock'>,
  opts: { limit: number; leaseMs: number },
): Promise<Delivery[]> {
  const { db } = deps
  const d = db.t.webhookDeliveries
  const now = deps.clock.now()
  const due = db.orm
    .select({ id: d.id })
    .from(d)
    .where(dueNow(d, now))
    .orderBy(asc(d.nextAttemptAt))
    .limit(opts.limit)
  return db.write(() =>
    db.orm
      .update(d)
      .set({
        lockedUntil: new Date(now.getTime() + opts.leaseMs),
        attempts: sql`${d.attempts} + 1`,
        lastAttemptAt: now,
      })
      .where(and(inArray(d.id, due), dueNow(d, now)))
      .returning(),
  )
}

/** When the next unclaimed delivery falls due (null: none pending), for the worker's timer. */
export async function nextDueAt(deps: Pick<Deps, 'db' | 'clock'>): Promise<Date | null> {
  const d = deps.db.t.webhookDeliveries
  const now = deps.clock.now()
  const [row] = await deps.db.orm
    .select({ at: d.nextAttemptAt })
    .from(d)
    .where(and(eq(d.status, 'pending'), or(isNull(d.lockedUntil), lte(d.lockedUntil, now))))
    .orderBy(asc(d.nextAttemptAt))
    .limit(1)
  return row?.at ?? null
}

export type AttemptResult = { at: Date; httpStatus: number | null; error: string | null; durationMs: number }

/**
 * Records one attempt and decides what comes next (delivered, gone, retry later, failed).
 * Written only while this instance still holds the claim (same attempt number): if its lease
 * ran out and another instance took the row, that instance's outcome is the one that counts.
 */
export async function recordAttempt(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  claimed: Delivery,
  result: AttemptResult,
): Promise<Delivery['status']> {
  const d = deps.db.t.webhookDeliveries
  const next = afterAttempt(claimed.attempts, result, { scale: deps.config.callbackRetryScale })
  const now = deps.clock.now()
  await deps.db.tx(async (tx) => {
    await tx
      .update(d)
      .set({
        status: next.status,
        lockedUntil: null,
        nextAttemptAt: next.retryInMs === null ? null : new Date(now.getTime() + next.retryInMs),
        lastHttpStatus: result.httpStatus,
        lastError: result.error,
        finishedAt: next.status === 'pending' ? null : now,
      })
      .where(and(eq(d.id, claimed.id), eq(d.attempts, claimed.attempts), eq(d.status, 'pending')))
    await tx.insert(deps.db.t.webhookAttempts).values({
      id: newId(),
      deliveryId: claimed.id,
      attempt: claimed.attempts,
      at: result.at,
      httpStatus: result.httpStatus,
      error: result.error,
      durationMs: result.durationMs,
    })
  })
  return next.status
}

/**
 * Hands a claim back untried (this instance is shutting down mid-send): the attempt is not
 * counted and the row is due again at once, for this instance after a restart or another one.
 */
export async function releaseClaim(deps: Pick<Deps, 'db'>, claimed: Delivery) {
  const d = deps.db.t.webhookDeliveries
  await deps.db.write(() =>
    deps.db.orm
      .update(d)
      .set({ lockedUntil: null, attempts: claimed.attempts - 1 })
      .where(and(eq(d.id, claimed.id), eq(d.attempts, claimed.attempts), eq(d.status, 'pending'))),
  )
}

/** A job's callback delivery and its attempts, for the job view. */
export async function deliveriesOf(deps: Pick<Deps, 'db'>, jobIds: string[]) {
  if (jobIds.length === 0) return []
  const d = deps.db.t.webhookDeliveries
  return deps.db.orm.select().from(d).where(inArray(d.jobId, jobIds))
}

export async function attemptsOf(deps: Pick<Deps, 'db'>, deliveryId: string, limit = 100) {
  const a = deps.db.t.webhookAttempts
  return deps.db.orm
    .select()
    .from(a)
    .where(eq(a.deliveryId, deliveryId))
    .orderBy(asc(a.attempt), asc(a.id))
    .limit(limit)
}

/** Clearing a job forgets its callback too (its attempts go with it: foreign key cascade). */
export async function deleteDeliveriesOf(deps: Pick<Deps, 'db'>, tx: Orm, jobId: string) {
  const d = deps.db.t.webhookDeliveries
  await tx.delete(d).where(eq(d.jobId, jobId))
}

/**
 * The outbox's depth: callbacks still to be delivered, and how long the most overdue one has
 * been due (0 when none is overdue). Across the database: every instance reports the same.
 */
export async function outboxDepth(
  deps: Pick<Deps, 'db' | 'clock'>,
): Promise<{ pending: number; lagSeconds: number }> {
  const d = deps.db.t.webhookDeliveries
  const [row] = await deps.db.orm
    .select({ pending: count(), oldest: min(d.nextAttemptAt) })
    .from(d)
    .where(eq(d.status, 'pending'))
  const oldest = row?.oldest ? new Date(row.oldest).getTime() : null
  const lag = oldest === null ? 0 : Math.max(0, deps.clock.now().getTime() - oldest) / 1000
  return { pending: Number(row?.pending ?? 0), lagSeconds: lag }
}
