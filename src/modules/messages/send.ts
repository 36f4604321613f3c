import { and, eq, ne } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { JsonValue, MessageType } from '../../db/schema/types'
import type { Ctx, Deps } from '../../deps'
import { AppError } from '../../lib/errors'
import { newId } from '../../lib/ids'
import { type AgentRow, assertSelf, findAgent } from '../agents/lookup'
import { appendEvent } from '../events/append'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'
import { storePayload } from './held'

type Common = {
  payload: JsonValue
  channel?: string | undefined
  type: MessageType
  correlationId?: string | undefined
  ttlSeconds?: number | undefined
}

const usable = (a: AgentRow) => a.status === 'active' && !a.archived

/** Sends a message from an agent to another agent of its workspace. */
export async function sendMessage({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: Common & { agentId: string; toAgentId: string }
}) {
  const { deps, actor } = ctx
  assertSelf(actor, input.agentId)
  const expiresAt = expiry(deps, input.ttlSeconds)
  const id = await deps.db.tx(async (tx) => {
    const from = await findAgent(deps, actor.workspaceId, input.agentId, tx)
    const to = await findAgent(deps, actor.workspaceId, input.toAgentId, tx)
    if (!usable(from)) throw inactive('sending')
    if (!usable(to)) throw inactive('receiving')
    const payloadId = await storePayload(deps, tx, {
      workspaceId: from.workspaceId,
      payload: input.payload,
      expiresAt,
      messages: 1,
    })
    return deliver(deps, tx, from, to, input, payloadId, expiresAt)
  })
  return { success: true as const, messageId: id, expiresAt: expiresAt.toISOString() }
}

/** Sends one message to every other active, non-archived agent of the workspace. */
export async function broadcastMessage({
  ctx,
  input,
}: {
  ctx: Ctx<WorkspaceActor | AgentActor>
  input: Common & { agentId: string }
}) {
  const { deps, actor } = ctx
  assertSelf(actor, input.agentId)
  const expiresAt = expiry(deps, input.ttlSeconds)
  const { agents: a } = deps.db.t
  const ids = await deps.db.tx(async (tx) => {
    const from = await findAgent(deps, actor.workspaceId, input.agentId, tx)
    if (!usable(from)) throw inactive('sending')
    const recipients = await tx
      .select()
      .from(a)
      .where(
        and(
          eq(a.workspaceId, from.workspaceId),
          ne(a.id, from.id),
          eq(a.status, 'active'),
          eq(a.archived, false),
        ),
      )
      .orderBy(a.id)
    if (recipients.length === 0) return []
    // One payload for every recipient: a broadcast costs its payload once, not once per agent.
    const payloadId = await storePayload(deps, tx, {
      workspaceId: from.workspaceId,
      payload: input.payload,
      expiresAt,
      messages: recipients.length,
    })
    const out: string[] = []
    for (const to of recipients) out.push(await deliver(deps, tx, from, to, input, payloadId, expiresAt))
    return out
  })
  return {
    success: true as const,
    recipients: ids.length,
    messageIds: ids,
    expiresAt: expiresAt.toISOString(),
  }
}

/**
 * The message row and its `message.received` event, which concerns the recipient. Both refer
 * to the payload stored once; readers put it in (the row's own `payload` is left `{}`).
 */
async function deliver(
  deps: Deps,
  tx: Orm,
  from: AgentRow,
  to: AgentRow,
  input: Common,
  payloadId: string,
  expiresAt: Date,
) {
  const now = deps.clock.now()
  const row = {
    id: newId(),
    workspaceId: from.workspaceId,
    fromAgentId: from.id,
    toAgentId: to.id,
    channel: input.channel ?? null,
    type: input.type,
    payload: {},
    payloadId,
    correlationId: input.correlationId ?? null,
    expiresAt,
    readAt: null,
    createdAt: now,
  }
  await tx.insert(deps.db.t.messages).values(row)
  await appendEvent(deps, tx, {
    workspaceId: to.workspaceId,
    type: 'message.received',
    agentId: to.id,
    payloadId,
    payload: input.payload,
    data: {
      messageId: row.id,
      agentId: to.id,
      permanentId: to.permanentId,
      from: from.id,
      fromPermanentId: from.permanentId,
      channel: row.channel,
      type: row.type,
      correlationId: row.correlationId,
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
    },
  })
  return row.id
}

function expiry(deps: Deps, ttlSeconds: number | undefined): Date {
  const ttl = ttlSeconds ?? deps.config.messages.defaultTtlSeconds
  return new Date(deps.clock.now().getTime() + ttl * 1000)
}

const inactive = (role: string) => new AppError('invalid_state', `The ${role} agent is inactive or archived`)
