import type { PoolStrategy } from '../../db/schema/types'

/** What ordering needs to know about a pool member. `createdAt` is the membership's age (ms). */
export type Orderable = { id: string; priority: number; createdAt: number }

/** Oldest membership first; the id (UUIDv7) breaks ties between memberships of the same millisecond. */
export function byAge<T extends Orderable>(a: T, b: T): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/** failover: lowest priority number first; equal priorities by membership age. */
export function failoverOrder<T extends Orderable>(members: readonly T[]): T[] {
  return [...members].sort((a, b) => a.priority - b.priority || byAge(a, b))
}

/** round_robin: the members by age, rotated by the turn, so consecutive turns start one member further on. */
export function roundRobinOrder<T extends Orderable>(members: readonly T[], turn: number): T[] {
  const sorted = [...members].sort(byAge)
  if (sorted.length === 0) return sorted
  const start = ((turn % sorted.length) + sorted.length) % sorted.length
  return [...sorted.slice(start), ...sorted.slice(0, start)]
}

/** random: a uniform shuffle (Fisher–Yates) drawn from `random` ∈ [0, 1). */
export function randomOrder<T>(members: readonly T[], random: () => number): T[] {
  const out = [...members]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

export type Pick = { turn: number; random: () => number }

export function strategyOrder<T extends Orderable>(
  strategy: PoolStrategy,
  members: readonly T[],
  pick: Pick,
): T[] {
  switch (strategy) {
    case 'failover':
      return failoverOrder(members)
    case 'round_robin':
      return roundRobinOrder(members, pick.turn)
    case 'random':
      return randomOrder(members, pick.random)
  }
}

/**
 * The order a pool call tries its members in. Members that should not be asked first — offline
 * without a valid fallback, or ejected by passive health — go to the back, never out: when every
 * other member has failed they are still tried. Each part is ordered by the strategy on its own,
 * so round_robin spreads evenly over the members that can take calls.
 */
export function arrange<T extends Orderable>(
  strategy: PoolStrategy,
  members: readonly T[],
  atBack: (m: T) => boolean,
  pick: Pick,
): T[] {
  const front = members.filter((m) => !atBack(m))
  const back = members.filter(atBack)
  return [...strategyOrder(strategy, front, pick), ...strategyOrder(strategy, back, pick)]
}
