import { and, desc, eq, lt, or } from 'drizzle-orm'
import type { Ctx, Deps } from '../../deps'
import { idCursor, page } from '../../lib/cursor'
import { conflict, forbidden, notFound } from '../../lib/errors'
import { attemptsOf, deleteDeliveriesOf, deliveriesOf } from '../callbacks/outbox'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'
import { mayReport, sideOf } from './access'
import { finishJob, type JobRow } from './lifecycle'
import { deliveryView, jobView } from './view'

type Member = WorkspaceActor | AgentActor

async function loadJob(deps: Deps, jobId: string): Promise<JobRow | null> {
  const { jobs: j } = deps.db.t
  const [row] = await deps.db.orm.select().from(j).where(eq(j.id, jobId)).limit(1)
  return row ?? null
}

/** A job the actor may see, and which side it is on; anyone else gets "not found". */
async function visibleJob(deps: Deps, actor: Member, jobId: string) {
  const row = await loadJob(deps, jobId)
  const side = row ? sideOf(row, actor) : null
  if (!row || !side) throw notFound('Job')
  return { row, side }
}

async function fullView(deps: Deps, row: JobRow, side: 'caller' | 'target') {
  const [delivery] = await deliveriesOf(deps, [row.id])
  const callback = delivery ? deliveryView(delivery, side, await attemptsOf(deps, delivery.id)) : null
  return jobView(row, callback)
}

export async function getJob({ ctx, input }: { ctx: Ctx<Member>; input: { jobId: string } }) {
  const { row, side } = await visibleJob(ctx.deps, ctx.actor, input.jobId)
  return fullView(ctx.deps, row, side)
}

/** Newest first. Agent tokens see the jobs they started or received; workspace keys their agents'. */
export async function listJobs({
  ctx,
  input,
}: {
  ctx: Ctx<Member>
  input: {
    limit: number
    cursor?: string | undefined
    status?: JobRow['status'] | undefined
    role?: 'caller' | 'target' | undefined
  }
}) {
  const { deps, actor } = ctx
  const { jobs: j } = deps.db.t
  const before = idCursor.decode(input.cursor)
  const asCaller =
    actor.kind === 'agent' ? eq(j.callerAgentId, actor.agentId) : eq(j.workspaceId, actor.workspaceId)
  const asTarget =
    actor.kind === 'agent'
      ? or(eq(j.targetAgentId, actor.agentId), eq(j.handledByAgentId, actor.agentId))
      : eq(j.targetWorkspaceId, actor.workspaceId)
  const rows = await deps.db.orm
    .select()
    .from(j)
    .where(
      and(
        input.role === 'caller' ? asCaller : input.role === 'target' ? asTarget : or(asCaller, asTarget),
        input.status ? eq(j.status, input.status) : undefined,
        before ? lt(j.id, before) : undefined,
      ),
    )
    .orderBy(desc(j.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  const deliveries = new Map(
    (
      await deliveriesOf(
        deps,
        items.map((r) => r.id),
      )
    ).map((d) => [d.jobId, d]),
  )
  return {
    jobs: items.map((row) => {
      const d = deliveries.get(row.id)
      return jobView(row, d ? deliveryView(d, sideOf(row, actor) ?? 'target') : null)
    }),
    nextCursor,
  }
}

/** Clears a job: the row and its callback record. A delivery still under way finds nothing to update. */
export async function clearJob({ ctx, input }: { ctx: Ctx<Member>; input: { jobId: string } }) {
  const { deps, actor } = ctx
  const { jobs: j } = deps.db.t
  await deps.db.tx(async (tx) => {
    const [row] = await tx.select().from(j).where(eq(j.id, input.jobId)).limit(1)
    if (!row || !sideOf(row, actor)) throw notFound('Job')
    await deleteDeliveriesOf(deps, tx, row.id)
    await tx.delete(j).where(eq(j.id, row.id))
  })
  return { id: input.jobId, deleted: true as const }
}

/** The agent that received a job reports how it ended; a job already final is a 409. */
export async function reportStatus({
  ctx,
  input,
}: {
  ctx: Ctx<AgentActor>
  input: { jobId: string; status: 'completed' | 'failed'; result?: unknown; error?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { row } = await visibleJob(deps, actor, input.jobId)
  if (!mayReport(row, actor)) throw forbidden('Only the agent that received the job may report its status')
  // A report that carries no traceparent of its own joins the job's trace.
  ctx.trace.adopt(row.traceparent, row.tracestate)
  const done = await finishJob(deps, row.id, {
    status: input.status,
    result: (input.result ?? null) as JobRow['result'],
    error: input.error ?? (input.status === 'failed' ? 'The agent reported a failure' : null),
  })
  if (!done) {
    const now = await loadJob(deps, row.id)
    if (!now) throw notFound('Job')
    throw conflict(`The job is already ${now.status}`)
  }
  return fullView(deps, done, 'target')
}
