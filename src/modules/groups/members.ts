import { eq } from 'drizzle-orm'
import type { Ctx } from '../../deps'
import { invalid, notFound } from '../../lib/errors'
import { newId } from '../../lib/ids'
import type { WorkspaceActor } from '../tokens/actor'
import { MAX_GROUP_MEMBERS } from './model'
import { resolveAgents } from './refs'
import { findGroup, findGroupMembership, groupView } from './view'

/** Adds agents of the workspace to a group; ones already in it are left as they are. */
export async function addGroupMembers({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string; agentIds: string[] }
}) {
  const { deps, actor } = ctx
  const { broadcastGroupMembers: m, broadcastGroups: g } = deps.db.t
  const now = deps.clock.now()
  const group = await deps.db.tx(async (tx) => {
    const group = await findGroup(deps, actor.workspaceId, input.id, tx)
    const agents = await resolveAgents(deps, tx, actor.workspaceId, input.agentIds)
    const existing = new Set(
      (await tx.select({ agentId: m.agentId }).from(m).where(eq(m.groupId, group.id))).map((r) => r.agentId),
    )
    const fresh = agents.filter((a) => !existing.has(a.id))
    if (existing.size + fresh.length > MAX_GROUP_MEMBERS) {
      throw invalid(`A broadcast group has at most ${MAX_GROUP_MEMBERS} members`)
    }
    if (fresh.length > 0) {
      await tx
        .insert(m)
        .values(fresh.map((a) => ({ id: newId(), groupId: group.id, agentId: a.id, createdAt: now })))
        // A concurrent add of the same agent (Postgres) is the same no-op as one seen above.
        .onConflictDoNothing()
      await tx.update(g).set({ updatedAt: now }).where(eq(g.id, group.id))
    }
    return { ...group, updatedAt: fresh.length > 0 ? now : group.updatedAt }
  })
  deps.bus.publish('route.changed', { groupId: group.id })
  return groupView(deps, group)
}

/** Removes one member, named by its membership id or its agent's UUID or permanent id. */
export async function removeGroupMember({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string; memberId: string }
}) {
  const { deps, actor } = ctx
  const { broadcastGroupMembers: m, broadcastGroups: g } = deps.db.t
  const removed = await deps.db.tx(async (tx) => {
    const group = await findGroup(deps, actor.workspaceId, input.id, tx)
    const member = await findGroupMembership(deps, tx, group.id, input.memberId)
    if (!member) throw notFound('Member')
    await tx.delete(m).where(eq(m.id, member.id))
    await tx.update(g).set({ updatedAt: deps.clock.now() }).where(eq(g.id, group.id))
    return member
  })
  deps.bus.publish('route.changed', { groupId: input.id })
  return { id: removed.id, agentId: removed.agentId, removed: true as const }
}
