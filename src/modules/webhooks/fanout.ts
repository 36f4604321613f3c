import { and, eq, inArray, isNotNull } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { JsonObject } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { insertDelivery } from '../callbacks/outbox'
import { wantsEvent, webhookRecipients } from './events'

export type StoredEvent = {
  id: number
  workspaceId: string
  type: string
  agentId: string | null
  peerAgentId: string | null
  data: JsonObject
  createdAt: Date
}

/** The body of an agent webhook: the WebSocket's frame, so one handler serves both. */
export const webhookFrame = (e: StoredEvent) => ({
  id: e.id,
  type: e.type,
  at: e.createdAt.toISOString(),
  data: e.data,
})

/** The webhook-id of an agent webhook: the event's id, the same on every attempt. */
export const webhookIdOf = (eventId: number) => String(eventId)

/**
 * In the transaction that appends `event`: one outbox row for each agent webhook that wants
 * it. An agent gets the copy of the event written in its own workspace (an event concerning
 * two workspaces is written in each), and only while its webhook is on: a URL set, not
 * disabled, the agent active and not archived, the type among its `webhookEvents`.
 */
export async function enqueueAgentWebhooks(
  deps: Pick<Deps, 'db' | 'clock' | 'callbacks'>,
  tx: Orm,
  event: StoredEvent,
): Promise<void> {
  const ids = webhookRecipients(event)
  if (ids.length === 0) return
  const { agents: a, agentWebhooks: w } = deps.db.t
  const candidates = await tx
    .select({
      id: a.id,
      workspaceId: a.workspaceId,
      url: a.webhookUrl,
      status: a.status,
      archived: a.archived,
      events: w.events,
      disabledAt: w.disabledAt,
    })
    .from(a)
    .leftJoin(w, eq(w.agentId, a.id))
    .where(and(inArray(a.id, ids), eq(a.workspaceId, event.workspaceId), isNotNull(a.webhookUrl)))
  let queued = 0
  for (const c of candidates) {
    if (!c.url || c.status !== 'active' || c.archived || c.disabledAt) continue
    if (!wantsEvent(c.events, event.type)) continue
    await insertDelivery(deps, tx, {
      workspaceId: c.workspaceId,
      agentId: c.id,
      eventId: event.id,
      messageId: webhookIdOf(event.id),
      eventType: event.type,
      url: c.url,
      payload: webhookFrame(event),
    })
    queued++
  }
  if (queued > 0) deps.db.onCommit(() => deps.callbacks.wake())
}
