import { and, asc, eq, gt } from 'drizzle-orm'
import type { Ctx } from '../../deps'
import { idCursor, pageWithin } from '../../lib/cursor'
import { connectionsOf } from '../connections/service'
import type { WorkspaceActor } from '../tokens/actor'
import { viewBytes } from './query'
import { agentViews } from './view'

/** Seed 004's orchestration view: live agents with what they can do, how they speak, whom they reach. */
export async function orchestration({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { agents: a } = deps.db.t
  const after = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select()
    .from(a)
    .where(
      and(eq(a.workspaceId, actor.workspaceId), eq(a.archived, false), after ? gt(a.id, after) : undefined),
    )
    .orderBy(asc(a.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = pageWithin(rows, input.limit, deps.config.pageBytes, viewBytes)
  const [views, links] = await Promise.all([
    agentViews(deps, items),
    connectionsOf(
      deps,
      actor.workspaceId,
      items.map((r) => r.id),
    ),
  ])
  return {
    agents: views.map((v) => ({
      id: v.id,
      permanentId: v.permanentId,
      name: v.name,
      label: v.label,
      status: v.status,
      presence: v.presence,
      isOnline: v.isOnline,
      lastHeartbeatAt: v.lastHeartbeatAt,
      capabilities: v.capabilities,
      protocols: v.protocols,
      connections: links
        .filter((c) => c.agentId === v.id || c.targetAgentId === v.id)
        .map((c) => {
          const outgoing = c.agentId === v.id
          return {
            id: c.id,
            type: c.type,
            status: c.status,
            direction: outgoing ? ('outgoing' as const) : ('incoming' as const),
            peerAgentId: outgoing ? c.targetAgentId : c.agentId,
            peerPermanentId: outgoing ? c.targetPermanentId : c.agentPermanentId,
          }
        }),
    })),
    nextCursor,
  }
}
