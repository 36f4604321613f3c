import type { DeliveryStatus } from '../../db/schema/types'

/**
 * When a failed callback is tried again. Exponential (×3 from 30 s) with a 12 h cap and ±20 %
 * jitter, so callbacks that failed together do not all come back in the same second.
 * Ten attempts; even with the jitter at its lowest the last comes more than 24 h after
 * the first (≈ 33 h without jitter, ≥ 26.5 h with), so a receiver that is down for a day
 * still gets its callback.
 */
export const CALLBACK_MAX_ATTEMPTS = 10
const BASE_MS = 30_000
const FACTOR = 3
const CAP_MS = 12 * 3600_000
export const JITTER = 0.2

/**
 * The wait after the `failedAttempts`-th attempt failed (1-based), or null when none is left.
 * `scale` shrinks or stretches the whole schedule (SWITCHBOARD_CALLBACK_RETRY_SCALE, for tests);
 * `random` is in [0, 1).
 */
export function retryDelayMs(
  failedAttempts: number,
  opts: { scale?: number; random?: () => number } = {},
): number | null {
  if (failedAttempts < 1 || failedAttempts >= CALLBACK_MAX_ATTEMPTS) return null
  const raw = Math.min(BASE_MS * FACTOR ** (failedAttempts - 1), CAP_MS)
  const jitter = 1 + JITTER * (2 * (opts.random ?? Math.random)() - 1)
  return Math.max(1, Math.round(raw * jitter * (opts.scale ?? 1)))
}

export type AttemptOutcome = { httpStatus: number | null }

/**
 * What an attempt's answer means for the delivery: 2xx delivered, 410 Gone stops for good
 * (the receiver says the URL is dead), anything else — 3xx included, as redirects are not
 * followed — is retried until the attempts run out.
 */
export function afterAttempt(
  attempt: number,
  outcome: AttemptOutcome,
  opts: { scale?: number; random?: () => number } = {},
): { status: DeliveryStatus; retryInMs: number | null } {
  const s = outcome.httpStatus
  if (s !== null && s >= 200 && s < 300) return { status: 'delivered', retryInMs: null }
  if (s === 410) return { status: 'gone', retryInMs: null }
  const wait = retryDelayMs(attempt, opts)
  return wait === null ? { status: 'failed', retryInMs: null } : { status: 'pending', retryInMs: wait }
}
