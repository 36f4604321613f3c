import type { Deps } from '../../deps'
import { PassiveHealth } from './health'
import type { Pick } from './order'

/**
 * A pool's in-memory state on this instance: the round-robin turn and passive health.
 * Neither is shared between instances; each spreads and ejects by what it sees itself.
 * Built once at start-up (server.ts); the pool lane and the pool views read it.
 */
export class PoolRuntime {
  readonly health: PassiveHealth
  private turns = new Map<string, number>()

  constructor(config: Deps['config']) {
    this.health = new PassiveHealth(config.poolEjection.failures, config.poolEjection.ms)
  }

  /** The next turn for a pool: taken synchronously, so concurrent callers each get their own. */
  pick(poolId: string): Pick {
    const turn = this.turns.get(poolId) ?? 0
    if (this.turns.size >= 100_000 && turn === 0) this.turns.clear()
    this.turns.set(poolId, turn + 1)
    return { turn, random: Math.random }
  }
}
