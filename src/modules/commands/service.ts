import { and, asc, count, eq, gt, inArray } from 'drizzle-orm'
import type { JsonValue } from '../../db/schema/types'
import type { Ctx } from '../../deps'
import { idCursor, jsonBytes, pageWithin } from '../../lib/cursor'
import { AppError, conflict, notFound, quotaExceeded } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { assertSelf, findAgent } from '../agents/lookup'
import { appendEvent } from '../events/append'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'
import { type CommandRow, commandView, queuedEventData } from './view'

/**
 * Queues a command for an agent. Its `command.queued` event reaches the agent's socket at
 * once if it is connected; otherwise the command is replayed when the agent next connects.
 */
export async function queueCommand({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor>
  input: { agentId: string; action: CommandRow['action']; params: Record<string, JsonValue> }
}) {
  const { deps, actor } = ctx
  const now = deps.clock.now()
  const { row, agentOnline } = await deps.db.tx(async (tx) => {
    const agent = await findAgent(deps, actor.workspaceId, input.agentId, tx)
    if (agent.status !== 'active' || agent.archived)
      throw new AppError('invalid_state', 'The agent is inactive or archived')
    const max = deps.config.quotas.pendingCommandsPerWorkspace
    const [pending] = await tx
      .select({ n: count() })
      .from(deps.db.t.commands)
      .where(
        and(
          eq(deps.db.t.commands.workspaceId, agent.workspaceId),
          inArray(deps.db.t.commands.status, ['queued', 'delivered']),
        ),
      )
    if ((pending?.n ?? 0) >= max)
      throw quotaExceeded(
        `This workspace already holds ${max} unacknowledged commands`,
        max,
        'SWITCHBOARD_MAX_PENDING_COMMANDS_PER_WORKSPACE',
      )
    const row: CommandRow = {
      id: newId(),
      workspaceId: agent.workspaceId,
      agentId: agent.id,
      action: input.action,
      params: input.params,
      status: 'queued',
      result: null,
      createdAt: now,
      deliveredAt: null,
      ackedAt: null,
    }
    await tx.insert(deps.db.t.commands).values(row)
    await appendEvent(deps, tx, {
      workspaceId: agent.workspaceId,
      type: 'command.queued',
      agentId: agent.id,
      data: queuedEventData(row, agent.permanentId),
    })
    const seen = agent.socketSeenAt?.getTime()
    return {
      row,
      agentOnline: seen !== undefined && now.getTime() - seen < deps.presencePolicy.socketFreshMs,
    }
  })
  return {
    success: true as const,
    commandId: row.id,
    message: agentOnline
      ? `Command '${row.action}' sent to agent`
      : `Command '${row.action}' queued until the agent connects`,
    agentOnline,
    status: 'queued' as const,
  }
}

/** An agent's commands, oldest first; `pending` keeps those not yet acknowledged. */
export async function listCommands({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: { agentId: string; pending?: boolean | undefined; limit: number; cursor?: string | undefined }
}) {
  const { deps, actor } = ctx
  assertSelf(actor, input.agentId)
  const { commands: c } = deps.db.t
  const agent = await findAgent(deps, actor.workspaceId, input.agentId)
  const after = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select()
    .from(c)
    .where(
      and(
        eq(c.workspaceId, agent.workspaceId),
        eq(c.agentId, agent.id),
        input.pending === undefined
          ? undefined
          : inArray(c.status, input.pending ? ['queued', 'delivered'] : ['done', 'failed']),
        after ? gt(c.id, after) : undefined,
      ),
    )
    .orderBy(asc(c.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = pageWithin(
    rows,
    input.limit,
    deps.config.pageBytes,
    (r) => jsonBytes(r.params) + jsonBytes(r.result) + 256,
  )
  return { commands: items.map(commandView), nextCursor }
}

/** The agent reports a command's outcome, once; a second report is a 409. The workspace sees it as an event. */
export async function ackCommand({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: { agentId: string; commandId: string; status: 'done' | 'failed'; result?: JsonValue | undefined }
}) {
  const { deps, actor } = ctx
  assertSelf(actor, input.agentId)
  const { commands: c } = deps.db.t
  const now = deps.clock.now()
  const row = await deps.db.tx(async (tx) => {
    const agent = await findAgent(deps, actor.workspaceId, input.agentId, tx)
    const [current] = await tx
      .select()
      .from(c)
      .where(
        and(
          eq(c.id, input.commandId.toLowerCase()),
          eq(c.workspaceId, agent.workspaceId),
          eq(c.agentId, agent.id),
        ),
      )
    if (!current) throw notFound('Command')
    const [updated] = await tx
      .update(c)
      .set({ status: input.status, result: input.result ?? null, ackedAt: now })
      .where(and(eq(c.id, current.id), inArray(c.status, ['queued', 'delivered'])))
      .returning()
    if (!updated) throw conflict(`The command was already acknowledged (${current.status})`)
    await appendEvent(deps, tx, {
      workspaceId: agent.workspaceId,
      type: 'command.acknowledged',
      agentId: agent.id,
      data: {
        commandId: updated.id,
        agentId: agent.id,
        permanentId: agent.permanentId,
        action: updated.action,
        status: input.status,
        result: updated.result ?? null,
        ackedAt: now.toISOString(),
      },
    })
    return updated
  })
  return commandView(row)
}
