import { and, asc, eq, gt, inArray, or } from 'drizzle-orm'
import { alias } from 'drizzle-orm/sqlite-core'
import type { Orm } from '../../db'
import type { Row } from '../../db/schema'
import type { Ctx, Deps } from '../../deps'
import { idCursor, page } from '../../lib/cursor'
import { AppError, conflict, forbidden, invalid, notFound } from '../../lib/errors'
import { isPermanentId, newId } from '../../lib/ids'
import { findAgent } from '../agents/lookup'
import { appendEvent, type EventType } from '../events/append'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'
import type { CreateConnectionInput } from './model'

type ConnectionRow = Row<'connections'>
type Ends = { agentPermanentId: string; targetPermanentId: string }

export function connectionView(row: ConnectionRow & Ends, workspaceId: string) {
  const direction =
    row.workspaceId === row.targetWorkspaceId
      ? 'internal'
      : row.workspaceId === workspaceId
        ? 'outgoing'
        : 'incoming'
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    direction: direction as 'outgoing' | 'incoming' | 'internal',
    agentId: row.agentId,
    agentPermanentId: row.agentPermanentId,
    targetAgentId: row.targetAgentId,
    targetPermanentId: row.targetPermanentId,
    workspaceId: row.workspaceId,
    targetWorkspaceId: row.targetWorkspaceId,
    lastHeartbeatAt: row.lastHeartbeatAt?.toISOString() ?? null,
    acceptedAt: row.acceptedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  }
}

/** Connections joined with both ends' permanent ids. */
function selectConnections(deps: Deps, tx: Orm = deps.db.orm) {
  const { connections: c, agents } = deps.db.t
  const source = alias(agents, 'source')
  const target = alias(agents, 'target')
  return {
    c,
    query: tx
      .select({ c, agentPermanentId: source.permanentId, targetPermanentId: target.permanentId })
      .from(c)
      .innerJoin(source, eq(source.id, c.agentId))
      .innerJoin(target, eq(target.id, c.targetAgentId)),
  }
}

const flatten = (r: { c: ConnectionRow } & Ends) => ({
  ...r.c,
  agentPermanentId: r.agentPermanentId,
  targetPermanentId: r.targetPermanentId,
})

/** A connection either side's workspace may see; anyone else gets "not found". */
async function visibleConnection(deps: Deps, workspaceId: string, id: string, tx?: Orm) {
  const { c, query } = selectConnections(deps, tx)
  const [row] = await query
    .where(and(eq(c.id, id), or(eq(c.workspaceId, workspaceId), eq(c.targetWorkspaceId, workspaceId))))
    .limit(1)
  if (!row) throw notFound('Connection')
  return flatten(row)
}

async function connectionEvent(
  deps: Deps,
  tx: Orm,
  row: ConnectionRow,
  type: EventType,
  data: Record<string, string>,
) {
  const body = {
    connectionId: row.id,
    type: row.type,
    agentId: row.agentId,
    targetAgentId: row.targetAgentId,
    ...data,
  }
  const workspaces = new Set([row.workspaceId, row.targetWorkspaceId])
  for (const workspaceId of workspaces) {
    await appendEvent(deps, tx, {
      workspaceId,
      type,
      agentId: row.agentId,
      peerAgentId: row.targetAgentId,
      data: body,
    })
  }
}

export async function createConnection({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: CreateConnectionInput
}) {
  const { deps, actor } = ctx
  const { connections: c, agents } = deps.db.t
  const now = deps.clock.now()
  const row = await deps.db.tx(async (tx) => {
    const source = await findAgent(deps, actor.workspaceId, input.agentId, tx)
    const ref = input.targetPermanentId ?? input.targetAgentId!
    let target: Row<'agents'>
    if (input.type === 'private') {
      target = await findAgent(deps, actor.workspaceId, ref, tx)
    } else {
      // Board connections reach other workspaces, but only by the public handle.
      if (!isPermanentId(ref)) {
        target = await findAgent(deps, actor.workspaceId, ref, tx)
      } else {
        const [found] = await tx.select().from(agents).where(eq(agents.permanentId, ref)).limit(1)
        if (!found) throw notFound('Agent')
        target = found
      }
    }
    if (target.id === source.id) throw invalid('An agent cannot connect to itself')
    if (target.archived) throw new AppError('invalid_state', 'The target agent is archived')
    if (source.archived) throw new AppError('invalid_state', 'The agent is archived')
    const [existing] = await tx
      .select({ id: c.id })
      .from(c)
      .where(
        or(
          and(eq(c.agentId, source.id), eq(c.targetAgentId, target.id)),
          and(eq(c.agentId, target.id), eq(c.targetAgentId, source.id)),
        ),
      )
      .limit(1)
    if (existing) throw conflict('These two agents are already connected')
    const crossWorkspace = target.workspaceId !== actor.workspaceId
    const row: ConnectionRow = {
      id: newId(),
      workspaceId: actor.workspaceId,
      agentId: source.id,
      targetWorkspaceId: target.workspaceId,
      targetAgentId: target.id,
      type: input.type,
      status: crossWorkspace ? 'pending' : 'active',
      lastHeartbeatAt: null,
      acceptedAt: crossWorkspace ? null : now,
      createdAt: now,
      updatedAt: now,
    }
    await tx.insert(c).values(row)
    await connectionEvent(deps, tx, row, 'connection.created', { status: row.status })
    return { ...row, agentPermanentId: source.permanentId, targetPermanentId: target.permanentId }
  })
  deps.bus.publish('route.changed', { connectionId: row.id })
  return connectionView(row, actor.workspaceId)
}

export async function listConnections({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: {
    limit: number
    cursor?: string | undefined
    status?: string | undefined
    type?: string | undefined
    agentId?: string | undefined
  }
}) {
  const { deps, actor } = ctx
  const after = idCursor.decode(input.cursor)
  const agentId = input.agentId ? (await findAgent(deps, actor.workspaceId, input.agentId)).id : undefined
  const { c, query } = selectConnections(deps)
  const rows = await query
    .where(
      and(
        or(eq(c.workspaceId, actor.workspaceId), eq(c.targetWorkspaceId, actor.workspaceId)),
        after ? gt(c.id, after) : undefined,
        input.status ? eq(c.status, input.status as ConnectionRow['status']) : undefined,
        input.type ? eq(c.type, input.type as ConnectionRow['type']) : undefined,
        agentId ? or(eq(c.agentId, agentId), eq(c.targetAgentId, agentId)) : undefined,
      ),
    )
    .orderBy(asc(c.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows.map(flatten), input.limit)
  return { connections: items.map((r) => connectionView(r, actor.workspaceId)), nextCursor }
}

export async function getConnection({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  return connectionView(
    await visibleConnection(ctx.deps, ctx.actor.workspaceId, input.id),
    ctx.actor.workspaceId,
  )
}

/** Either side may end the line at any time; nobody can call over it afterwards. */
export async function deleteConnection({ ctx, input }: { ctx: Ctx<WorkspaceActor>; input: { id: string } }) {
  const { deps, actor } = ctx
  await deps.db.tx(async (tx) => {
    const row = await visibleConnection(deps, actor.workspaceId, input.id, tx)
    await tx.delete(deps.db.t.connections).where(eq(deps.db.t.connections.id, row.id))
    await connectionEvent(deps, tx, row, 'connection.revoked', { by: actor.workspaceId })
  })
  deps.bus.publish('route.changed', { connectionId: input.id })
  return { id: input.id, revoked: true as const }
}

/** The target's workspace answers a pending board connection. */
export async function answerConnection({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { id: string; accept: boolean }
}) {
  const { deps, actor } = ctx
  const { connections: c } = deps.db.t
  const now = deps.clock.now()
  const row = await deps.db.tx(async (tx) => {
    const row = await visibleConnection(deps, actor.workspaceId, input.id, tx)
    if (row.targetWorkspaceId !== actor.workspaceId) {
      throw forbidden("Only the target agent's workspace can answer this connection")
    }
    if (row.status !== 'pending') throw conflict(`The connection is already ${row.status}`)
    const status = input.accept ? ('active' as const) : ('declined' as const)
    await tx
      .update(c)
      .set({ status, acceptedAt: input.accept ? now : null, updatedAt: now })
      .where(eq(c.id, row.id))
    const updated = { ...row, status, acceptedAt: input.accept ? now : null, updatedAt: now }
    await connectionEvent(deps, tx, updated, input.accept ? 'connection.accepted' : 'connection.declined', {})
    return updated
  })
  deps.bus.publish('route.changed', { connectionId: row.id })
  return connectionView(row, actor.workspaceId)
}

/** Keeps a board connection alive: a participant's agent token or either side's workspace key. */
export async function connectionHeartbeat({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: { id: string }
}) {
  const { deps, actor } = ctx
  const { connections: c } = deps.db.t
  const now = deps.clock.now()
  return deps.db.tx(async (tx) => {
    const [row] = await tx.select().from(c).where(eq(c.id, input.id)).limit(1)
    const visible =
      row &&
      (actor.kind === 'agent'
        ? row.agentId === actor.agentId || row.targetAgentId === actor.agentId
        : row.workspaceId === actor.workspaceId || row.targetWorkspaceId === actor.workspaceId)
    if (!row || !visible) throw notFound('Connection')
    if (row.type !== 'board') throw new AppError('invalid_state', 'Only board connections take heartbeats')
    if (row.status !== 'active') throw new AppError('invalid_state', `The connection is ${row.status}`)
    await tx.update(c).set({ lastHeartbeatAt: now }).where(eq(c.id, row.id))
    return { id: row.id, status: row.status, lastHeartbeatAt: now.toISOString() }
  })
}

/** Connections an agent takes part in, for the orchestration view. */
export async function connectionsOf(deps: Deps, agentIds: string[]) {
  if (agentIds.length === 0) return []
  const { c, query } = selectConnections(deps)
  const rows = await query.where(or(inArray(c.agentId, agentIds), inArray(c.targetAgentId, agentIds)))
  return rows.map(flatten)
}
