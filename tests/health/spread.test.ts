import { describe, expect, test } from 'bun:test'
import {
  MAX_SLOTS,
  spreadOffsetMs,
  spreadWindowMs,
  stableHash,
  sweepPlan,
} from '../../src/modules/health/spread'

const uuid = (i: number) => `01a2b3c4-0000-7000-8000-${i.toString(16).padStart(12, '0')}`

describe('spreading checks over the interval', () => {
  test('the hash is FNV-1a with murmur3’s finalizer: stable values, unsigned 32 bits', () => {
    expect(stableHash('')).toBe(0xab3e7c0b)
    expect(stableHash('a')).toBe(0x1a80b1b3)
    expect(stableHash('foobar')).toBe(0x0c0da6dc)
    expect(stableHash(uuid(1))).toBe(stableHash(uuid(1)))
  })

  test('the window leaves room for the last check to time out before the next run', () => {
    expect(spreadWindowMs(60_000, 10_000, 0.8)).toBe(48_000)
    expect(spreadWindowMs(60_000, 55_000, 0.8)).toBe(5_000)
    expect(spreadWindowMs(1_000, 2_000, 0.8)).toBe(0)
    expect(spreadWindowMs(60_000, 10_000, 0)).toBe(0)
  })

  test('an offset is stable, inside the window, and 0 without a window', () => {
    for (let i = 0; i < 1000; i++) {
      const o = spreadOffsetMs(uuid(i), 48_000)
      expect(o).toBeGreaterThanOrEqual(0)
      expect(o).toBeLessThan(48_000)
      expect(spreadOffsetMs(uuid(i), 48_000)).toBe(o)
    }
    expect(spreadOffsetMs(uuid(1), 0)).toBe(0)
  })

  test('10,000 agents land evenly: no second of the window gets more than 1.5× its share', () => {
    const buckets = new Array(48).fill(0)
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(spreadOffsetMs(uuid(i), 48_000) / 1000)]++
    const share = 10_000 / 48
    expect(Math.max(...buckets)).toBeLessThan(share * 1.5)
    expect(Math.min(...buckets)).toBeGreaterThan(share * 0.5)
  })

  test('checks share at most MAX_SLOTS start times, so those starting together share a wake-up', () => {
    const offsets = new Set(Array.from({ length: 10_000 }, (_, i) => spreadOffsetMs(uuid(i), 48_000)))
    expect(offsets.size).toBeLessThanOrEqual(MAX_SLOTS)
    expect(offsets.size).toBeGreaterThan(MAX_SLOTS * 0.9)
    // A short window keeps millisecond resolution.
    expect(new Set(Array.from({ length: 100 }, (_, i) => spreadOffsetMs(uuid(i), 150))).size).toBeGreaterThan(
      50,
    )
  })

  test('a run goes earliest first', () => {
    const plan = sweepPlan(
      Array.from({ length: 50 }, (_, i) => ({ id: uuid(i) })),
      60_000,
    )
    const offsets = plan.map((p) => p.offset)
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
    expect(new Set(plan.map((p) => p.id)).size).toBe(50)
  })
})
