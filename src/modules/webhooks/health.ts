import { and, eq, gt, isNotNull, isNull, lte, or } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { DeliveryStatus, WebhookDisabledReason } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { recordAudit } from '../audit/record'
import type { Delivery } from '../callbacks/outbox'
import { appendEvent } from '../events/append'
import type { Actor, SystemActor } from '../tokens/actor'

/** Ends an agent's pending deliveries without sending them (the webhook is off, or its URL gone). */
export async function endPendingDeliveries(
  deps: Pick<Deps, 'db' | 'clock'>,
  tx: Orm,
  agentId: string,
  why: string,
) {
  const d = deps.db.t.webhookDeliveries
  const now = deps.clock.now()
  await tx
    .update(d)
    .set({ status: 'failed', nextAttemptAt: null, lockedUntil: null, lastError: why, finishedAt: now })
    .where(and(eq(d.agentId, agentId), eq(d.status, 'pending')))
}

/**
 * The endpoint answers again: the agent's deliveries still waiting for their retry are due now,
 * so the backlog drains at once, oldest event first, instead of each waiting out its own backoff.
 */
async function sendBacklogNow(deps: Pick<Deps, 'db' | 'clock'>, tx: Orm, agentId: string) {
  const d = deps.db.t.webhookDeliveries
  const now = deps.clock.now()
  await tx
    .update(d)
    .set({ nextAttemptAt: now })
    .where(
      and(
        eq(d.agentId, agentId),
        eq(d.status, 'pending'),
        gt(d.nextAttemptAt, now),
        or(isNull(d.lockedUntil), lte(d.lockedUntil, now)),
      ),
    )
}

/**
 * Turns an agent's webhook off, once: nothing more is queued for it, what is pending ends
 * (failed, saying why), and the `agent.webhook_disabled` event and an audit row say so, in
 * the caller's transaction. Returns false when it was off already.
 */
export async function disableWebhook(
  deps: Deps,
  tx: Orm,
  agent: { id: string; workspaceId: string },
  reason: WebhookDisabledReason,
  actor: Actor | SystemActor,
  detail: { lastHttpStatus?: number | null; lastError?: string | null } = {},
): Promise<boolean> {
  const { agentWebhooks: w, agents: a } = deps.db.t
  const now = deps.clock.now()
  await tx
    .insert(w)
    .values({ agentId: agent.id, workspaceId: agent.workspaceId, updatedAt: now })
    .onConflictDoNothing({ target: w.agentId })
  const [row] = await tx
    .update(w)
    .set({ disabledAt: now, disabledReason: reason, updatedAt: now })
    .where(and(eq(w.agentId, agent.id), isNull(w.disabledAt)))
    .returning({ failingSince: w.failingSince })
  if (!row) return false
  await endPendingDeliveries(deps, tx, agent.id, 'The webhook was disabled before this was sent')
  const [who] = await tx.select({ permanentId: a.permanentId }).from(a).where(eq(a.id, agent.id)).limit(1)
  const data = {
    agentId: agent.id,
    permanentId: who?.permanentId ?? null,
    reason,
    failingSince: row.failingSince?.toISOString() ?? null,
    lastHttpStatus: detail.lastHttpStatus ?? null,
    lastError: detail.lastError ?? null,
  }
  await appendEvent(deps, tx, {
    workspaceId: agent.workspaceId,
    type: 'agent.webhook_disabled',
    agentId: agent.id,
    data,
  })
  await recordAudit(deps, tx, {
    workspaceId: agent.workspaceId,
    agentId: agent.id,
    action: 'agent_webhook_disabled',
    actor,
    metadata: { reason, failingSince: data.failingSince, lastHttpStatus: data.lastHttpStatus },
  })
  return true
}

/**
 * After an attempt of an agent webhook, in the transaction that records it: a success clears
 * the failure record; a failure starts it (or keeps its start), and disables the webhook when
 * it has failed for `SWITCHBOARD_WEBHOOK_DISABLE_AFTER_SECONDS` — or at once on 410 Gone, the
 * receiver's word that the URL is dead.
 */
export async function noteWebhookOutcome(
  deps: Deps,
  tx: Orm,
  claimed: Delivery,
  status: DeliveryStatus,
  result: { httpStatus: number | null; error: string | null },
) {
  if (!claimed.agentId) return
  const w = deps.db.t.agentWebhooks
  const now = deps.clock.now()
  if (status === 'delivered') {
    await tx
      .update(w)
      .set({ failingSince: null, updatedAt: now })
      .where(and(eq(w.agentId, claimed.agentId), isNotNull(w.failingSince)))
    await sendBacklogNow(deps, tx, claimed.agentId)
    return
  }
  await tx
    .insert(w)
    .values({ agentId: claimed.agentId, workspaceId: claimed.workspaceId, updatedAt: now })
    .onConflictDoNothing({ target: w.agentId })
  await tx
    .update(w)
    .set({ failingSince: now })
    .where(and(eq(w.agentId, claimed.agentId), isNull(w.failingSince)))
  const [row] = await tx
    .select({ failingSince: w.failingSince, disabledAt: w.disabledAt })
    .from(w)
    .where(eq(w.agentId, claimed.agentId))
  if (!row || row.disabledAt) return
  const failingFor = now.getTime() - (row.failingSince ?? now).getTime()
  const reason =
    status === 'gone' ? 'gone' : failingFor >= deps.config.webhooks.disableAfterMs ? 'failing' : null
  if (!reason) return
  await disableWebhook(
    deps,
    tx,
    { id: claimed.agentId, workspaceId: claimed.workspaceId },
    reason,
    { kind: 'system', workspaceId: claimed.workspaceId },
    { lastHttpStatus: result.httpStatus, lastError: result.error },
  )
}
