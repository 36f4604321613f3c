/**
 * Notes between the parts of Switchboard (and, on Postgres, between instances): "events
 * up to id N exist", "forget this cached credential". Payloads are small hints; the
 * database stays the source of truth, so a missed note costs latency, never data.
 */
export type BusTopic = 'events' | 'invalidate'
export type EventNote = {
  workspaceId: string
  id: number
  agentId: string | null
  peerAgentId: string | null
}
/** Something changed that caches keyed by these ids must forget (credentials, routes). */
export type InvalidateNote = {
  agentId?: string
  keyId?: string
  connectionId?: string
  groupId?: string
  poolId?: string
  /**
   * This agent was deleted: every entry that names it anywhere (a connection's end, a group's
   * member, a pool's member) goes too, not only the entries keyed by its id.
   */
  agentDeleted?: string
  /** Forget everything cached: notes may have been missed (the bus was disconnected). */
  everything?: true
}
export type BusPayload<T extends BusTopic> = T extends 'events' ? EventNote : InvalidateNote

export interface EventBus {
  publish<T extends BusTopic>(topic: T, payload: BusPayload<T>): void
  /**
   * Publishes an invalidation and resolves once every instance has acted on it: this one at
   * once; with several instances, each one sharing the bus acknowledges it (or the wait ends
   * after a bound, logged). For changes whose answer must mean "gone everywhere".
   */
  publishConfirmed(topic: 'invalidate', payload: InvalidateNote): Promise<void>
  subscribe<T extends BusTopic>(topic: T, fn: (payload: BusPayload<T>) => void): () => void
  close(): Promise<void>
}

/** One process: notes are delivered synchronously to local subscribers. */
export class LocalBus implements EventBus {
  protected handlers = new Map<BusTopic, Set<(p: never) => void>>()

  publish<T extends BusTopic>(topic: T, payload: BusPayload<T>) {
    this.deliver(topic, payload)
  }

  async publishConfirmed(topic: 'invalidate', payload: InvalidateNote) {
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
