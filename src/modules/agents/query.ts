import { and, asc, eq, getTableColumns, gt, isNull, lte, ne, type SQL } from 'drizzle-orm'
import type { Ctx } from '../../deps'
import { idCursor, jsonBytes, page, pageWithin } from '../../lib/cursor'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'
import { findAgent } from './lookup'
import type { ListInput } from './model'
import { searchRows, textMatch } from './search'
import { agentViews, oneAgentView, selfView } from './view'

/** An agent view weighs its stored description plus the fields every view has. */
export const viewBytes = (row: { metadataBytes: number }) => row.metadataBytes + 1024

export async function listAgents({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: ListInput }) {
  const { deps, actor } = ctx
  const { agents: a, agentCapabilities: c } = deps.db.t
  const after = idCursor.decode(input.cursor)
  const where: (SQL | undefined)[] = [eq(a.workspaceId, actor.workspaceId)]
  if (input.status) where.push(eq(a.status, input.status))
  if (input.online === 'true') where.push(eq(a.presence, 'online'))
  if (input.online === 'false') where.push(ne(a.presence, 'online'))
  if (input.presence) where.push(eq(a.presence, input.presence))
  if (input.label !== undefined) where.push(eq(a.label, input.label))
  if (input.archived !== 'any') where.push(eq(a.archived, input.archived === 'true'))
  if (input.q) where.push(textMatch(a, input.q, deps.db.dialect))
  const select = (extra: SQL[], n: number, orm = deps.db.orm) =>
    input.capability === undefined
      ? orm
          .select()
          .from(a)
          .where(and(...where, ...extra, after ? gt(a.id, after) : undefined))
          .orderBy(asc(a.id))
          .limit(n)
      : // From the capability's index, in agent id order: a capability few agents have reads only
        // those, one many have stops at the page (an IN list over the workspace took 25 ms on
        // 100,000 agents, bench:scale).
        orm
          .select(getTableColumns(a))
          .from(c)
          .innerJoin(a, eq(a.id, c.agentId))
          .where(
            and(
              eq(c.workspaceId, actor.workspaceId),
              eq(c.name, input.capability),
              // Both sides of the join: Postgres does not carry the range across it, and merged
              // the agents from the first one on (19.6 ms, against 0.3 ms with both).
              after ? gt(c.agentId, after) : undefined,
              after ? gt(a.id, after) : undefined,
              ...where,
              ...extra,
            ),
          )
          .orderBy(asc(c.agentId))
          .limit(n)
  const n = input.limit + 1
  const found = input.q
    ? await searchRows(deps, { workspaceId: actor.workspaceId, q: input.q, after }, n, select)
    : { rows: await select([], n), readTo: null }
  // Cut by bytes before the capabilities are loaded: the stored size says what each will weigh.
  const { items, nextCursor } = pageWithin(found.rows, input.limit, deps.config.pageBytes, viewBytes)
  // A short q's page that stopped reading before it filled goes on from where it stopped.
  const cursor = nextCursor ?? (found.readTo ? idCursor.encode(found.readTo) : null)
  return { agents: await agentViews(deps, items), nextCursor: cursor }
}

export async function getAgent({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { agentId: string } }) {
  return oneAgentView(ctx.deps, await findAgent(ctx.deps, ctx.actor.workspaceId, input.agentId))
}

export async function me({ ctx }: { ctx: Ctx<AgentActor> }) {
  return selfView(ctx.deps, ctx.actor.workspaceId, ctx.actor.agentId)
}

export async function agentsByCapability({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { name: string; limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { agents: a, agentCapabilities: c } = deps.db.t
  const after = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select({
      id: a.id,
      permanentId: a.permanentId,
      name: a.name,
      presence: a.presence,
      capName: c.name,
      metadata: c.metadata,
    })
    .from(c)
    .innerJoin(a, eq(a.id, c.agentId))
    .where(
      and(
        eq(c.workspaceId, actor.workspaceId),
        eq(c.name, input.name),
        eq(a.archived, false),
        after ? gt(a.id, after) : undefined,
      ),
    )
    .orderBy(asc(a.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = pageWithin(rows, input.limit, deps.config.pageBytes, (r) => jsonBytes(r))
  return {
    agents: items.map((r) => ({
      id: r.id,
      permanentId: r.permanentId,
      name: r.name,
      presence: r.presence,
      isOnline: r.presence === 'online',
      capability: { name: r.capName, metadata: r.metadata },
    })),
    nextCursor,
  }
}

export async function expiringTokens({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { withinHours: number; limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  const { agents: a, agentTokens: t } = deps.db.t
  const now = deps.clock.now()
  const horizon = new Date(now.getTime() + input.withinHours * 3_600_000)
  const after = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select({
      id: t.id,
      agentId: a.id,
      permanentId: a.permanentId,
      name: a.name,
      prefix: t.prefix,
      expiresAt: t.expiresAt,
    })
    .from(t)
    .innerJoin(a, eq(a.id, t.agentId))
    .where(
      and(
        eq(t.workspaceId, actor.workspaceId),
        isNull(t.revokedAt),
        gt(t.expiresAt, now),
        lte(t.expiresAt, horizon),
        after ? gt(t.id, after) : undefined,
      ),
    )
    .orderBy(asc(t.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  return {
    agents: items.map((r) => ({
      id: r.agentId,
      permanentId: r.permanentId,
      name: r.name,
      tokenPrefix: r.prefix,
      tokenExpiresAt: r.expiresAt!.toISOString(),
      hoursUntilExpiry: Math.round(((r.expiresAt!.getTime() - now.getTime()) / 3_600_000) * 100) / 100,
    })),
    nextCursor,
  }
}
