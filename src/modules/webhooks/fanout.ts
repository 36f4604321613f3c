import { and, eq, inArray, isNotNull } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { JsonObject } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { insertDeliveries, type NewDelivery } from '../callbacks/outbox'
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

/** Agents per candidate read (bind parameters stay far under either database's limit). */
const READ_CHUNK = 1000

/**
 * In the transaction that appends `events`: one outbox row for each agent webhook that wants
 * one of them, in the events' order. An agent gets the copy of an event written in its own
 * workspace (an event concerning two workspaces is written in each), and only while its
 * webhook is on: a URL set, not disabled, the agent active and not archived, the type among
 * its `webhookEvents`. The candidates of all the events are read at once.
 */
export async function enqueueAgentWebhooks(
  deps: Pick<Deps, 'db' | 'clock' | 'callbacks'>,
  tx: Orm,
  events: readonly StoredEvent[],
): Promise<void> {
  const recipients = events.map(webhookRecipients)
  const ids = [...new Set(recipients.flat())]
  if (ids.length === 0) return
  const workspaces = [...new Set(events.map((e) => e.workspaceId))]
  const { agents: a, agentWebhooks: w } = deps.db.t
  const candidates = new Map<string, Candidate>()
  for (let i = 0; i < ids.length; i += READ_CHUNK) {
    const rows: Candidate[] = await tx
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
      .where(
        and(
          inArray(a.id, ids.slice(i, i + READ_CHUNK)),
          inArray(a.workspaceId, workspaces),
          isNotNull(a.webhookUrl),
        ),
      )
    for (const r of rows) candidates.set(r.id, r)
  }
  const deliveries: NewDelivery[] = []
  events.forEach((event, i) => {
    for (const id of recipients[i]!) {
      const c = candidates.get(id)
      if (!c || c.workspaceId !== event.workspaceId) continue
      if (!c.url || c.status !== 'active' || c.archived || c.disabledAt) continue
      if (!wantsEvent(c.events, event.type)) continue
      deliveries.push({
        workspaceId: c.workspaceId,
        agentId: c.id,
        eventId: event.id,
        messageId: webhookIdOf(event.id),
        eventType: event.type,
        url: c.url,
        payload: webhookFrame(event),
      })
    }
  })
  if (deliveries.length === 0) return
  await insertDeliveries(deps, tx, deliveries)
  deps.db.onCommit(() => deps.callbacks.wake())
}

type Candidate = {
  id: string
  workspaceId: string
  url: string | null
  status: string
  archived: boolean
  events: string[] | null
  disabledAt: Date | null
}
