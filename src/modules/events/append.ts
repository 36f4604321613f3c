import { sql } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { JsonObject, JsonValue } from '../../db/schema/types'
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
  /** A payload stored once (see `payloads`) that readers put into `data.payload`. */
  payloadId?: string | null
  /** That payload's value, for what is sent now rather than read later (agent webhooks). */
  payload?: JsonValue
  data: JsonObject
}

/** Serialises event-writing transactions on Postgres so ids commit in id order. */
const EVENTS_LOCK = 7_361_120_002

/** Events per INSERT (seven bind parameters each). */
const INSERT_CHUNK = 1000

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
  return (await appendEvents(deps, tx, [e]))[0]!
}

/**
 * As `appendEvent`, for many events at once (a page of the presence sweep): one multi-row
 * INSERT per chunk, the webhooks' candidates read once, one note per event after commit.
 * The ids are returned in the order given, and follow it: an INSERT numbers its rows in the
 * order of its VALUES (an identity or rowid taken row by row, and no other event-writing
 * transaction in between), so each workspace's stream reads them in that order.
 */
export async function appendEvents(
  deps: Pick<Deps, 'db' | 'clock' | 'bus' | 'callbacks'>,
  tx: Orm,
  es: readonly EventInput[],
): Promise<number[]> {
  if (es.length === 0) return []
  if (deps.db.dialect === 'pg') await deps.db.execute(sql`select pg_advisory_xact_lock(${EVENTS_LOCK})`, tx)
  const createdAt = deps.clock.now()
  const ids: number[] = []
  for (let i = 0; i < es.length; i += INSERT_CHUNK) {
    const rows = await tx
      .insert(deps.db.t.events)
      .values(
        es.slice(i, i + INSERT_CHUNK).map((e) => ({
          workspaceId: e.workspaceId,
          type: e.type,
          agentId: e.agentId ?? null,
          peerAgentId: e.peerAgentId ?? null,
          payloadId: e.payloadId ?? null,
          data: e.data,
          createdAt,
        })),
      )
      .returning({ id: deps.db.t.events.id })
    // RETURNING promises no order; the ids were taken in the VALUES' order.
    ids.push(...rows.map((r) => r.id).sort((a, b) => a - b))
  }
  const stored = es.map((e, i) => ({
    id: ids[i]!,
    workspaceId: e.workspaceId,
    type: e.type,
    agentId: e.agentId ?? null,
    peerAgentId: e.peerAgentId ?? null,
    // The same frame the stream reads: a stored-once payload is its `data.payload`.
    data: e.payloadId ? { ...e.data, payload: e.payload ?? null } : e.data,
    createdAt,
  }))
  await enqueueAgentWebhooks(deps, tx, stored)
  deps.db.onCommit(() => {
    for (const e of stored)
      deps.bus.publish('events', {
        workspaceId: e.workspaceId,
        id: e.id,
        agentId: e.agentId,
        peerAgentId: e.peerAgentId,
      })
  })
  return ids
}
