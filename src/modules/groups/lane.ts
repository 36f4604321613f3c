import { asc, eq } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { notFound } from '../../lib/errors'
import type { AgentActor } from '../tokens/actor'
import { mayCall } from './refs'

/** What the broadcast lane needs: who may call and whom to call, in membership order. */
export type LaneGroup = {
  id: string
  workspaceId: string
  allowedCallerIds: string[] | null
  memberAgentIds: string[]
}

/**
 * The group as the broadcast lane sees it, for this caller. A group of another workspace,
 * or one the caller is not an allowed caller of, is "not found", like a connection the
 * caller is no participant of.
 */
export async function groupForCaller(
  deps: Pick<Deps, 'db' | 'groupCache'>,
  groupId: string,
  caller: AgentActor,
): Promise<LaneGroup> {
  const group = await deps.groupCache.get(groupId, () => loadGroup(deps, groupId))
  if (!group || !mayCall(group, caller)) throw notFound('Broadcast group')
  return group
}

async function loadGroup(deps: Pick<Deps, 'db'>, id: string): Promise<LaneGroup | null> {
  const { broadcastGroups: g, broadcastGroupMembers: m } = deps.db.t
  const [row] = await deps.db.orm
    .select({ id: g.id, workspaceId: g.workspaceId, allowedCallerIds: g.allowedCallerIds })
    .from(g)
    .where(eq(g.id, id))
    .limit(1)
  if (!row) return null
  const members = await deps.db.orm
    .select({ agentId: m.agentId })
    .from(m)
    .where(eq(m.groupId, id))
    .orderBy(asc(m.createdAt), asc(m.id))
  return { ...row, memberAgentIds: members.map((r) => r.agentId) }
}
