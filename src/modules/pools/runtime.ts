import type { Deps } from '../../deps'
import type { Counter } from '../../lib/metrics'
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
  private readonly ejections: Counter

  constructor(config: Deps['config'], metrics: Deps['metrics']) {
    this.health = new PassiveHealth(config.poolEjection.failures, config.poolEjection.ms)
    this.ejections = metrics.counter(
      'switchboard_pool_ejections_total',
      'Pool members ejected by passive health (consecutive failures)',
    )
    this.ejections.series()
    metrics.gauge('switchboard_pool_members_ejected', 'Pool members ejected now, on this instance', () => [
      [{}, this.health.ejectedCount(Date.now())],
    ])
  }

  /** A member failed a call; counted when it ejects the member. */
  failure(memberId: string, now: number) {
    if (this.health.failure(memberId, now)) this.ejections.inc()
  }

  /** The next turn for a pool: taken synchronously, so concurrent callers each get their own. */
  pick(poolId: string): Pick {
    const turn = this.turns.get(poolId) ?? 0
    if (this.turns.size >= 100_000 && turn === 0) this.turns.clear()
    this.turns.set(poolId, turn + 1)
    return { turn, random: Math.random }
  }
}
