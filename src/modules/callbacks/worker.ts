import type { Deps } from '../../deps'
import type { Counter, Histogram } from '../../lib/metrics'
import { readCapped } from '../../lib/read'
import { LANE_HEADERS } from '../forward/headers'
import { excerpt } from '../jobs/result'
import { noteWebhookOutcome } from '../webhooks/health'
import { agentSigningSecrets } from '../webhooks/secret'
import { type AttemptResult, claimDue, type Delivery, nextDueAt, recordAttempt, releaseClaim } from './outbox'
import { signingSecrets } from './secret'
import { signatureHeaders } from './sign'

export type WorkerOptions = {
  /** Deliveries in flight at once (each claimed as a slot frees). */
  batch: number
  /** How long a claim is this instance's alone; longer than a send can take. */
  leaseMs: number
  /** The longest the worker sleeps: picks up rows other instances wrote and claims that expired. */
  pollMs: number
  /** Per attempt, the whole exchange (the first KB of the answer included). */
  timeoutMs: number
}

const DEFAULTS: WorkerOptions = { batch: 32, leaseMs: 60_000, pollMs: 5_000, timeoutMs: 15_000 }

/** How much of a receiver's answer an attempt keeps (agent webhooks show it). */
const EXCERPT_BYTES = 1024

/**
 * Sends the outbox — job callbacks and agent webhooks alike — through the forwarding engine.
 * Built once at start-up (server.ts). Woken after a commit that enqueued one, by a timer set
 * for the next due retry, and at least every `pollMs`. Up to `batch` sends run side by side;
 * a slot that frees is filled at once, so one slow receiver never holds up the others. Everything
 * it knows is in the database, so a restart (or a `kill -9`) loses nothing: the next start finds
 * the rows still pending.
 */
export class CallbackWorker {
  private timer: ReturnType<typeof setTimeout> | null = null
  private loop: Promise<void> | null = null
  private again = false
  private stopped = false
  private readonly abort = new AbortController()
  private readonly inFlight = new Set<Promise<void>>()
  private readonly attemptsTotal: Counter
  private readonly attemptSeconds: Histogram

  readonly opts: WorkerOptions

  constructor(
    private readonly deps: Deps,
    opts: Partial<WorkerOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts }
    this.attemptsTotal = deps.metrics.counter(
      'switchboard_outbox_attempts_total',
      'Outbox delivery attempts (job callbacks, agent webhooks) by kind and the delivery status after it',
    )
    this.attemptSeconds = deps.metrics.histogram(
      'switchboard_outbox_attempt_duration_seconds',
      'Outbox delivery attempt duration by kind',
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    )
  }

  /** Begins the periodic poll with a round at once (deliveries left pending by a previous run). */
  start() {
    this.wake()
  }

  /** Runs a round soon; a wake during a round makes it look again before it ends. */
  wake(): void {
    if (this.stopped) return
    if (this.loop) {
      this.again = true
      return
    }
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.loop = this.rounds().finally(() => {
      this.loop = null
      // A wake that came while the round was finishing (after its last claim) is not lost.
      if (this.again) this.wake()
    })
  }

  /** Wakes the worker and resolves when it is idle again (tests drive it with this). */
  async flush(): Promise<void> {
    this.wake()
    while (this.loop) await this.loop
  }

  /** Stops the timer; sends in flight are cut and handed back untried, then this resolves. */
  async stop() {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.abort.abort()
    while (this.loop) await this.loop
  }

  /**
   * Claims what is due into the free slots, and whenever a send ends claims again (the next of
   * that agent's webhooks may be due now); ends when nothing is in flight and nothing claimable
   * is due.
   */
  private async rounds() {
    let next: Date | null = null
    try {
      for (;;) {
        this.again = false
        const free = this.opts.batch - this.inFlight.size
        let claimed = 0
        if (free > 0 && !this.stopped) {
          // A read first: an idle worker never takes the writer (on SQLite, the write mutex).
          next = await nextDueAt(this.deps)
          if (next !== null && next.getTime() <= this.deps.clock.now().getTime()) {
            const rows = await claimDue(this.deps, { limit: free, leaseMs: this.opts.leaseMs })
            for (const row of rows) this.track(this.send(row))
            claimed = rows.length
          }
        }
        if (claimed > 0 && this.inFlight.size < this.opts.batch) continue
        if (this.inFlight.size === 0) {
          if (this.again && !this.stopped) continue
          break
        }
        await Promise.race(this.inFlight)
      }
    } catch (e) {
      this.deps.log.error('outbox round failed', { error: e })
      await Promise.allSettled([...this.inFlight])
    }
    if (!this.stopped) this.arm(next)
  }

  private track(p: Promise<void>) {
    this.inFlight.add(p)
    p.finally(() => this.inFlight.delete(p))
  }

  private arm(next: Date | null) {
    const wait = next === null ? this.opts.pollMs : next.getTime() - this.deps.clock.now().getTime()
    // Never a hot loop, never longer than the poll.
    const ms = Math.min(Math.max(wait, 10), this.opts.pollMs)
    this.timer = setTimeout(() => {
      this.timer = null
      this.wake()
    }, ms)
    this.timer.unref?.()
  }

  private secretsFor(claimed: Delivery) {
    return claimed.agentId
      ? agentSigningSecrets(this.deps, claimed.agentId, claimed.workspaceId)
      : signingSecrets(this.deps, claimed.workspaceId)
  }

  private async send(claimed: Delivery) {
    const { deps } = this
    const at = deps.clock.now()
    const started = performance.now()
    const result: AttemptResult = { at, httpStatus: null, error: null, durationMs: 0, responseExcerpt: null }
    try {
      const body = JSON.stringify(claimed.payload)
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Switchboard-Webhooks/1',
        ...signatureHeaders(await this.secretsFor(claimed), claimed.messageId, at, body),
      }
      const sent = await deps.forward.send(
        { url: claimed.url, credential: null },
        { method: 'POST', headers: new Headers(), body },
        {
          rules: LANE_HEADERS.request,
          add: headers,
          timeoutMs: this.opts.timeoutMs,
          totalMs: this.opts.timeoutMs,
          signal: this.abort.signal,
        },
      )
      if (!sent.ok && sent.kind === 'aborted' && this.abort.signal.aborted) {
        await releaseClaim(deps, claimed)
        return
      }
      if (sent.ok) {
        result.httpStatus = sent.response.status
        // The first KB of the answer is kept for the delivery log; the rest is dropped.
        const read = await readCapped(sent.response.body, EXCERPT_BYTES).catch(() => null)
        result.responseExcerpt = read ? excerpt(read.bytes, EXCERPT_BYTES) || null : null
        if (result.httpStatus < 200 || result.httpStatus >= 300) result.error = `HTTP ${result.httpStatus}`
      } else {
        result.error = `${sent.kind}: ${sent.message}`
      }
    } catch (e) {
      result.error = e instanceof Error ? e.message : String(e)
    }
    result.durationMs = Math.round(performance.now() - started)
    const kind = claimed.agentId ? 'agent_webhook' : 'callback'
    try {
      const status = await recordAttempt(deps, claimed, result, (tx, status) =>
        noteWebhookOutcome(deps, tx, claimed, status, result),
      )
      this.attemptsTotal.inc({ kind, status })
      this.attemptSeconds.observe({ kind }, result.durationMs / 1000)
      deps.log.info('outbox attempt', {
        kind,
        deliveryId: claimed.id,
        jobId: claimed.jobId,
        agentId: claimed.agentId,
        attempt: claimed.attempts,
        httpStatus: result.httpStatus,
        status,
      })
    } catch (e) {
      // The claim expires on its own and the attempt is made again.
      deps.log.error('recording an outbox attempt failed', { deliveryId: claimed.id, error: e })
    }
  }
}
