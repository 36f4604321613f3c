import { CacheStats } from '../../lib/cache-stats'
import type { EventBus, RouteChangedNote } from '../events/bus'

const TTL_MS = 60_000
const MAX = 20_000

/**
 * What a lane needs to know about a group or pool, cached in memory by id. Built once at
 * start-up (server.ts) and stopped on shutdown. Every write to one publishes a
 * `route.changed` note (from this process or, with a shared bus, another instance) that
 * evicts it; the TTL bounds anything missed. A load that was in flight when a note arrived
 * is not stored, so a stale answer cannot outlive the note.
 */
export class LaneCache<V> {
  private entries = new Map<string, { at: number; value: V }>()
  private generation = 0
  private readonly unsubscribe: () => void
  readonly stats = new CacheStats()

  constructor(bus: EventBus, keyOf: (note: RouteChangedNote) => string | undefined) {
    this.unsubscribe = bus.subscribe('route.changed', (note) => {
      const key = keyOf(note)
      if (key === undefined) return
      this.entries.delete(key)
      this.generation++
    })
  }

  async get(id: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(id)
    if (hit && Date.now() - hit.at < TTL_MS) {
      this.stats.hits++
      return hit.value
    }
    this.stats.misses++
    const generation = this.generation
    const value = await load()
    if (generation === this.generation) {
      if (this.entries.size >= MAX) this.entries.clear()
      this.entries.set(id, { at: Date.now(), value })
    }
    return value
  }

  get size() {
    return this.entries.size
  }

  stop() {
    this.unsubscribe()
    this.entries.clear()
  }
}
