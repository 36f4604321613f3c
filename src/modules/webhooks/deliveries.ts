import { and, asc, desc, eq, inArray, lt } from 'drizzle-orm'
import type { Row } from '../../db/schema'
import type { Ctx } from '../../deps'
import { idCursor, page } from '../../lib/cursor'
import { AppError, conflict, notFound } from '../../lib/errors'
import { assertSelf, findAgent } from '../agents/lookup'
import { recordAudit } from '../audit/record'
import { type Delivery, insertDelivery } from '../callbacks/outbox'
import { appendEvent } from '../events/append'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'
import { webhookFrame, webhookIdOf } from './fanout'

type Member = WorkspaceActor | AgentActor
type Attempt = Row<'webhookAttempts'>

const iso = (d: Date | null) => d?.toISOString() ?? null
/** A delivery shows its newest attempts at most (manual retries can add more than the schedule's ten). */
const ATTEMPTS_SHOWN = 50

export function webhookDeliveryView(d: Delivery, attempts: Attempt[]) {
  const shown = attempts.slice(-ATTEMPTS_SHOWN)
  const last = shown.at(-1)
  return {
    id: d.id,
    webhookId: d.messageId,
    eventId: d.eventId ?? 0,
    eventType: d.eventType,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    lastAttemptAt: iso(d.lastAttemptAt),
    lastHttpStatus: d.lastHttpStatus,
    lastError: d.lastError,
    lastDurationMs: last?.durationMs ?? null,
    lastResponseExcerpt: last?.responseExcerpt ?? null,
    createdAt: d.createdAt.toISOString(),
    finishedAt: iso(d.finishedAt),
    payload: d.payload,
    attemptLog: shown.map((a) => ({
      attempt: a.attempt,
      at: a.at.toISOString(),
      httpStatus: a.httpStatus,
      error: a.error,
      durationMs: a.durationMs,
      responseExcerpt: a.responseExcerpt,
    })),
  }
}

async function withAttempts(ctx: Ctx<Member>, rows: Delivery[]) {
  const a = ctx.deps.db.t.webhookAttempts
  const ids = rows.map((r) => r.id)
  const attempts = ids.length
    ? await ctx.deps.db.orm
        .select()
        .from(a)
        .where(inArray(a.deliveryId, ids))
        .orderBy(asc(a.deliveryId), asc(a.attempt), asc(a.id))
    : []
  const by = new Map<string, Attempt[]>()
  for (const at of attempts) by.set(at.deliveryId, [...(by.get(at.deliveryId) ?? []), at])
  return rows.map((r) => webhookDeliveryView(r, by.get(r.id) ?? []))
}

/** The agent an actor may act for: the workspace key, or the agent's own token. */
async function ownAgent(ctx: Ctx<Member>, ref: string) {
  assertSelf(ctx.actor, ref)
  return findAgent(ctx.deps, ctx.actor.workspaceId, ref)
}

/** An agent's webhook deliveries, newest first, each with its attempts. */
export async function listWebhookDeliveries({
  ctx,
  input,
}: {
  ctx: Ctx<Member>
  input: {
    agentId: string
    status?: Delivery['status'] | undefined
    limit: number
    cursor?: string | undefined
  }
}) {
  const agent = await ownAgent(ctx, input.agentId)
  const d = ctx.deps.db.t.webhookDeliveries
  const before = idCursor.decode(input.cursor)
  const rows = await ctx.deps.db.orm
    .select()
    .from(d)
    .where(
      and(
        eq(d.agentId, agent.id),
        input.status ? eq(d.status, input.status) : undefined,
        before ? lt(d.id, before) : undefined,
      ),
    )
    .orderBy(desc(d.id))
    .limit(input.limit + 1)
  const { items, nextCursor } = page(rows, input.limit)
  return { deliveries: await withAttempts(ctx, items), nextCursor }
}

async function deliveryOf(ctx: Ctx<Member>, agentId: string, deliveryId: string) {
  const d = ctx.deps.db.t.webhookDeliveries
  const [row] = await ctx.deps.db.orm
    .select()
    .from(d)
    .where(and(eq(d.id, deliveryId.toLowerCase()), eq(d.agentId, agentId)))
    .limit(1)
  if (!row) throw notFound('Webhook delivery')
  return row
}

export async function getWebhookDelivery({
  ctx,
  input,
}: {
  ctx: Ctx<Member>
  input: { agentId: string; deliveryId: string }
}) {
  const agent = await ownAgent(ctx, input.agentId)
  const [view] = await withAttempts(ctx, [await deliveryOf(ctx, agent.id, input.deliveryId)])
  return view!
}

/** The agent's webhook state, for the checks a manual send makes. */
async function webhookState(ctx: Ctx<Member>, agentId: string) {
  const w = ctx.deps.db.t.agentWebhooks
  const [row] = await ctx.deps.db.orm.select().from(w).where(eq(w.agentId, agentId)).limit(1)
  return row ?? null
}

/**
 * Sends one delivery again, now, to the agent's current webhook URL: the same webhook-id and
 * body, as the next attempt (one that had run out of attempts gets exactly one more). Not while
 * it is being sent (409), nor while the webhook is disabled or has no URL (400).
 */
export async function retryWebhookDelivery({
  ctx,
  input,
}: {
  ctx: Ctx<Member>
  input: { agentId: string; deliveryId: string }
}) {
  const { deps, actor } = ctx
  const agent = await ownAgent(ctx, input.agentId)
  if (!agent.webhookUrl) throw new AppError('invalid_state', 'The agent has no webhook URL')
  if ((await webhookState(ctx, agent.id))?.disabledAt)
    throw new AppError(
      'invalid_state',
      "The agent's webhook is disabled; re-enable it with PATCH /api/agents/{agentId} {webhookEnabled: true}",
    )
  const d = deps.db.t.webhookDeliveries
  const now = deps.clock.now()
  const row = await deps.db.tx(async (tx) => {
    const current = await deliveryOf(ctx, agent.id, input.deliveryId)
    if (current.status === 'pending' && current.lockedUntil && current.lockedUntil > now)
      throw conflict('The delivery is being sent right now')
    const [updated] = await tx
      .update(d)
      .set({
        status: 'pending',
        nextAttemptAt: now,
        lockedUntil: null,
        url: agent.webhookUrl!,
        finishedAt: null,
      })
      .where(and(eq(d.id, current.id), eq(d.attempts, current.attempts)))
      .returning()
    if (!updated) throw conflict('The delivery changed at the same moment; try again')
    await recordAudit(deps, tx, {
      workspaceId: agent.workspaceId,
      agentId: agent.id,
      action: 'agent_webhook_retried',
      actor,
      metadata: { deliveryId: updated.id, eventType: updated.eventType, webhookId: updated.messageId },
    })
    deps.db.onCommit(() => deps.callbacks.wake())
    return updated
  })
  const [view] = await withAttempts(ctx, [row])
  return view!
}

/**
 * A `webhook.test` event for the agent, sent to its webhook URL at once through the outbox —
 * whatever `webhookEvents` says, and also while the webhook is disabled (to see that it works
 * before re-enabling it). Answers the delivery, pending; poll it for the outcome.
 */
export async function sendTestWebhook({ ctx, input }: { ctx: Ctx<Member>; input: { agentId: string } }) {
  const { deps, actor } = ctx
  const agent = await ownAgent(ctx, input.agentId)
  if (!agent.webhookUrl) throw new AppError('invalid_state', 'The agent has no webhook URL')
  const { events: e } = deps.db.t
  const row = await deps.db.tx(async (tx) => {
    const id = await appendEvent(deps, tx, {
      workspaceId: agent.workspaceId,
      type: 'webhook.test',
      agentId: agent.id,
      data: {
        agentId: agent.id,
        permanentId: agent.permanentId,
        message: 'A test event sent on request; verify its signature as you would any other.',
        requestedBy: actor.kind === 'agent' ? 'agent' : 'workspace_key',
      },
    })
    const [event] = await tx.select().from(e).where(eq(e.id, id)).limit(1)
    const made = await insertDelivery(deps, tx, {
      workspaceId: agent.workspaceId,
      agentId: agent.id,
      eventId: id,
      messageId: webhookIdOf(id),
      eventType: 'webhook.test',
      url: agent.webhookUrl!,
      payload: webhookFrame(event!),
    })
    deps.db.onCommit(() => deps.callbacks.wake())
    return made
  })
  return webhookDeliveryView(row, [])
}
