import {
  and,
  asc,
  type Column,
  count,
  eq,
  gt,
  inArray,
  isNull,
  lt,
  lte,
  min,
  notExists,
  or,
  sql,
} from 'drizzle-orm'
import { alias } from 'drizzle-orm/sqlite-core'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { JsonValue } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { newId } from '../../lib/ids'
import { afterAttempt } from './schedule'

export type Delivery = Row<'webhookDeliveries'>

/**
 * One row of the outbox. Two kinds share it — the same lease, schedule and worker: a job's
 * callback (`jobId`, to the URL the call gave) and an agent webhook (`agentId` and the
 * `eventId` it carries, to the agent's webhook URL).
 */
export type NewDelivery = {
  workspaceId: string
  jobId?: string | null
  agentId?: string | null
  eventId?: number | null
  /** The webhook-id: the same on every attempt, for the receiver to deduplicate on. */
  messageId: string
  eventType: string
  url: string
  payload: JsonValue
  /** The trace the delivery's attempts join; null: each attempt starts a trace of its own. */
  traceparent?: string | null
  tracestate?: string | null
}
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
  await insertDelivery(deps, tx, { ...cb, messageId: messageIdFor(cb.jobId) })
}

/** Writes a delivery, due now, in the caller's transaction (the one that makes what it reports). */
export async function insertDelivery(
  deps: Pick<Deps, 'db' | 'clock'>,
  tx: Orm,
  n: NewDelivery,
): Promise<Delivery> {
  return (await insertDeliveries(deps, tx, [n]))[0]!
}

/** Rows per INSERT of deliveries (about 20 bind parameters each). */
const INSERT_CHUNK = 500

/** As `insertDelivery`, for many at once: one multi-row INSERT per chunk. */
export async function insertDeliveries(
  deps: Pick<Deps, 'db' | 'clock'>,
  tx: Orm,
  ns: readonly NewDelivery[],
): Promise<Delivery[]> {
  const now = deps.clock.now()
  const rows = ns.map(
    (n): Delivery => ({
      id: newId(),
      workspaceId: n.workspaceId,
      jobId: n.jobId ?? null,
      agentId: n.agentId ?? null,
      eventId: n.eventId ?? null,
      messageId: n.messageId,
      eventType: n.eventType,
      url: n.url,
      payload: n.payload,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      lockedUntil: null,
      lastAttemptAt: null,
      lastHttpStatus: null,
      lastError: null,
      traceparent: n.traceparent ?? null,
      tracestate: n.tracestate ?? null,
      createdAt: now,
      finishedAt: null,
    }),
  )
  for (let i = 0; i < rows.length; i += INSERT_CHUNK)
    await tx.insert(deps.db.t.webhookDeliveries).values(rows.slice(i, i + INSERT_CHUNK))
  return rows
}

type Outbox = Deps['db']['t']['webhookDeliveries']

type DueColumns = { status: Column; nextAttemptAt: Column; lockedUntil: Column }

const dueNow = (d: DueColumns, now: Date) =>
  and(eq(d.status, 'pending'), lte(d.nextAttemptAt, now), or(isNull(d.lockedUntil), lte(d.lockedUntil, now)))

/**
 * An agent's webhook deliveries go out one at a time, oldest event first, as far as the
 * schedule allows: a row is claimable only while none of its agent's rows is in flight
 * (`agentFree`) and no older event of its agent is due as well (`firstInLine`). A row waiting
 * for its retry holds nobody up. Callbacks (no agent) are never held back.
 */
function inOrder(deps: Pick<Deps, 'db'>, d: Outbox, now: Date) {
  const o = alias(d, 'earlier')
  const one = { one: sql`1` }
  const agentFree = notExists(
    deps.db.orm
      .select(one)
      .from(o)
      .where(and(eq(o.agentId, d.agentId), eq(o.status, 'pending'), gt(o.lockedUntil, now))),
  )
  const firstInLine = notExists(
    deps.db.orm
      .select(one)
      .from(o)
      .where(and(eq(o.agentId, d.agentId), dueNow(o, now), lt(o.eventId, d.eventId))),
  )
  return { agentFree: or(isNull(d.agentId), agentFree), firstInLine: or(isNull(d.agentId), firstInLine) }
}

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
  const order = inOrder(deps, d, now)
  const due = db.orm
    .select({ id: d.id })
    .from(d)
    .where(and(dueNow(d, now), order.agentFree, order.firstInLine))
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

/**
 * When the next claimable delivery falls due (null: none pending), for the worker's timer. A
 * row whose agent has one in flight elsewhere is not counted: the instance sending that one
 * sends the next, and this one's poll picks it up otherwise.
 */
export async function nextDueAt(deps: Pick<Deps, 'db' | 'clock'>): Promise<Date | null> {
  const d = deps.db.t.webhookDeliveries
  const now = deps.clock.now()
  const [row] = await deps.db.orm
    .select({ at: d.nextAttemptAt })
    .from(d)
    .where(
      and(
        eq(d.status, 'pending'),
        or(isNull(d.lockedUntil), lte(d.lockedUntil, now)),
        inOrder(deps, d, now).agentFree,
      ),
    )
    .orderBy(asc(d.nextAttemptAt))
    .limit(1)
  return row?.at ?? null
}

export type AttemptResult = {
  at: Date
  httpStatus: number | null
  error: string | null
  durationMs: number
  /** The first bytes of the answer, as text. */
  responseExcerpt?: string | null
}

/**
 * Records one attempt and decides what comes next (delivered, gone, retry later, failed).
 * Written only while this instance still holds the claim (same attempt number): if its lease
 * ran out and another instance took the row, that instance's outcome is the one that counts.
 * `also` runs in the same transaction with the outcome (an agent webhook's health).
 */
export async function recordAttempt(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  claimed: Delivery,
  result: AttemptResult,
  also?: (tx: Orm, status: Delivery['status']) => Promise<void>,
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
      responseExcerpt: result.responseExcerpt ?? null,
    })
    await also?.(tx, next.status)
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
 * The outbox's depth: deliveries (callbacks and agent webhooks) still to be made, and how long
 * the most overdue one has been due (0 when none is overdue). Across the database: every instance reports the same.
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
