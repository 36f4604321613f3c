import { timingSafeEqual } from 'node:crypto'
import { and, eq, isNull } from 'drizzle-orm'
import type { Config } from '../../config'
import type { Database } from '../../db'
import { CacheStats, setBounded } from '../../lib/cache-stats'
import type { Clock } from '../../lib/clock'
import { safeEqual } from '../../lib/crypto'
import type { EventBus } from '../events/bus'
import type { Actor, AgentActor, WorkspaceActor } from './actor'
import { classifySecret, hashSecret } from './format'

type Entry = { actor: WorkspaceActor | AgentActor; expiresAt: number | null; cachedAt: number }

const ownerOf = (actor: WorkspaceActor | AgentActor) => (actor.kind === 'agent' ? actor.agentId : actor.keyId)

/**
 * Resolves a presented secret to an actor. This runs on every authenticated request, so:
 * the shape and checksum are checked before any query, positive answers are cached by the
 * secret's hash for a short time, and every change that could end a credential (revoke,
 * rotate, deactivate, archive, delete) evicts the cache entries it affects at once, by a
 * `credential.ended` note on the bus.
 */
export class CredentialResolver {
  private cache = new Map<string, Entry>()
  private byOwner = new Map<string, Set<string>>()
  private readonly adminHash: Buffer | null
  private readonly unsubscribe: (() => void)[]
  readonly stats = new CacheStats()

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Pick<Config, 'adminToken' | 'tokenCacheMs' | 'cacheMaxEntries'>,
    bus: EventBus,
  ) {
    this.adminHash = config.adminToken ? Buffer.from(hashSecret(config.adminToken), 'hex') : null
    // Notes arrive from this process and, on Postgres, from the other instances.
    this.unsubscribe = [
      bus.subscribe('credential.ended', (note) => {
        if (note.agentId) this.evictOwner(note.agentId)
        if (note.keyId) this.evictOwner(note.keyId)
      }),
      bus.subscribe('agent.deleted', (note) => this.evictOwner(note.agentId)),
      bus.subscribe('caches.stale', () => this.clear()),
    ]
  }

  async resolve(secret: string): Promise<Actor | null> {
    const hash = hashSecret(secret)
    if (this.adminHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.adminHash)) return { kind: 'admin' }
    const now = this.clock.now().getTime()
    // Only credentials that passed the checksum and the database are cached.
    const hit = this.cache.get(hash)
    if (hit && now - hit.cachedAt < this.config.tokenCacheMs) {
      this.stats.hits++
      if (hit.expiresAt !== null && hit.expiresAt <= now) return null
      return hit.actor
    }
    const kind = classifySecret(secret)
    if (kind === 'invalid') return null
    this.stats.misses++
    const found = kind === 'workspace' ? await this.lookupKey(hash) : await this.lookupAgentToken(hash)
    if (!found) return null
    if (found.expiresAt !== null && found.expiresAt <= now) return null
    this.remember(hash, found, now)
    return found.actor
  }

  /** Stops listening for ended credentials (shutdown). */
  stop() {
    for (const off of this.unsubscribe) off()
  }

  clear() {
    this.cache.clear()
    this.byOwner.clear()
  }

  get size() {
    return this.cache.size
  }

  private remember(hash: string, found: Omit<Entry, 'cachedAt'>, now: number) {
    if (this.config.tokenCacheMs === 0) return
    // Bounded (SWITCHBOARD_CACHE_MAX_ENTRIES): a flood of distinct valid credentials cannot grow
    // memory without limit, and the oldest go first.
    const owner = ownerOf(found.actor)
    setBounded(
      this.cache,
      hash,
      { ...found, cachedAt: now },
      this.config.cacheMaxEntries,
      this.stats,
      (h, e) => {
        const owned = this.byOwner.get(ownerOf(e.actor))
        owned?.delete(h)
        if (owned?.size === 0) this.byOwner.delete(ownerOf(e.actor))
      },
    )
    let set = this.byOwner.get(owner)
    if (!set) {
      set = new Set()
      this.byOwner.set(owner, set)
    }
    set.add(hash)
  }

  private evictOwner(owner: string) {
    const set = this.byOwner.get(owner)
    if (!set) return
    for (const h of set) this.cache.delete(h)
    this.byOwner.delete(owner)
  }

  private async lookupKey(hash: string): Promise<Omit<Entry, 'cachedAt'> | null> {
    const { workspaceKeys: k } = this.db.t
    const [row] = await this.db.orm
      .select({
        id: k.id,
        workspaceId: k.workspaceId,
        prefix: k.prefix,
        hash: k.hash,
        expiresAt: k.expiresAt,
      })
      .from(k)
      .where(and(eq(k.hash, hash), isNull(k.revokedAt)))
      .limit(1)
    if (!row || !safeEqual(row.hash, hash)) return null
    return {
      actor: { kind: 'workspace', workspaceId: row.workspaceId, keyId: row.id, keyPrefix: row.prefix },
      expiresAt: row.expiresAt?.getTime() ?? null,
    }
  }

  private async lookupAgentToken(hash: string): Promise<Omit<Entry, 'cachedAt'> | null> {
    const { agentTokens: t, agents: a } = this.db.t
    const [row] = await this.db.orm
      .select({
        tokenId: t.id,
        prefix: t.prefix,
        hash: t.hash,
        expiresAt: t.expiresAt,
        agentId: a.id,
        workspaceId: a.workspaceId,
        permanentId: a.permanentId,
        status: a.status,
        archived: a.archived,
      })
      .from(t)
      .innerJoin(a, eq(a.id, t.agentId))
      .where(and(eq(t.hash, hash), isNull(t.revokedAt)))
      .limit(1)
    if (!row || !safeEqual(row.hash, hash) || row.status !== 'active' || row.archived) return null
    return {
      actor: {
        kind: 'agent',
        workspaceId: row.workspaceId,
        agentId: row.agentId,
        permanentId: row.permanentId,
        tokenId: row.tokenId,
        tokenPrefix: row.prefix,
      },
      expiresAt: row.expiresAt?.getTime() ?? null,
    }
  }
}
