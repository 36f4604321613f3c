/** Pure timing rules for the loops (heartbeat, reconnect, command polling). */

export type Backoff = { baseMs: number; maxMs: number }

/**
 * The wait before retry number `attempt` (1 for the first retry): exponential from `baseMs`,
 * capped at `maxMs`; half of it fixed, half random, so that clients failing together do not
 * come back together and none retries at once. `random` is in [0, 1).
 */
export function retryDelay(attempt: number, { baseMs, maxMs }: Backoff, random: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(cap / 2 + (random * cap) / 2)
}

/** `ms` moved by up to ±`ratio` of itself, so periodic calls of many clients spread out. */
export function jittered(ms: number, ratio: number, random: number): number {
  return Math.max(0, Math.round(ms * (1 - ratio + 2 * ratio * random)))
}

/**
 * How often to heartbeat, given the server's online window: three beats fit in the window,
 * so one lost beat never flips the agent offline. Never below one second.
 */
export function heartbeatInterval(onlineWindowSeconds: number): number {
  return Math.max(1000, Math.floor((onlineWindowSeconds * 1000) / 3))
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}
