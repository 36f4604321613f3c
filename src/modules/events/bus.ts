import type { Presence } from '../../db/schema/types'

/**
 * Notes between the parts of Switchboard (and, on Postgres, between instances): "events
 * up to id N exist", and what changed — so each cache evicts exactly what it holds. Payloads
 * are small hints; the database stays the source of truth, so a missed note costs latency,
 * never data.
 */
export type EventNote = {
  workspaceId: string
  id: number
  agentId: string | null
  peerAgentId: string | null
}

/**
 * A credential stopped being valid: a key revoked, a token rotated, an agent deactivated,
 * archived or deleted. Credential caches evict the owner; live sockets of it are re-checked.
 */
export type CredentialEndedNote = { agentId?: string; keyId?: string }

/**
 * Something a route is made of changed: an agent's endpoint, protocols, credential, status
 * or fallback; a connection; a broadcast group's or a pool's members. Route caches evict it.
 */
export type RouteChangedNote = { agentId?: string; connectionId?: string; groupId?: string; poolId?: string }

/** An agent's presence was decided anew (fallback routing reads it; heartbeats coalesce on it). */
export type PresenceChangedNote = { agentId: string; presence: Presence }

export type BusNotes = {
  events: EventNote
  'credential.ended': CredentialEndedNote
  'route.changed': RouteChangedNote
  'presence.changed': PresenceChangedNote
}
export type BusTopic = keyof BusNotes
export type BusPayload<T extends BusTopic> = BusNotes[T]
export const BUS_TOPICS: readonly BusTopic[] = [
  'events',
  'credential.ended',
  'route.changed',
  'presence.changed',
]

export interface EventBus {
  publish<T extends BusTopic>(topic: T, payload: BusPayload<T>): void
  subscribe<T extends BusTopic>(topic: T, fn: (payload: BusPayload<T>) => void): () => void
  close(): Promise<void>
}

/** One process: notes are delivered synchronously to local subscribers. */
export class LocalBus implements EventBus {
  protected handlers = new Map<BusTopic, Set<(p: never) => void>>()

  publish<T extends BusTopic>(topic: T, payload: BusPayload<T>) {
    this.deliver(topic, payload)
  }

  subscribe<T extends BusTopic>(topic: T, fn: (payload: BusPayload<T>) => void) {
    let set = this.handlers.get(topic)
    if (!set) {
      set = new Set()
      this.handlers.set(topic, set)
    }
    set.add(fn as (p: never) => void)
    return () => {
      set.delete(fn as (p: never) => void)
    }
  }

  protected deliver<T extends BusTopic>(topic: T, payload: BusPayload<T>) {
    for (const fn of this.handlers.get(topic) ?? []) {
      try {
        ;(fn as (p: BusPayload<T>) => void)(payload)
      } catch (e) {
        console.error('bus subscriber failed', e)
      }
    }
  }

  async close() {
    this.handlers.clear()
  }
}
