import { describe, expect, test } from 'bun:test'
import { PassiveHealth } from '../../src/modules/pools/health'
import {
  arrange,
  failoverOrder,
  type Orderable,
  randomOrder,
  roundRobinOrder,
  strategyOrder,
} from '../../src/modules/pools/order'

const m = (id: string, priority = 0, createdAt = 0): Orderable => ({ id, priority, createdAt })
const ids = (xs: Orderable[]) => xs.map((x) => x.id)

/** A deterministic source of [0, 1) for the random strategy. */
function seeded(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0
    return s / 2 ** 32
  }
}

describe('failover order', () => {
  test('lowest priority number first; ties by membership age, then id', () => {
    const members = [m('c', 2, 1), m('a', 1, 5), m('b', 1, 3), m('d', 0, 9), m('f', 1, 3), m('e', 1, 3)]
    expect(ids(failoverOrder(members))).toEqual(['d', 'b', 'e', 'f', 'a', 'c'])
  })

  test('does not touch its input', () => {
    const members = [m('b', 2), m('a', 1)]
    failoverOrder(members)
    expect(ids(members)).toEqual(['b', 'a'])
  })
})

describe('round_robin order', () => {
  const members = [m('c', 0, 3), m('a', 0, 1), m('b', 0, 2)]

  test('members by age, rotated one further each turn, wrapping around', () => {
    expect(ids(roundRobinOrder(members, 0))).toEqual(['a', 'b', 'c'])
    expect(ids(roundRobinOrder(members, 1))).toEqual(['b', 'c', 'a'])
    expect(ids(roundRobinOrder(members, 2))).toEqual(['c', 'a', 'b'])
    expect(ids(roundRobinOrder(members, 3))).toEqual(['a', 'b', 'c'])
    expect(ids(roundRobinOrder(members, 3_000_000_001))).toEqual(['b', 'c', 'a'])
  })

  test('priority is ignored; consecutive turns spread first picks evenly', () => {
    const firsts = new Map<string, number>()
    const weighted = [m('a', 9, 1), m('b', 0, 2), m('c', 5, 3), m('d', 1, 4)]
    for (let turn = 0; turn < 400; turn++) {
      const first = roundRobinOrder(weighted, turn)[0]!.id
      firsts.set(first, (firsts.get(first) ?? 0) + 1)
    }
    expect(Object.fromEntries(firsts)).toEqual({ a: 100, b: 100, c: 100, d: 100 })
  })

  test('no members: nothing to order', () => {
    expect(roundRobinOrder([], 7)).toEqual([])
  })
})

describe('random order', () => {
  test('a permutation of the members', () => {
    const members = [m('a'), m('b'), m('c'), m('d'), m('e')]
    const out = randomOrder(members, seeded(42))
    expect(ids(out).sort()).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  test('the same draws give the same order; the bounds of [0, 1) stay in range', () => {
    const members = [m('a'), m('b'), m('c')]
    expect(ids(randomOrder(members, seeded(7)))).toEqual(ids(randomOrder(members, seeded(7))))
    expect(ids(randomOrder(members, () => 0))).toEqual(['b', 'c', 'a'])
    expect(ids(randomOrder(members, () => 0.999999))).toEqual(['a', 'b', 'c'])
  })

  test('every member comes first about equally often', () => {
    const members = [m('a'), m('b'), m('c'), m('d')]
    const random = seeded(1)
    const firsts = new Map<string, number>()
    for (let i = 0; i < 8000; i++) {
      const first = randomOrder(members, random)[0]!.id
      firsts.set(first, (firsts.get(first) ?? 0) + 1)
    }
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(firsts.get(id)!).toBeGreaterThan(1700)
      expect(firsts.get(id)!).toBeLessThan(2300)
    }
  })
})

describe('arrange', () => {
  const pick = { turn: 0, random: seeded(3) }

  test('members that should not go first go to the back, in strategy order, never out', () => {
    const members = [m('a', 1, 1), m('b', 2, 2), m('c', 3, 3), m('d', 4, 4)]
    const back = new Set(['a', 'c'])
    expect(ids(arrange('failover', members, (x) => back.has(x.id), pick))).toEqual(['b', 'd', 'a', 'c'])
  })

  test('all at the back: all still tried, in strategy order', () => {
    const members = [m('b', 2, 2), m('a', 1, 1), m('c', 3, 3)]
    expect(ids(arrange('failover', members, () => true, pick))).toEqual(['a', 'b', 'c'])
  })

  test('round_robin spreads evenly over the members that can take calls', () => {
    const members = [m('a', 0, 1), m('b', 0, 2), m('c', 0, 3)]
    const firsts = new Map<string, number>()
    for (let turn = 0; turn < 100; turn++) {
      const order = arrange('round_robin', members, (x) => x.id === 'b', { turn, random: Math.random })
      expect(order.at(-1)!.id).toBe('b')
      firsts.set(order[0]!.id, (firsts.get(order[0]!.id) ?? 0) + 1)
    }
    expect(Object.fromEntries(firsts)).toEqual({ a: 50, c: 50 })
  })

  test('strategyOrder dispatches on the strategy', () => {
    const members = [m('a', 2, 1), m('b', 1, 2)]
    expect(ids(strategyOrder('failover', members, pick))).toEqual(['b', 'a'])
    expect(ids(strategyOrder('round_robin', members, { turn: 1, random: Math.random }))).toEqual(['b', 'a'])
    expect(ids(strategyOrder('random', members, { turn: 0, random: () => 0 }))).toEqual(['b', 'a'])
  })
})

describe('passive health', () => {
  test('N consecutive failures eject for the window; a success in between resets the count', () => {
    const h = new PassiveHealth(3, 30_000)
    expect(h.failure('m', 0)).toBe(false)
    expect(h.failure('m', 1)).toBe(false)
    h.success('m')
    expect(h.view('m', 2)).toEqual({ consecutiveFailures: 0, ejectedUntil: null })
    h.failure('m', 3)
    h.failure('m', 4)
    expect(h.isEjected('m', 4)).toBe(false)
    expect(h.failure('m', 5)).toBe(true)
    expect(h.isEjected('m', 5)).toBe(true)
    expect(h.view('m', 6)).toEqual({ consecutiveFailures: 3, ejectedUntil: 30_005 })
    expect(h.isEjected('m', 30_004)).toBe(true)
    expect(h.isEjected('m', 30_005)).toBe(false)
    expect(h.isEjected('other', 5)).toBe(false)
  })

  test('after the window one more failure ejects again at once; a success clears it', () => {
    const h = new PassiveHealth(2, 1000)
    h.failure('m', 0)
    h.failure('m', 0)
    expect(h.isEjected('m', 500)).toBe(true)
    // Failures while ejected (it was tried because everyone else failed) do not extend the window.
    expect(h.failure('m', 600)).toBe(false)
    expect(h.isEjected('m', 1000)).toBe(false)
    expect(h.failure('m', 1001)).toBe(true)
    expect(h.isEjected('m', 1500)).toBe(true)
    h.success('m')
    expect(h.isEjected('m', 1500)).toBe(false)
    expect(h.failure('m', 1600)).toBe(false)
  })

  test('threshold 0 never ejects', () => {
    const h = new PassiveHealth(0, 1000)
    for (let i = 0; i < 100; i++) expect(h.failure('m', i)).toBe(false)
    expect(h.isEjected('m', 100)).toBe(false)
  })

  test('memory stays bounded', () => {
    const h = new PassiveHealth(5, 1000, 10)
    for (let i = 0; i < 25; i++) h.failure(`m${i}`, 0)
    expect(h.view('m24', 0).consecutiveFailures).toBe(1)
    expect(h.view('m0', 0).consecutiveFailures).toBe(0)
  })
})
