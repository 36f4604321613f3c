import { type Backoff, heartbeatInterval, jittered, retryDelay, sleep } from './backoff.js'
import { SwitchboardError } from './errors.js'
import type { components } from './schema.js'

type Heartbeat = components['schemas']['Heartbeat']
type Presence = NonNullable<components['schemas']['HeartbeatRequest']['status']>

export type HeartbeatOptions = {
  /** What to report at each beat (a function is asked every time); `online` by default. */
  status?: Presence | (() => Presence)
  /** Between beats. Default: a third of the server's online window, so one lost beat is harmless. */
  intervalMs?: number
  /** Each wait moves by up to ± this share of itself (default 0.1), so agents do not beat in step. */
  jitter?: number
  /** Waits after failed beats: exponential, capped (default 1 s up to 60 s). */
  backoff?: Backoff
  /** Report `offline` once when stopped (default true), so the agent shows offline at once. */
  offlineOnStop?: boolean
  onBeat?: (answer: Heartbeat) => void
  /** A beat failed; the loop goes on when a retry can help, and ends when it cannot. */
  onError?: (error: SwitchboardError) => void
  /** Aborting it stops the loop, as `stop()` does. */
  signal?: AbortSignal
  /** In [0, 1), for the jitter (tests pin it). */
  random?: () => number
}

type Beat = (status: Presence, signal: AbortSignal) => Promise<Heartbeat>

/**
 * Heartbeats until stopped. A retryable failure (no answer, 429, 502–504) backs off and tries
 * again; one that no retry can fix (the token revoked or expired: 401, 403, 404) ends the loop,
 * and `done` resolves with it. `stop()` cancels the beat in flight and any wait at once.
 */
export class HeartbeatLoop {
  /** Resolves when the loop has ended: with the error that ended it, or null when stopped. */
  readonly done: Promise<SwitchboardError | null>
  /** Successful beats so far. */
  beats = 0
  /** The server's latest answer. */
  last: Heartbeat | undefined
  readonly #abort = new AbortController()

  constructor(
    private readonly beat: Beat,
    private readonly opts: HeartbeatOptions,
  ) {
    opts.signal?.addEventListener('abort', () => this.#abort.abort(), { once: true })
    this.done = this.#run()
  }

  get stopped(): boolean {
    return this.#abort.signal.aborted
  }

  /** Stops beating, sends `offline` once (unless told not to), and resolves when all is quiet. */
  async stop(): Promise<void> {
    this.#abort.abort()
    await this.done
  }

  async #run(): Promise<SwitchboardError | null> {
    const signal = this.#abort.signal
    const random = this.opts.random ?? Math.random
    const jitter = this.opts.jitter ?? 0.1
    const backoff = this.opts.backoff ?? { baseMs: 1000, maxMs: 60_000 }
    let failures = 0
    let ended: SwitchboardError | null = null
    while (!signal.aborted) {
      let wait: number
      try {
        this.last = await this.beat(this.#status(), signal)
        this.beats++
        failures = 0
        this.opts.onBeat?.(this.last)
        wait = jittered(
          this.opts.intervalMs ?? heartbeatInterval(this.last.onlineWindowSeconds),
          jitter,
          random(),
        )
      } catch (e) {
        if (signal.aborted) break
        const error = e instanceof SwitchboardError ? e : new SwitchboardError(0, 'network_error', String(e))
        this.opts.onError?.(error)
        if (!error.retryable) {
          ended = error
          break
        }
        failures++
        wait = Math.max(retryDelay(failures, backoff, random()), (error.retryAfterSeconds ?? 0) * 1000)
      }
      await sleep(wait, signal)
    }
    // A final beat after a stop (not after a fatal error: its credential is gone).
    if (!ended && (this.opts.offlineOnStop ?? true)) {
      await this.beat('offline', AbortSignal.timeout(5000)).catch(() => {})
    }
    this.#abort.abort()
    return ended
  }

  #status(): Presence {
    const s = this.opts.status ?? 'online'
    return typeof s === 'function' ? s() : s
  }
}
