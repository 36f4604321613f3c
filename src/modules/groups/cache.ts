import type { Deps } from '../../deps'
import type { InvalidateNote } from '../events/bus'

const TTL_MS = 60_000
const MAX = 20_000

/**
 * What a lane needs to know about a group or pool, cached in memory by id. Every write to
 * one publishes an `invalidate` note (from this process or, with a shared bus, another
 * instance) that evicts it; the TTL bounds anything missed. A load that was in flight when
 * a note arrived is not stored, so a stale answer cannot outlive the note.
 */
export class LaneCache<V> {
  private entries = new Map<string, { at: number; value: V }>()
  private generation = 0

  constructor(
    deps: Pick<Deps, 'bus'>,
    keyOf: (note: InvalidateNote) => string | undefined,
    /** Whether a cached value names this agent (a member, an allowed caller). */
    mentions: (value: V, agentId: string) => boolean,
  ) {
    deps.bus.subscribe('invalidate', (note) => {
      if (note.everything) {
        this.entries.clear()
        this.generation++
        return
      }
      // A deleted agent must not stay reachable through a group or pool cached before.
      if (note.agentDeleted) {
        for (const [key, hit] of this.entries)
          if (mentions(hit.value, note.agentDeleted)) this.entries.delete(key)
        this.generation++
      }
      const key = keyOf(note)
      if (key === undefined) return
      this.entries.delete(key)
      this.generation++
    })
  }

  async get(id: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(id)
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value
    const generation = this.generation
    const value = await load()
    if (generation === this.generation) {
      if (this.entries.size >= MAX) this.entries.clear()
      this.entries.set(id, { at: Date.now(), value })
    }
    return value
  }
}

/** One cache per running app and kind, like the route directory. */
export function cacheFor<V>(
  registry: WeakMap<Deps, LaneCache<V>>,
  deps: Deps,
  keyOf: (note: InvalidateNote) => string | undefined,
  mentions: (value: V, agentId: string) => boolean,
): LaneCache<V> {
  let c = registry.get(deps)
  if (!c) {
    c = new LaneCache<V>(deps, keyOf, mentions)
    registry.set(deps, c)
  }
  return c
}
