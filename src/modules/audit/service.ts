import { and, desc, eq, gte, lt } from 'drizzle-orm'
import type { Ctx } from '../../deps'
import { idCursor, jsonBytes, pageWithin } from '../../lib/cursor'
import { isPermanentId } from '../../lib/ids'
import { findAgent } from '../agents/lookup'
import type { WorkspaceActor } from '../tokens/actor'

type Filters = { action?: string | undefined; agentId?: string | undefined; since?: string | undefined }

/** Audit rows of the workspace, newest first; `agentId` may name an agent that no longer exists (by UUID). */
export async function listAuditLogs({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: Filters & { limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { auditLogs: l } = deps.db.t
  let agentId = input.agentId?.toLowerCase()
  if (input.agentId && isPermanentId(input.agentId)) {
    agentId = (await findAgent(deps, actor.workspaceId, input.agentId)).id
  }
  const before = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select()
    .from(l)
    .where(
      and(
        eq(l.workspaceId, actor.workspaceId),
        agentId ? eq(l.agentId, agentId) : undefined,
        input.action ? eq(l.action, input.action) : undefined,
        input.since ? gte(l.createdAt, new Date(input.since)) : undefined,
        before ? lt(l.id, before) : undefined,
      ),
    )
    .orderBy(desc(l.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = pageWithin(
    rows,
    input.limit,
    deps.config.pageBytes,
    (r) => jsonBytes(r.metadata) + 256,
  )
  return {
    logs: items.map((r) => ({
      id: r.id,
      action: r.action,
      agentId: r.agentId,
      actorType: r.actorType,
      actorId: r.actorId,
      metadata: r.metadata,
      timestamp: r.createdAt.toISOString(),
    })),
    nextCursor,
  }
}

/** The audit rows of one agent of the workspace (404 for an agent of another workspace). */
export async function listAgentAuditLogs({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: {
    agentId: string
    action?: string | undefined
    since?: string | undefined
    limit: number
    cursor?: string | undefined
  }
}) {
  const agent = await findAgent(ctx.deps, ctx.actor.workspaceId, input.agentId)
  return listAuditLogs({ ctx, input: { ...input, agentId: agent.id } })
}
