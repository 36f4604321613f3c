import { and, asc, eq, gt, inArray, isNull } from 'drizzle-orm'
import type { JsonValue } from '../../db/schema/types'
import type { Ctx, Deps } from '../../deps'
import { idCursor, pageWithin } from '../../lib/cursor'
import { assertSelf, findAgent } from '../agents/lookup'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'
import { MAX_PAYLOAD_BYTES } from './model'

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
  const { messages: m, payloads: p } = deps.db.t
  const agent = await findAgent(deps, actor.workspaceId, input.agentId)
  const after = idCursor.decode(input.cursor)
  // Sizes first: the page stops before its payloads pass the byte budget, and only its
  // payloads are loaded. Messages from before payloads were stored once carry theirs inline.
  const rows = await deps.db.orm
    .select({
      id: m.id,
      fromAgentId: m.fromAgentId,
      channel: m.channel,
      type: m.type,
      payloadId: m.payloadId,
      bytes: p.bytes,
      correlationId: m.correlationId,
      createdAt: m.createdAt,
      expiresAt: m.expiresAt,
      readAt: m.readAt,
    })
    .from(m)
    .leftJoin(p, eq(p.id, m.payloadId))
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
  const { items, nextCursor } = pageWithin(
    rows,
    input.limit,
    deps.config.pageBytes,
    (r) => (r.bytes ?? MAX_PAYLOAD_BYTES) + 512,
  )
  const payloads = await payloadsOf(deps, items)
  return {
    messages: items.map((r) => ({
      id: r.id,
      from: r.fromAgentId,
      channel: r.channel,
      type: r.type,
      payload: payloads.get(r.id) ?? null,
      correlationId: r.correlationId,
      createdAt: r.createdAt.toISOString(),
      expiresAt: iso(r.expiresAt),
      readAt: iso(r.readAt),
    })),
    nextCursor,
  }
}

/** The payloads of a page of messages, by message id: stored once, or inline (older messages). */
async function payloadsOf(deps: Deps, items: { id: string; payloadId: string | null }[]) {
  const { messages: m, payloads: p } = deps.db.t
  const out = new Map<string, JsonValue>()
  const shared = [...new Set(items.flatMap((r) => (r.payloadId ? [r.payloadId] : [])))]
  const inline = items.filter((r) => !r.payloadId).map((r) => r.id)
  const [stored, own] = await Promise.all([
    shared.length === 0
      ? []
      : deps.db.orm.select({ id: p.id, payload: p.payload }).from(p).where(inArray(p.id, shared)),
    inline.length === 0
      ? []
      : deps.db.orm.select({ id: m.id, payload: m.payload }).from(m).where(inArray(m.id, inline)),
  ])
  const byPayload = new Map(stored.map((r) => [r.id, r.payload]))
  for (const r of items) {
    if (r.payloadId) out.set(r.id, byPayload.get(r.payloadId) ?? null)
  }
  for (const r of own) out.set(r.id, r.payload)
  return out
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
