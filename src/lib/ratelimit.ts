/**
 * GCRA (the generic cell rate algorithm): per key one number, the theoretical arrival time.
 * `perSecond` sustained, `burst` at once. In memory: each instance limits on its own.
 */
export type Decision = {
  allowed: boolean
  limit: number
  remaining: number
  /** Milliseconds until the full burst is available again. */
  resetMs: number
  /** Milliseconds until this request would have been allowed (0 when allowed). */
  retryAfterMs: number
}

export class RateLimiter {
  private tat = new Map<string, number>()
  private readonly interval: number
  private readonly tolerance: number
  private lastPrune = 0

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {
    this.interval = perSecond > 0 ? 1000 / perSecond : 0
    this.tolerance = this.interval * (burst - 1)
  }

  get enabled() {
    return this.perSecond > 0
  }

  take(key: string, now = performance.timeOrigin + performance.now()): Decision {
    if (!this.enabled) return { allowed: true, limit: 0, remaining: 0, resetMs: 0, retryAfterMs: 0 }
    this.prune(now)
    const tat = Math.max(this.tat.get(key) ?? now, now)
    const allowAt = tat - this.tolerance
    if (now < allowAt) {
      return {
        allowed: false,
        limit: this.burst,
        remaining: 0,
        resetMs: tat - now,
        retryAfterMs: allowAt - now,
      }
    }
    const next = tat + this.interval
    this.tat.set(key, next)
    return {
      allowed: true,
      limit: this.burst,
      remaining: Math.max(0, Math.floor((this.tolerance - (next - now) + this.interval) / this.interval)),
      resetMs: next - now,
      retryAfterMs: 0,
    }
  }

  /** Keys whose time has passed hold no state worth keeping. */
  private prune(now: number) {
    if (this.tat.size < this.maxKeys && now - this.lastPrune < 60_000) return
    this.lastPrune = now
    for (const [k, t] of this.tat) if (t <= now) this.tat.delete(k)
    if (this.tat.size >= this.maxKeys) this.tat.clear()
  }
}

/** The RateLimit headers (draft-ietf-httpapi-ratelimit-headers) and, when refused, Retry-After. */
export function rateLimitHeaders(d: Decision): Record<string, string> {
  if (d.limit === 0) return {}
  const h: Record<string, string> = {
    'ratelimit-limit': String(d.limit),
    'ratelimit-remaining': String(d.remaining),
    'ratelimit-reset': String(Math.ceil(d.resetMs / 1000)),
  }
  if (!d.allowed) h['retry-after'] = String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)))
  return h
}
