import { and, asc, eq, gt } from 'drizzle-orm'
import type { Row } from '../../db/schema'
import type { Ctx } from '../../deps'
import { idCursor, page } from '../../lib/cursor'
import { invalid } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { resolveAgents } from '../groups/refs'
import type { WorkspaceActor } from '../tokens/actor'
import type { CreatePoolInput, UpdatePoolInput } from './model'
import { findPool, poolSummaries, poolView } from './view'

type PoolRow = Row<'pools'>

export async function createPool({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: CreatePoolInput }) {
  const { deps, actor } = ctx
  const { pools: p, poolMembers: m } = deps.db.t
  const now = deps.clock.now()
  const row = await deps.db.tx(async (tx) => {
    const wanted = input.members ?? []
    const agents = await resolveAgents(
      deps,
      tx,
      actor.workspaceId,
      wanted.map((w) => w.agentId),
    )
    // resolveAgents keeps each agent once, in the order given: fewer means one was named twice.
    if (agents.length !== wanted.length) throw invalid('An agent can be a member of a pool once')
    const allowed = input.allowedCallerIds
      ? (await resolveAgents(deps, tx, actor.workspaceId, input.allowedCallerIds)).map((a) => a.id)
      : null
    const row: PoolRow = {
      id: newId(),
      workspaceId: actor.workspaceId,
      name: input.name,
      description: input.description ?? null,
      strategy: input.strategy,
      allowedCallerIds: allowed,
      createdAt: now,
      updatedAt: now,
    }
    await tx.insert(p).values(row)
    if (agents.length > 0) {
      // Ids are UUIDv7, so the order given is the membership age (failover's tie-break).
      await tx.insert(m).values(
        agents.map((a, i) => ({
          id: newId(),
          poolId: row.id,
          agentId: a.id,
          priority: wanted[i]!.priority,
          createdAt: now,
        })),
      )
    }
    return row
  })
  return poolView(deps, row)
}

export async function listPools({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { pools: p } = deps.db.t
  const after = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select()
    .from(p)
    .where(and(eq(p.workspaceId, actor.workspaceId), after ? gt(p.id, after) : undefined))
    .orderBy(asc(p.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  return { pools: await poolSummaries(deps, actor.workspaceId, items), nextCursor }
}

export async function getPool({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  return poolView(ctx.deps, await findPool(ctx.deps, ctx.actor.workspaceId, input.id))
}

export async function updatePool({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string } & UpdatePoolInput
}) {
  const { deps, actor } = ctx
  const { pools: p } = deps.db.t
  const row = await deps.db.tx(async (tx) => {
    const current = await findPool(deps, actor.workspaceId, input.id, tx)
    const set: Partial<PoolRow> = { updatedAt: deps.clock.now() }
    if (input.name !== undefined) set.name = input.name
    if (input.description !== undefined) set.description = input.description
    if (input.strategy !== undefined) set.strategy = input.strategy
    if (input.allowedCallerIds !== undefined) {
      set.allowedCallerIds = input.allowedCallerIds
        ? (await resolveAgents(deps, tx, actor.workspaceId, input.allowedCallerIds)).map((a) => a.id)
        : null
    }
    const [updated] = await tx.update(p).set(set).where(eq(p.id, current.id)).returning()
    return updated!
  })
  deps.bus.publish('route.changed', { poolId: row.id })
  return poolView(deps, row)
}

/** Deletes the pool and its memberships (the agents stay). */
export async function deletePool({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  const { deps, actor } = ctx
  const { pools: p } = deps.db.t
  await deps.db.tx(async (tx) => {
    const row = await findPool(deps, actor.workspaceId, input.id, tx)
    await tx.delete(p).where(eq(p.id, row.id))
  })
  deps.bus.publish('route.changed', { poolId: input.id })
  return { id: input.id, deleted: true as const }
}
