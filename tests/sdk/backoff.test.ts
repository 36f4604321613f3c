import { describe, expect, test } from 'bun:test'
import { heartbeatInterval, jittered, retryDelay, sleep } from '../../sdk/src/backoff'

describe('SDK timing rules', () => {
  const b = { baseMs: 1000, maxMs: 30_000 }

  test('retries back off exponentially, half fixed and half random, up to the cap', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, b, 0))).toEqual([500, 1000, 2000, 4000])
    expect([1, 2, 3, 4].map((n) => retryDelay(n, b, 0.999_999))).toEqual([1000, 2000, 4000, 8000])
    expect(retryDelay(20, b, 0)).toBe(15_000)
    expect(retryDelay(20, b, 0.999_999)).toBe(30_000)
    expect(retryDelay(0, b, 0)).toBe(500)
  })

  test('jitter moves a wait by at most its share, either way', () => {
    expect(jittered(10_000, 0.1, 0)).toBe(9000)
    expect(jittered(10_000, 0.1, 0.5)).toBe(10_000)
    expect(jittered(10_000, 0.1, 0.999_999)).toBe(11_000)
    expect(jittered(10, 2, 0)).toBe(0)
  })

  test('three heartbeats fit in the online window, never more than one a second', () => {
    expect(heartbeatInterval(60)).toBe(20_000)
    expect(heartbeatInterval(90)).toBe(30_000)
    expect(heartbeatInterval(1)).toBe(1000)
  })

  test('sleep ends at once when its signal aborts', async () => {
    const abort = new AbortController()
    const slept = sleep(60_000, abort.signal)
    abort.abort()
    await slept
    await sleep(10, AbortSignal.abort())
  })
})
