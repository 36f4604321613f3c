import { eq } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { CacheStats } from '../../lib/cache-stats'
import { isPermanentId } from '../../lib/ids'
import { credentialContext } from '../agents/register'
import type { RouteAgent } from './routing'

export type RouteConnection = {
  id: string
  agentId: string
  targetAgentId: string
  status: 'active' | 'pending' | 'declined'
}

const TTL_MS = 60_000
const MAX = 50_000

/**
 * The forwarding engine's read model of agents and connections, cached in memory with the
 * endpoint credential already unsealed. Built once at start-up (server.ts) and stopped on
 * shutdown. It listens for what changed, from this process or another instance:
 * - `route.changed` (an agent's or a connection's row) evicts that entry;
 * - `presence.changed` sets the cached presence in place (fallback routing reads it) without
 *   reloading the row or unsealing the credential again.
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

  constructor(private readonly deps: Pick<Deps, 'db' | 'sealer' | 'bus' | 'log'>) {
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
    if (this.permanentIds.size >= MAX) this.permanentIds.clear()
    this.permanentIds.set(permanentId, found.id)
    return this.agent(found.id)
  }

  connection(id: string): Promise<RouteConnection | null> {
    return this.cached(this.connections, this.stats.connections, id, async () => {
      const { connections: c } = this.deps.db.t
      const [row] = await this.deps.db.orm
        .select({ id: c.id, agentId: c.agentId, targetAgentId: c.targetAgentId, status: c.status })
        .from(c)
        .where(eq(c.id, id))
        .limit(1)
      return row ?? null
    })
  }

  private evict(id: string) {
    this.agents.delete(id)
    this.connections.delete(id)
    if (this.versions.size >= MAX) this.versions.clear()
    this.versions.set(id, (this.versions.get(id) ?? 0) + 1)
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
      if (map.size >= MAX) map.clear()
      map.set(id, { at: Date.now(), value })
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
