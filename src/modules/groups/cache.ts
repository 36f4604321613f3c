import { CacheStats, setBounded } from '../../lib/cache-stats'
import type { EventBus, RouteChangedNote } from '../events/bus'

const TTL_MS = 60_000

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
  private readonly unsubscribe: (() => void)[]
  readonly stats = new CacheStats()

  constructor(
    bus: EventBus,
    keyOf: (note: RouteChangedNote) => string | undefined,
    /** Whether a cached value names this agent (a member, an allowed caller). */
    mentions: (value: V, agentId: string) => boolean,
    /** Entries it may hold (SWITCHBOARD_CACHE_MAX_ENTRIES); the oldest go first. */
    private readonly max: number,
  ) {
    this.unsubscribe = [
      bus.subscribe('route.changed', (note) => {
        const key = keyOf(note)
        if (key === undefined) return
        this.entries.delete(key)
        this.generation++
      }),
      // A deleted agent must not stay reachable through a group or pool cached before.
      bus.subscribe('agent.deleted', (note) => {
        for (const [key, hit] of this.entries) if (mentions(hit.value, note.agentId)) this.entries.delete(key)
        this.generation++
      }),
      bus.subscribe('caches.stale', () => {
        this.entries.clear()
        this.generation++
      }),
    ]
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
      setBounded(this.entries, id, { at: Date.now(), value }, this.max, this.stats)
    }
    return value
  }

  get size() {
    return this.entries.size
  }

  stop() {
    for (const off of this.unsubscribe) off()
    this.entries.clear()
  }
}
