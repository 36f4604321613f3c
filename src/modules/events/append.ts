import { sql } from 'drizzle-orm'
import type { Orm } from '../../db'
import type { JsonObject } from '../../db/schema/types'
import type { Deps } from '../../deps'

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
  data: JsonObject
}

/** Serialises event-writing transactions on Postgres so ids commit in id order. */
const EVENTS_LOCK = 7_361_120_002

/**
 * Appends an event in the caller's transaction; listeners are told after it commits.
 * On Postgres a transaction-scoped advisory lock makes commits happen in id order, so a
 * reader that has seen id N can never later find a smaller id appear: the cursor only grows.
 */
export async function appendEvent(
  deps: Pick<Deps, 'db' | 'clock' | 'bus'>,
  tx: Orm,
  e: EventInput,
): Promise<number> {
  if (deps.db.dialect === 'pg') await deps.db.execute(sql`select pg_advisory_xact_lock(${EVENTS_LOCK})`, tx)
  const [row] = await tx
    .insert(deps.db.t.events)
    .values({
      workspaceId: e.workspaceId,
      type: e.type,
      agentId: e.agentId ?? null,
      peerAgentId: e.peerAgentId ?? null,
      payloadId: e.payloadId ?? null,
      data: e.data,
      createdAt: deps.clock.now(),
    })
    .returning({ id: deps.db.t.events.id })
  const id = row!.id
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
