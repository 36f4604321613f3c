import { count, eq } from 'drizzle-orm'
import { isUniqueViolation } from '../../db/errors'
import type { Ctx } from '../../deps'
import { conflict, invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { resolveAgents } from '../groups/refs'
import type { WorkspaceActor } from '../tokens/actor'
import { MAX_POOL_MEMBERS } from './model'
import { findPool, findPoolMembership, poolMembers } from './view'

async function memberView(ctx: Ctx<WorkspaceActor>, poolId: string, memberId: string) {
  const [view] = await poolMembers(ctx.deps, poolId, memberId)
  if (!view) throw notFound('Member')
  return view
}

/** Adds an agent of the workspace to a pool; an agent already in it is a 409. */
export async function addPoolMember({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string; agentId: string; priority: number }
}) {
  const { deps, actor } = ctx
  const { poolMembers: m, pools: p } = deps.db.t
  const now = deps.clock.now()
  const memberId = newId()
  try {
    await deps.db.tx(async (tx) => {
      const pool = await findPool(deps, actor.workspaceId, input.id, tx)
      const [agent] = await resolveAgents(deps, tx, actor.workspaceId, [input.agentId])
      const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(m).where(eq(m.poolId, pool.id))
      if (Number(n) >= MAX_POOL_MEMBERS) throw invalid(`A pool has at most ${MAX_POOL_MEMBERS} members`)
      await tx.insert(m).values({
        id: memberId,
        poolId: pool.id,
        agentId: agent!.id,
        priority: input.priority,
        createdAt: now,
      })
      await tx.update(p).set({ updatedAt: now }).where(eq(p.id, pool.id))
    })
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('This agent is already a member of the pool')
    throw e
  }
  deps.bus.publish('route.changed', { poolId: input.id })
  return memberView(ctx, input.id, memberId)
}

/** Changes a member's priority (failover order). */
export async function updatePoolMember({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string; memberId: string; priority: number }
}) {
  const { deps, actor } = ctx
  const { poolMembers: m } = deps.db.t
  const member = await deps.db.tx(async (tx) => {
    const pool = await findPool(deps, actor.workspaceId, input.id, tx)
    const member = await findPoolMembership(deps, tx, pool.id, input.memberId)
    if (!member) throw notFound('Member')
    await tx.update(m).set({ priority: input.priority }).where(eq(m.id, member.id))
    return member
  })
  deps.bus.publish('route.changed', { poolId: input.id })
  return memberView(ctx, input.id, member.id)
}

/** Removes a member, named by its membership id or its agent's UUID or permanent id. */
export async function removePoolMember({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string; memberId: string }
}) {
  const { deps, actor } = ctx
  const { poolMembers: m, pools: p } = deps.db.t
  const removed = await deps.db.tx(async (tx) => {
    const pool = await findPool(deps, actor.workspaceId, input.id, tx)
    const member = await findPoolMembership(deps, tx, pool.id, input.memberId)
    if (!member) throw notFound('Member')
    await tx.delete(m).where(eq(m.id, member.id))
    await tx.update(p).set({ updatedAt: deps.clock.now() }).where(eq(p.id, pool.id))
    return member
  })
  deps.bus.publish('route.changed', { poolId: input.id })
  return { id: removed.id, agentId: removed.agentId, removed: true as const }
}
