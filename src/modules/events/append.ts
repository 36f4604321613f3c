import { sql } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { JsonObject } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { enqueueAgentWebhooks } from '../webhooks/fanout'

/** Every event type the live stream carries (the WebSocket's subscribe filter checks against it). */
export const EVENT_TYPES = [
  'agent.status_changed',
  'agent.updated',
  'job.created',
  'job.completed',
  'job.failed',
  'message.received',
  'command.queued',
  'command.acknowledged',
  'connection.created',
  'connection.accepted',
  'connection.declined',
  'connection.revoked',
  'agent.webhook_disabled',
  'webhook.test',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

export type EventInput = {
  workspaceId: string
  type: EventType
  /** The agent the event concerns (its token sees it). */
  agentId?: string | null
  /** A second agent it concerns (the other end of a job, connection or message). */
  peerAgentId?: string | null
  data: JsonObject
}

/** Serialises event-writing transactions on Postgres so ids commit in id order. */
const EVENTS_LOCK = 7_361_120_002

/**
 * Appends an event in the caller's transaction; listeners are told after it commits. The
 * agent webhooks that want it are put in the outbox in the same transaction, so an event and
 * its webhook deliveries commit (or roll back) together.
 * On Postgres a transaction-scoped advisory lock makes commits happen in id order, so a
 * reader that has seen id N can never later find a smaller id appear: the cursor only grows.
 */
export async function appendEvent(
  deps: Pick<Deps, 'db' | 'clock' | 'bus' | 'callbacks'>,
  tx: Orm,
  e: EventInput,
): Promise<number> {
  if (deps.db.dialect === 'pg') await deps.db.execute(sql`select pg_advisory_xact_lock(${EVENTS_LOCK})`, tx)
  const createdAt = deps.clock.now()
  const [row] = await tx
    .insert(deps.db.t.events)
    .values({
      workspaceId: e.workspaceId,
      type: e.type,
      agentId: e.agentId ?? null,
      peerAgentId: e.peerAgentId ?? null,
      data: e.data,
      createdAt,
    })
    .returning({ id: deps.db.t.events.id })
  const id = row!.id
  await enqueueAgentWebhooks(deps, tx, {
    id,
    workspaceId: e.workspaceId,
    type: e.type,
    agentId: e.agentId ?? null,
    peerAgentId: e.peerAgentId ?? null,
    data: e.data,
    createdAt,
  })
  deps.db.onCommit(() =>
    deps.bus.publish('events', {
      workspaceId: e.workspaceId,
      id,
      agentId: e.agentId ?? null,
      peerAgentId: e.peerAgentId ?? null,
    }),
  )
  return id
}
