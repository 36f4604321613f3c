import { and, asc, eq, gt, inArray, isNull } from 'drizzle-orm'
import type { Ctx } from '../../deps'
import { idCursor, page } from '../../lib/cursor'
import { assertSelf, findAgent } from '../agents/lookup'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'

const iso = (d: Date | null) => d?.toISOString() ?? null

/** An agent's inbox, oldest first; expired messages are gone even before the purge removes them. */
export async function listMessages({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: {
    agentId: string
    channel?: string | undefined
    unreadOnly: boolean
    limit: number
    cursor?: string | undefined
  }
}) {
  const { deps, actor } = ctx
  assertSelf(actor, input.agentId)
  const { messages: m } = deps.db.t
  const agent = await findAgent(deps, actor.workspaceId, input.agentId)
  const after = idCursor.decode(input.cursor)
  const rows = await deps.db.orm
    .select()
    .from(m)
    .where(
      and(
        eq(m.workspaceId, agent.workspaceId),
        eq(m.toAgentId, agent.id),
        gt(m.expiresAt, deps.clock.now()),
        input.channel !== undefined ? eq(m.channel, input.channel) : undefined,
        input.unreadOnly ? isNull(m.readAt) : undefined,
        after ? gt(m.id, after) : undefined,
      ),
    )
    .orderBy(asc(m.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  return {
    messages: items.map((r) => ({
      id: r.id,
      from: r.fromAgentId,
      channel: r.channel,
      type: r.type,
      payload: r.payload,
      correlationId: r.correlationId,
      createdAt: r.createdAt.toISOString(),
      expiresAt: iso(r.expiresAt),
      readAt: iso(r.readAt),
    })),
    nextCursor,
  }
}

/** Marks messages of the agent's inbox read; ids of other inboxes, read or expired messages are skipped. */
export async function markRead({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: { agentId: string; messageIds: string[] }
}) {
  const { deps, actor } = ctx
  assertSelf(actor, input.agentId)
  const { messages: m } = deps.db.t
  const agent = await findAgent(deps, actor.workspaceId, input.agentId)
  const now = deps.clock.now()
  const marked = await deps.db.write(() =>
    deps.db.orm
      .update(m)
      .set({ readAt: now })
      .where(
        and(
          eq(m.workspaceId, agent.workspaceId),
          eq(m.toAgentId, agent.id),
          inArray(m.id, [...new Set(input.messageIds.map((id) => id.toLowerCase()))]),
          isNull(m.readAt),
          gt(m.expiresAt, now),
        ),
      )
      .returning({ id: m.id }),
  )
  return { success: true as const, marked: marked.length }
}
