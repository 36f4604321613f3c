import { eq } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { CacheStats, setBounded } from '../../lib/cache-stats'
import { isPermanentId } from '../../lib/ids'
import { credentialContext } from '../agents/register'
import type { RouteAgent } from './routing'

export type RouteConnection = {
  id: string
  workspaceId: string
  agentId: string
  targetWorkspaceId: string
  targetAgentId: string
  status: 'active' | 'pending' | 'declined'
}

const TTL_MS = 60_000

/**
 * The forwarding engine's read model of agents and connections, cached in memory with the
 * endpoint credential already unsealed. Built once at start-up (server.ts) and stopped on
 * shutdown. It listens for what changed, from this process or another instance:
 * - `route.changed` (an agent's or a connection's row) evicts that entry;
 * - `presence.changed` sets the cached presence in place (fallback routing reads it) without
 *   reloading the row or unsealing the credential again;
 * - `agent.deleted` evicts the agent and every cached connection it is an end of;
 * - `caches.stale` (this instance may have missed notes) forgets everything.
 * The TTL bounds anything a lost note would leave stale.
 */
export class RouteDirectory {
  private agents = new Map<string, { at: number; value: RouteAgent | null }>()
  private connections = new Map<string, { at: number; value: RouteConnection | null }>()
  /** Permanent id → row id: a permanent id never changes, so only hits are kept. */
  private permanentIds = new Map<string, string>()
  /** Bumped on every eviction: a load that raced one must not be cached. */
  private versions = new Map<string, number>()
  private readonly unsubscribe: (() => void)[]
  readonly stats = { agents: new CacheStats(), connections: new CacheStats() }

  /** Entries each map may hold (SWITCHBOARD_CACHE_MAX_ENTRIES); the oldest go first. */
  private readonly max: number

  constructor(private readonly deps: Pick<Deps, 'db' | 'sealer' | 'bus' | 'log' | 'config'>) {
    this.max = deps.config.cacheMaxEntries
    this.unsubscribe = [
      deps.bus.subscribe('route.changed', (note) => {
        for (const id of [note.agentId, note.connectionId]) if (id) this.evict(id)
      }),
      deps.bus.subscribe('presence.changed', (note) => {
        const hit = this.agents.get(note.agentId)
        this.evict(note.agentId)
        if (hit?.value)
          this.agents.set(note.agentId, { at: hit.at, value: { ...hit.value, presence: note.presence } })
      }),
      deps.bus.subscribe('agent.deleted', ({ agentId }) => {
        this.evict(agentId)
        for (const [id, hit] of this.connections)
          if (hit.value && (hit.value.agentId === agentId || hit.value.targetAgentId === agentId))
            this.evict(id)
      }),
      deps.bus.subscribe('caches.stale', () => {
        for (const id of [...this.agents.keys(), ...this.connections.keys()]) this.evict(id)
        this.permanentIds.clear()
      }),
    ]
  }

  stop() {
    for (const off of this.unsubscribe) off()
    this.agents.clear()
    this.connections.clear()
  }

  /** Entries held: agents and connections. */
  get sizes() {
    return { agents: this.agents.size, connections: this.connections.size }
  }

  agent(id: string): Promise<RouteAgent | null> {
    return this.cached(this.agents, this.stats.agents, id, () =>
      this.loadAgent(eq(this.deps.db.t.agents.id, id)),
    )
  }

  /** An agent by its permanent id (the relays' address); null for an unknown or malformed one. */
  async agentByPermanentId(permanentId: string): Promise<RouteAgent | null> {
    if (!isPermanentId(permanentId)) return null
    const known = this.permanentIds.get(permanentId)
    if (known) return this.agent(known)
    const found = await this.loadAgent(eq(this.deps.db.t.agents.permanentId, permanentId))
    if (!found) return null
    setBounded(this.permanentIds, permanentId, found.id, this.max, null)
    return this.agent(found.id)
  }

  connection(id: string): Promise<RouteConnection | null> {
    return this.cached(this.connections, this.stats.connections, id, async () => {
      const { connections: c } = this.deps.db.t
      const [row] = await this.deps.db.orm
        .select({
          id: c.id,
          workspaceId: c.workspaceId,
          agentId: c.agentId,
          targetWorkspaceId: c.targetWorkspaceId,
          targetAgentId: c.targetAgentId,
          status: c.status,
        })
        .from(c)
        .where(eq(c.id, id))
        .limit(1)
      return row ?? null
    })
  }

  private evict(id: string) {
    this.agents.delete(id)
    this.connections.delete(id)
    setBounded(this.versions, id, (this.versions.get(id) ?? 0) + 1, this.max, null)
  }

  private async cached<T>(
    map: Map<string, { at: number; value: T }>,
    stats: CacheStats,
    id: string,
    load: () => Promise<T>,
  ): Promise<T> {
    const hit = map.get(id)
    if (hit && Date.now() - hit.at < TTL_MS) {
      stats.hits++
      return hit.value
    }
    stats.misses++
    const version = this.versions.get(id)
    const value = await load()
    if (this.versions.get(id) === version) {
      setBounded(map, id, { at: Date.now(), value }, this.max, stats)
    }
    return value
  }

  private async loadAgent(where: ReturnType<typeof eq>): Promise<RouteAgent | null> {
    const { agents: a } = this.deps.db.t
    const [row] = await this.deps.db.orm
      .select({
        id: a.id,
        permanentId: a.permanentId,
        workspaceId: a.workspaceId,
        status: a.status,
        archived: a.archived,
        presence: a.presence,
        endpointUrl: a.endpointUrl,
        protocols: a.protocols,
        fallbackAgentId: a.fallbackAgentId,
        externalInvocation: a.externalInvocation,
        sealed: a.endpointCredential,
        header: a.endpointAuthHeader,
      })
      .from(a)
      .where(where)
      .limit(1)
    if (!row) return null
    const { sealed, header, ...rest } = row
    let credential: RouteAgent['credential'] = null
    if (sealed) {
      try {
        const secret = this.deps.sealer.open(sealed, credentialContext(row.id))
        const name = header ?? 'authorization'
        credential = { name, value: name.toLowerCase() === 'authorization' ? `Bearer ${secret}` : secret }
      } catch (e) {
        // A credential that no configured master key opens is not sent, and said so in the log.
        this.deps.log.error('endpoint credential could not be unsealed', { agentId: row.id, error: e })
      }
    }
    return { ...rest, credential }
  }
}
