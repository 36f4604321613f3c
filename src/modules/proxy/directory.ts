import { eq } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { credentialContext } from '../agents/register'
import type { RouteAgent } from './routing'

type ConnectionLite = {
  id: string
  workspaceId: string
  agentId: string
  targetWorkspaceId: string
  targetAgentId: string
  status: 'active' | 'pending' | 'declined'
}

const TTL_MS = 60_000
const MAX = 50_000

/**
 * The proxy hot path's view of agents and connections, cached in memory with the endpoint
 * credential already unsealed. Every change that could alter a route (agent update,
 * presence change, connection change) arrives as an `invalidate` note on the bus — from
 * this process or another instance — and evicts the entry; the TTL bounds anything missed.
 */
export class RouteDirectory {
  private agents = new Map<string, { at: number; value: RouteAgent | null }>()
  private connections = new Map<string, { at: number; value: ConnectionLite | null }>()
  /** Bumped on every invalidation: a load that raced one must not be cached. */
  private versions = new Map<string, number>()

  constructor(private readonly deps: Pick<Deps, 'db' | 'sealer' | 'bus' | 'log'>) {
    deps.bus.subscribe('invalidate', (note) => {
      if (note.everything) {
        for (const id of [...this.agents.keys(), ...this.connections.keys()]) this.bump(id)
        this.agents.clear()
        this.connections.clear()
        return
      }
      for (const id of [note.agentId, note.agentDeleted, note.connectionId]) {
        if (!id) continue
        this.agents.delete(id)
        this.connections.delete(id)
        this.bump(id)
      }
      // A deleted agent's connections went with it (cascade): none may route to it again.
      if (note.agentDeleted) {
        for (const [id, hit] of this.connections) {
          const c = hit.value
          if (c && (c.agentId === note.agentDeleted || c.targetAgentId === note.agentDeleted)) {
            this.connections.delete(id)
            this.bump(id)
          }
        }
      }
    })
  }

  private bump(id: string) {
    if (this.versions.size >= MAX) this.versions.clear()
    this.versions.set(id, (this.versions.get(id) ?? 0) + 1)
  }

  agent(id: string): Promise<RouteAgent | null> {
    return this.cached(this.agents, id, () => this.loadAgent(id))
  }

  connection(id: string): Promise<ConnectionLite | null> {
    return this.cached(this.connections, id, async () => {
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

  private async cached<T>(
    map: Map<string, { at: number; value: T }>,
    id: string,
    load: () => Promise<T>,
  ): Promise<T> {
    const hit = map.get(id)
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value
    const version = this.versions.get(id)
    const value = await load()
    if (this.versions.get(id) === version) {
      if (map.size >= MAX) map.clear()
      map.set(id, { at: Date.now(), value })
    }
    return value
  }

  private async loadAgent(id: string): Promise<RouteAgent | null> {
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
        sealed: a.endpointCredential,
        header: a.endpointAuthHeader,
      })
      .from(a)
      .where(eq(a.id, id))
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
