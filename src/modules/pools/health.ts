/**
 * Passive health for pool members: failures are counted as calls happen (no probes). After
 * `threshold` consecutive failures a member is ejected for `ejectMs` — tried only after every
 * other member — so callers stop paying its timeout. When the window ends it is tried again;
 * its count stays at the threshold, so one more failure ejects it again at once, and any
 * answer (a success or a 4xx) clears it. In memory, per instance. `threshold` 0 never ejects.
 */
export class PassiveHealth {
  private state = new Map<string, { failures: number; ejectedUntil: number }>()

  constructor(
    private readonly threshold: number,
    private readonly ejectMs: number,
    private readonly maxTracked = 100_000,
  ) {}

  isEjected(key: string, now: number): boolean {
    const s = this.state.get(key)
    return s !== undefined && s.ejectedUntil > now
  }

  /** Counts a failure; true when it ejected the member. */
  failure(key: string, now: number): boolean {
    if (this.threshold === 0) return false
    let s = this.state.get(key)
    if (!s) {
      if (this.state.size >= this.maxTracked) this.state.clear()
      s = { failures: 0, ejectedUntil: 0 }
      this.state.set(key, s)
    }
    s.failures++
    if (s.failures >= this.threshold && s.ejectedUntil <= now) {
      s.ejectedUntil = now + this.ejectMs
      return true
    }
    return false
  }

  /** Members ejected at `now`. */
  ejectedCount(now: number): number {
    let n = 0
    for (const s of this.state.values()) if (s.ejectedUntil > now) n++
    return n
  }

  success(key: string): void {
    this.state.delete(key)
  }

  view(key: string, now: number): { consecutiveFailures: number; ejectedUntil: number | null } {
    const s = this.state.get(key)
    return {
      consecutiveFailures: s?.failures ?? 0,
      ejectedUntil: s && s.ejectedUntil > now ? s.ejectedUntil : null,
    }
  }
}
