import { describe, expect, test } from 'bun:test'
import { Webhook } from 'standardwebhooks'
import {
  afterAttempt,
  CALLBACK_MAX_ATTEMPTS,
  JITTER,
  retryDelayMs,
} from '../../src/modules/callbacks/schedule'
import { newWebhookSecret, signatureHeaders } from '../../src/modules/callbacks/sign'

const HOUR = 3600_000
const low = () => 0
const high = () => 0.999_999
const mid = () => 0.5

/** The waits between attempts for a whole run that never succeeds. */
const waits = (random: () => number, scale = 1) => {
  const out: number[] = []
  for (let n = 1; ; n++) {
    const d = retryDelayMs(n, { random, scale })
    if (d === null) return out
    out.push(d)
  }
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

describe('retry schedule', () => {
  test('at least 8 attempts in all', () => {
    expect(CALLBACK_MAX_ATTEMPTS).toBeGreaterThanOrEqual(8)
    expect(waits(mid)).toHaveLength(CALLBACK_MAX_ATTEMPTS - 1)
  })

  test('spread over at least 24 h even with the jitter at its lowest', () => {
    expect(sum(waits(low))).toBeGreaterThanOrEqual(24 * HOUR)
    expect(sum(waits(mid))).toBeGreaterThanOrEqual(30 * HOUR)
    expect(sum(waits(high))).toBeLessThan(48 * HOUR)
  })

  test('exponential, capped, starting within a minute', () => {
    const w = waits(mid)
    expect(w[0]).toBe(30_000)
    for (let i = 1; i < w.length; i++) expect(w[i]!).toBeGreaterThanOrEqual(w[i - 1]!)
    expect(Math.max(...w)).toBe(12 * HOUR)
  })

  test('jitter stays within ±20 % of the plain wait', () => {
    const plain = waits(mid)
    for (let trial = 0; trial < 200; trial++) {
      const jittered = waits(Math.random)
      jittered.forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(Math.floor(plain[i]! * (1 - JITTER)))
        expect(d).toBeLessThanOrEqual(Math.ceil(plain[i]! * (1 + JITTER)))
      })
    }
    expect(waits(low)[0]).toBeLessThan(waits(high)[0]!)
  })

  test('the scale shrinks the whole schedule (tests run it in milliseconds)', () => {
    expect(waits(mid, 0.0001)).toEqual(waits(mid).map((d) => Math.max(1, Math.round(d * 0.0001))))
    expect(sum(waits(high, 0.0001))).toBeLessThan(15_000)
  })

  test('no wait outside the attempts', () => {
    expect(retryDelayMs(0)).toBeNull()
    expect(retryDelayMs(CALLBACK_MAX_ATTEMPTS)).toBeNull()
    expect(retryDelayMs(CALLBACK_MAX_ATTEMPTS - 1)).not.toBeNull()
  })
})

describe('what an answer means', () => {
  test('2xx delivered, 410 gone, anything else retried until the attempts run out', () => {
    expect(afterAttempt(1, { httpStatus: 200 })).toEqual({ status: 'delivered', retryInMs: null })
    expect(afterAttempt(3, { httpStatus: 204 })).toEqual({ status: 'delivered', retryInMs: null })
    expect(afterAttempt(1, { httpStatus: 410 })).toEqual({ status: 'gone', retryInMs: null })
    for (const s of [null, 301, 400, 404, 429, 500, 503]) {
      expect(afterAttempt(1, { httpStatus: s }, { random: mid })).toEqual({
        status: 'pending',
        retryInMs: 30_000,
      })
      expect(afterAttempt(CALLBACK_MAX_ATTEMPTS, { httpStatus: s })).toEqual({
        status: 'failed',
        retryInMs: null,
      })
    }
  })
})

describe('signatures', () => {
  test('Standard Webhooks headers that the reference library verifies', () => {
    const secret = newWebhookSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const body = JSON.stringify({ type: 'job.completed', data: { jobId: 'j' } })
    const headers = signatureHeaders([secret], 'msg_j', new Date(), body)
    expect(headers['webhook-id']).toBe('msg_j')
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body))
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow()
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow()
  })

  test('two secrets sign side by side; either verifies', () => {
    const [a, b] = [newWebhookSecret(), newWebhookSecret()]
    const headers = signatureHeaders([a, b], 'msg_x', new Date(), '{}')
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2)
    expect(() => new Webhook(a).verify('{}', headers)).not.toThrow()
    expect(() => new Webhook(b).verify('{}', headers)).not.toThrow()
    expect(() => signatureHeaders([], 'm', new Date(), '{}')).toThrow()
  })
})
