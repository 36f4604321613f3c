import { and, asc, eq, gt } from 'drizzle-orm'
import type { Row } from '../../db/schema'
import type { Ctx } from '../../deps'
import { idCursor, page } from '../../lib/cursor'
import { newId } from '../../lib/ids'
import type { WorkspaceActor } from '../tokens/actor'
import type { CreateGroupInput, UpdateGroupInput } from './model'
import { resolveAgents } from './refs'
import { findGroup, groupSummaries, groupView } from './view'

type GroupRow = Row<'broadcastGroups'>

export async function createGroup({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: CreateGroupInput }) {
  const { deps, actor } = ctx
  const { broadcastGroups: g, broadcastGroupMembers: m } = deps.db.t
  const now = deps.clock.now()
  const row = await deps.db.tx(async (tx) => {
    const members = await resolveAgents(deps, tx, actor.workspaceId, input.memberIds ?? [])
    const allowed = input.allowedCallerIds
      ? (await resolveAgents(deps, tx, actor.workspaceId, input.allowedCallerIds)).map((a) => a.id)
      : null
    const row: GroupRow = {
      id: newId(),
      workspaceId: actor.workspaceId,
      name: input.name,
      description: input.description ?? null,
      allowedCallerIds: allowed,
      createdAt: now,
      updatedAt: now,
    }
    await tx.insert(g).values(row)
    if (members.length > 0) {
      // Ids are UUIDv7, so the order given is the membership order.
      await tx
        .insert(m)
        .values(members.map((a) => ({ id: newId(), groupId: row.id, agentId: a.id, createdAt: now })))
    }
    return row
  })
  return groupView(deps, row)
}

export async function listGroups({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { broadcastGroups: g } = deps.db.t
  const after = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select()
    .from(g)
    .where(and(eq(g.workspaceId, actor.workspaceId), after ? gt(g.id, after) : undefined))
    .orderBy(asc(g.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  return { groups: await groupSummaries(deps, actor.workspaceId, items), nextCursor }
}

export async function getGroup({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  return groupView(ctx.deps, await findGroup(ctx.deps, ctx.actor.workspaceId, input.id))
}

export async function updateGroup({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string } & UpdateGroupInput
}) {
  const { deps, actor } = ctx
  const { broadcastGroups: g } = deps.db.t
  const row = await deps.db.tx(async (tx) => {
    const current = await findGroup(deps, actor.workspaceId, input.id, tx)
    const set: Partial<GroupRow> = { updatedAt: deps.clock.now() }
    if (input.name !== undefined) set.name = input.name
    if (input.description !== undefined) set.description = input.description
    if (input.allowedCallerIds !== undefined) {
      set.allowedCallerIds = input.allowedCallerIds
        ? (await resolveAgents(deps, tx, actor.workspaceId, input.allowedCallerIds)).map((a) => a.id)
        : null
    }
    const [updated] = await tx.update(g).set(set).where(eq(g.id, current.id)).returning()
    return updated!
  })
  deps.bus.publish('route.changed', { groupId: row.id })
  return groupView(deps, row)
}

/** Deletes the group and its memberships (the agents stay). */
export async function deleteGroup({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  const { deps, actor } = ctx
  const { broadcastGroups: g } = deps.db.t
  await deps.db.tx(async (tx) => {
    const row = await findGroup(deps, actor.workspaceId, input.id, tx)
    await tx.delete(g).where(eq(g.id, row.id))
  })
  deps.bus.publish('route.changed', { groupId: input.id })
  return { id: input.id, deleted: true as const }
}
