import { and, desc, eq, inArray, lt } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { Ctx, Deps } from '../../deps'
import { idCursor, page } from '../../lib/cursor'
import { AppError } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { WorkspaceActor } from '../tokens/actor'
import { loadTrigger } from './service'

export type CallRow = Row<'triggerCalls'>

/** A repeated delivery id within this long answers with the first call's job, and makes none. */
export const DEDUPE_WINDOW_MS = 24 * 3600_000

/** Where a sender says which delivery this is, first found wins: an explicit key, then the senders' own. */
export const DELIVERY_ID_HEADERS = ['idempotency-key', 'x-github-delivery', 'webhook-id'] as const

export type DeliveryKey = { header: (typeof DELIVERY_ID_HEADERS)[number]; value: string; key: string }

/**
 * The delivery id a call carries (null: none, so it is never deduplicated). A value that is
 * not 1–255 printable characters is a 400: it could not be matched reliably.
 */
export function deliveryKeyOf(headers: Headers): DeliveryKey | null {
  for (const header of DELIVERY_ID_HEADERS) {
    const value = headers.get(header)
    if (value === null) continue
    if (!/^[\x20-\x7e]{1,255}$/.test(value) || value.trim() === '')
      throw new AppError('invalid_request', `${header} must be 1 to 255 printable characters`)
    return { header, value, key: `${header}:${value}` }
  }
  return null
}

/** The call that first carried this delivery id within the window, if any. */
export async function firstCallOf(deps: Pick<Deps, 'db' | 'clock'>, triggerId: string, key: string) {
  const c = deps.db.t.triggerCalls
  const [row] = await deps.db.orm
    .select()
    .from(c)
    .where(and(eq(c.triggerId, triggerId), eq(c.dedupeKey, key)))
    .limit(1)
  if (!row || row.createdAt.getTime() <= deps.clock.now().getTime() - DEDUPE_WINDOW_MS) return null
  return row
}

export type NewCall = Omit<CallRow, 'id' | 'createdAt'>

/** Raised in the job's transaction when another call took the delivery id first: nothing is written. */
export class DeliveryTaken extends Error {}

/**
 * Records an accepted call in the job's transaction. Its delivery id is claimed by the unique
 * index: a key older than the window is let go first; a key another call holds (a retry racing
 * the first delivery) rolls the job back.
 */
export async function recordAccepted(deps: Pick<Deps, 'db' | 'clock'>, tx: Orm, call: NewCall) {
  const c = deps.db.t.triggerCalls
  const now = deps.clock.now()
  if (call.dedupeKey) {
    await tx
      .update(c)
      .set({ dedupeKey: null })
      .where(
        and(
          eq(c.triggerId, call.triggerId),
          eq(c.dedupeKey, call.dedupeKey),
          lt(c.createdAt, new Date(now.getTime() - DEDUPE_WINDOW_MS)),
        ),
      )
  }
  const inserted = await tx
    .insert(c)
    .values({ ...call, id: newId(), createdAt: now })
    .onConflictDoNothing()
    .returning({ id: c.id })
  if (inserted.length === 0) throw new DeliveryTaken()
}

/** Records a repeated delivery: answered with the first call's job, no new job. */
export async function recordDuplicate(deps: Pick<Deps, 'db' | 'clock'>, call: NewCall) {
  const c = deps.db.t.triggerCalls
  await deps.db.write(() =>
    deps.db.orm.insert(c).values({ ...call, dedupeKey: null, id: newId(), createdAt: deps.clock.now() }),
  )
}

/** A trigger's calls, newest first, with each job's state as it is now. */
export async function listTriggerCalls({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string; limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { t } = await loadTrigger(deps, actor.workspaceId, input.id)
  const { triggerCalls: c, jobs: j } = deps.db.t
  const before = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select()
    .from(c)
    .where(and(eq(c.triggerId, t.id), before ? lt(c.id, before) : undefined))
    .orderBy(desc(c.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  const jobIds = [...new Set(items.flatMap((r) => (r.jobId ? [r.jobId] : [])))]
  const jobs = jobIds.length
    ? await deps.db.orm
        .select({ id: j.id, status: j.status, httpStatus: j.httpStatus })
        .from(j)
        .where(and(inArray(j.id, jobIds), eq(j.workspaceId, actor.workspaceId)))
    : []
  const byId = new Map(jobs.map((x) => [x.id, x]))
  return {
    calls: items.map((r) => {
      const job = r.jobId ? byId.get(r.jobId) : undefined
      return {
        id: r.id,
        receivedAt: r.createdAt.toISOString(),
        outcome: r.outcome,
        jobId: r.jobId,
        job: job ? { status: job.status, httpStatus: job.httpStatus } : null,
        deliveryId: r.deliveryId,
        sourceIp: r.sourceIp,
        contentType: r.contentType,
        bytes: r.bytes,
      }
    }),
    nextCursor,
  }
}

/** Calls older than the events' retention (at least the dedup window) are deleted. */
export async function purgeTriggerCalls(deps: Deps): Promise<number> {
  const c = deps.db.t.triggerCalls
  const keepMs = Math.max(deps.config.retention.eventHours * 3600_000, DEDUPE_WINDOW_MS)
  const cutoff = new Date(deps.clock.now().getTime() - keepMs)
  const gone = await deps.db.write(() =>
    deps.db.orm.delete(c).where(lt(c.createdAt, cutoff)).returning({ id: c.id }),
  )
  if (gone.length > 0) deps.log.info('trigger calls purged', { count: gone.length })
  return gone.length
}
