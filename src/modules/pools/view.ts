import { and, asc, count, eq, inArray, or } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { Deps } from '../../deps'
import { notFound } from '../../lib/errors'
import { isPermanentId } from '../../lib/ids'
import { liveCallerIds } from '../groups/refs'

type PoolRow = Row<'pools'>

/** A pool of the workspace; another workspace's pool is "not found". */
export async function findPool(deps: Pick<Deps, 'db'>, workspaceId: string, id: string, tx?: Orm) {
  const { pools: p } = deps.db.t
  const [row] = await (tx ?? deps.db.orm)
    .select()
    .from(p)
    .where(and(eq(p.id, id), eq(p.workspaceId, workspaceId)))
    .limit(1)
  if (!row) throw notFound('Pool')
  return row
}

/** A membership by its own id, or by the member agent's UUID or permanent id. */
export async function findPoolMembership(deps: Pick<Deps, 'db'>, tx: Orm, poolId: string, ref: string) {
  const { poolMembers: m, agents: a } = deps.db.t
  const id = ref.toLowerCase()
  const [row] = await tx
    .select({ member: m })
    .from(m)
    .innerJoin(a, eq(a.id, m.agentId))
    .where(
      and(
        eq(m.poolId, poolId),
        isPermanentId(ref) ? eq(a.permanentId, ref) : or(eq(m.id, id), eq(m.agentId, id)),
      ),
    )
    .limit(1)
  return row?.member ?? null
}

/** Members with their agents' state and this instance's passive health, oldest membership first. */
export async function poolMembers(deps: Deps, poolId: string, only?: string) {
  const { poolMembers: m, agents: a } = deps.db.t
  const rows = await deps.db.orm
    .select({
      id: m.id,
      agentId: m.agentId,
      priority: m.priority,
      createdAt: m.createdAt,
      permanentId: a.permanentId,
      name: a.name,
      status: a.status,
      archived: a.archived,
      presence: a.presence,
    })
    .from(m)
    .innerJoin(a, eq(a.id, m.agentId))
    .where(and(eq(m.poolId, poolId), only ? eq(m.id, only) : undefined))
    .orderBy(asc(m.createdAt), asc(m.id))
  const health = deps.poolRuntime.health
  const now = deps.clock.now().getTime()
  return rows.map(({ createdAt, ...r }) => {
    const h = health.view(r.id, now)
    return {
      ...r,
      addedAt: createdAt.toISOString(),
      consecutiveFailures: h.consecutiveFailures,
      ejectedUntil: h.ejectedUntil === null ? null : new Date(h.ejectedUntil).toISOString(),
    }
  })
}

function summary(row: PoolRow, live: Set<string>, memberCount: number) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    strategy: row.strategy,
    allowedCallerIds: row.allowedCallerIds?.filter((id) => live.has(id)) ?? null,
    memberCount,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

export async function poolView(deps: Deps, row: PoolRow) {
  const [members, live] = await Promise.all([
    poolMembers(deps, row.id),
    liveCallerIds(deps, row.workspaceId, [row.allowedCallerIds]),
  ])
  return { ...summary(row, live, members.length), members }
}

/** Summaries for a page of pools: two queries whatever the page size. */
export async function poolSummaries(deps: Pick<Deps, 'db'>, workspaceId: string, rows: PoolRow[]) {
  if (rows.length === 0) return []
  const { poolMembers: m } = deps.db.t
  const [counts, live] = await Promise.all([
    deps.db.orm
      .select({ poolId: m.poolId, n: count() })
      .from(m)
      .where(
        inArray(
          m.poolId,
          rows.map((r) => r.id),
        ),
      )
      .groupBy(m.poolId),
    liveCallerIds(
      deps,
      workspaceId,
      rows.map((r) => r.allowedCallerIds),
    ),
  ])
  const byPool = new Map(counts.map((c) => [c.poolId, Number(c.n)]))
  return rows.map((r) => summary(r, live, byPool.get(r.id) ?? 0))
}
