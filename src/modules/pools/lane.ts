import { asc, eq } from 'drizzle-orm'
import type { PoolStrategy } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { notFound } from '../../lib/errors'
import { mayCall } from '../groups/refs'
import type { AgentActor } from '../tokens/actor'

export type LaneMember = { id: string; agentId: string; priority: number; createdAt: number }

/** What the pool lane needs: who may call, the strategy, the members. */
export type LanePool = {
  id: string
  workspaceId: string
  strategy: PoolStrategy
  allowedCallerIds: string[] | null
  members: LaneMember[]
}

/** The pool as the lane sees it, for this caller; another workspace's or a not-allowed caller gets "not found". */
export async function poolForCaller(
  deps: Pick<Deps, 'db' | 'poolCache'>,
  poolId: string,
  caller: AgentActor,
): Promise<LanePool> {
  const pool = await deps.poolCache.get(poolId, () => loadPool(deps, poolId))
  if (!pool || !mayCall(pool, caller)) throw notFound('Pool')
  return pool
}

async function loadPool(deps: Pick<Deps, 'db'>, id: string): Promise<LanePool | null> {
  const { pools: p, poolMembers: m } = deps.db.t
  const [row] = await deps.db.orm
    .select({
      id: p.id,
      workspaceId: p.workspaceId,
      strategy: p.strategy,
      allowedCallerIds: p.allowedCallerIds,
    })
    .from(p)
    .where(eq(p.id, id))
    .limit(1)
  if (!row) return null
  const members = await deps.db.orm
    .select({ id: m.id, agentId: m.agentId, priority: m.priority, createdAt: m.createdAt })
    .from(m)
    .where(eq(m.poolId, id))
    .orderBy(asc(m.createdAt), asc(m.id))
  return { ...row, members: members.map((r) => ({ ...r, createdAt: r.createdAt.getTime() })) }
}
