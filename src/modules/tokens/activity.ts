import type { Database } from '../../db'
import { restore, writeTimes } from '../../db/touch'
import type { Clock } from '../../lib/clock'
import type { Logger } from '../../lib/log'

/**
 * `lastActiveAt` of agents and `lastUsedAt` of workspace keys follow every authenticated
 * call, but writing a row per request would put a write on every hot path. Touches are
 * kept in memory and flushed in one transaction every few seconds (and on shutdown).
 */
export class ActivityTracker {
  private agents = new Map<string, Date>()
  private keys = new Map<string, Date>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  touchAgent(agentId: string) {
    this.agents.set(agentId, this.clock.now())
  }

  touchKey(keyId: string) {
    this.keys.set(keyId, this.clock.now())
  }

  /** The freshest known activity, including touches not yet flushed (or whose flush failed). */
  lastActive(agentId: string): Date | undefined {
    return this.agents.get(agentId)
  }

  start(intervalMs: number) {
    this.timer = setInterval(() => {
      this.flush().catch((e) => this.log.error('activity flush failed', { error: e }))
    }, intervalMs)
    this.timer.unref?.()
  }

  async stop() {
    if (this.timer) clearInterval(this.timer)
    await this.flush()
  }

  async flush() {
    if (this.agents.size === 0 && this.keys.size === 0) return
    const agents = this.agents
    const keys = this.keys
    this.agents = new Map()
    this.keys = new Map()
    const { agents: a, workspaceKeys: k } = this.db.t
    // Each in id order (no deadlock with heartbeats or another instance); one that fails is
    // kept for the next flush beside what was touched since.
    try {
      await writeTimes(this.db, a, a.lastActiveAt, agents, true)
    } catch (e) {
      restore(this.agents, agents)
      restore(this.keys, keys)
      throw e
    }
    try {
      await writeTimes(this.db, k, k.lastUsedAt, keys, true)
    } catch (e) {
      restore(this.keys, keys)
      throw e
    }
  }
}
