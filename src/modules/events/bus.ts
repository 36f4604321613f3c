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

/**
 * An agent was deleted: every cache entry that names it anywhere goes — a connection it is an
 * end of, a group or pool it is a member or allowed caller of — not only those keyed by its id.
 */
export type AgentDeletedNote = { agentId: string }

/**
 * This instance may have missed notes (its listen connection broke and came back): every cache
 * forgets everything it holds. Only ever delivered locally.
 */
export type CachesStaleNote = Record<string, never>

export type BusNotes = {
  events: EventNote
  'credential.ended': CredentialEndedNote
  'route.changed': RouteChangedNote
  'presence.changed': PresenceChangedNote
  'agent.deleted': AgentDeletedNote
  'caches.stale': CachesStaleNote
}
export type BusTopic = keyof BusNotes
export type BusPayload<T extends BusTopic> = BusNotes[T]
/** The topics that travel between instances ('caches.stale' is each instance's own). */
export const BUS_TOPICS: readonly BusTopic[] = [
  'events',
  'credential.ended',
  'route.changed',
  'presence.changed',
  'agent.deleted',
]

export interface EventBus {
  publish<T extends BusTopic>(topic: T, payload: BusPayload<T>): void
  /**
   * Publishes a note and resolves once every instance has acted on it: this one at once; with
   * several instances, each one listening on the bus acknowledges it (the wait ends after a
   * bound, logged). For changes whose answer must mean "gone everywhere".
   */
  publishConfirmed<T extends BusTopic>(topic: T, payload: BusPayload<T>): Promise<void>
  subscribe<T extends BusTopic>(topic: T, fn: (payload: BusPayload<T>) => void): () => void
  close(): Promise<void>
}

/** One process: notes are delivered synchronously to local subscribers. */
export class LocalBus implements EventBus {
  protected handlers = new Map<BusTopic, Set<(p: never) => void>>()

  publish<T extends BusTopic>(topic: T, payload: BusPayload<T>) {
    this.deliver(topic, payload)
  }

  async publishConfirmed<T extends BusTopic>(topic: T, payload: BusPayload<T>) {
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
