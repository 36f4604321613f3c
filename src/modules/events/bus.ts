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
}
export type BusPayload<T extends BusTopic> = T extends 'events' ? EventNote : InvalidateNote

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
