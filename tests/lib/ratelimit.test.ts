import { describe, expect, test } from 'bun:test'
import { RateLimiter, rateLimitHeaders } from '../../src/lib/ratelimit'

describe('GCRA rate limiter', () => {
  test('allows the burst at once, then one per interval', () => {
    const rl = new RateLimiter(10, 5)
    const t = 1_000_000
    const seen = Array.from({ length: 6 }, () => rl.take('k', t))
    expect(seen.map((d) => d.allowed)).toEqual([true, true, true, true, true, false])
    expect(seen.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0])
    expect(seen[5]!.retryAfterMs).toBeCloseTo(100, 5)
    expect(rl.take('k', t + 99).allowed).toBe(false)
    expect(rl.take('k', t + 100).allowed).toBe(true)
    expect(rl.take('k', t + 100).allowed).toBe(false)
  })

  test('keys are independent and the bucket refills', () => {
    const rl = new RateLimiter(1, 2)
    const t = 5_000
    expect(rl.take('a', t).allowed).toBe(true)
    expect(rl.take('a', t).allowed).toBe(true)
    expect(rl.take('a', t).allowed).toBe(false)
    expect(rl.take('b', t).allowed).toBe(true)
    const later = rl.take('a', t + 2000)
    expect(later.allowed).toBe(true)
    expect(later.remaining).toBe(1)
  })

  test('sustained rate over a long run matches perSecond', () => {
    const rl = new RateLimiter(50, 10)
    let allowed = 0
    for (let ms = 0; ms < 10_000; ms++) if (rl.take('k', ms).allowed) allowed++
    expect(allowed).toBeGreaterThanOrEqual(500)
    expect(allowed).toBeLessThanOrEqual(511)
  })

  test('headers: limit, remaining, reset; Retry-After when refused; nothing when disabled', () => {
    const rl = new RateLimiter(1, 1)
    const ok = rl.take('k', 0)
    expect(rateLimitHeaders(ok)).toEqual({
      'ratelimit-limit': '1',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '1',
    })
    const no = rl.take('k', 0)
    expect(rateLimitHeaders(no)['retry-after']).toBe('1')
    expect(rateLimitHeaders(new RateLimiter(0, 1).take('k'))).toEqual({})
  })
})
