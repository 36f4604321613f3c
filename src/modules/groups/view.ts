import { and, asc, count, eq, inArray, or } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { Deps } from '../../deps'
import { notFound } from '../../lib/errors'
import { isPermanentId } from '../../lib/ids'
import { liveCallerIds } from './refs'

type GroupRow = Row<'broadcastGroups'>

/** A group of the workspace; another workspace's group is "not found". */
export async function findGroup(deps: Pick<Deps, 'db'>, workspaceId: string, id: string, tx?: Orm) {
  const { broadcastGroups: g } = deps.db.t
  const [row] = await (tx ?? deps.db.orm)
    .select()
    .from(g)
    .where(and(eq(g.id, id), eq(g.workspaceId, workspaceId)))
    .limit(1)
  if (!row) throw notFound('Broadcast group')
  return row
}

/** Members of the given groups with their agents' state, oldest membership first. */
async function membersOf(deps: Pick<Deps, 'db'>, groupIds: string[]) {
  const { broadcastGroupMembers: m, agents: a } = deps.db.t
  const rows = await deps.db.orm
    .select({
      id: m.id,
      groupId: m.groupId,
      agentId: m.agentId,
      createdAt: m.createdAt,
      permanentId: a.permanentId,
      name: a.name,
      status: a.status,
      archived: a.archived,
      presence: a.presence,
    })
    .from(m)
    .innerJoin(a, eq(a.id, m.agentId))
    .where(inArray(m.groupId, groupIds))
    .orderBy(asc(m.createdAt), asc(m.id))
  return rows.map(({ createdAt, groupId, ...rest }) => ({
    ...rest,
    groupId,
    addedAt: createdAt.toISOString(),
  }))
}

function summary(row: GroupRow, live: Set<string>, memberCount: number) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    allowedCallerIds: row.allowedCallerIds?.filter((id) => live.has(id)) ?? null,
    memberCount,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

/** The full view of one group: its fields and its members. */
export async function groupView(deps: Pick<Deps, 'db'>, row: GroupRow) {
  const [members, live] = await Promise.all([
    membersOf(deps, [row.id]),
    liveCallerIds(deps, row.workspaceId, [row.allowedCallerIds]),
  ])
  return {
    ...summary(row, live, members.length),
    members: members.map(({ groupId: _, ...m }) => m),
  }
}

/** Summaries for a page of groups: two queries whatever the page size. */
export async function groupSummaries(deps: Pick<Deps, 'db'>, workspaceId: string, rows: GroupRow[]) {
  if (rows.length === 0) return []
  const { broadcastGroupMembers: m } = deps.db.t
  const [counts, live] = await Promise.all([
    deps.db.orm
      .select({ groupId: m.groupId, n: count() })
      .from(m)
      .where(
        inArray(
          m.groupId,
          rows.map((r) => r.id),
        ),
      )
      .groupBy(m.groupId),
    liveCallerIds(
      deps,
      workspaceId,
      rows.map((r) => r.allowedCallerIds),
    ),
  ])
  const byGroup = new Map(counts.map((c) => [c.groupId, Number(c.n)]))
  return rows.map((r) => summary(r, live, byGroup.get(r.id) ?? 0))
}

/** A membership by its own id, or by the member agent's UUID or permanent id. */
export async function findGroupMembership(deps: Pick<Deps, 'db'>, tx: Orm, groupId: string, ref: string) {
  const { broadcastGroupMembers: m, agents: a } = deps.db.t
  const id = ref.toLowerCase()
  const [row] = await tx
    .select({ id: m.id, agentId: m.agentId })
    .from(m)
    .innerJoin(a, eq(a.id, m.agentId))
    .where(
      and(
        eq(m.groupId, groupId),
        isPermanentId(ref) ? eq(a.permanentId, ref) : or(eq(m.id, id), eq(m.agentId, id)),
      ),
    )
    .limit(1)
  return row ?? null
}
