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

const KINDS = ['callback', 'agent_webhook'] as const

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
  private readonly attempts: Counter
  private readonly attemptSeconds: Histogram

  readonly opts: WorkerOptions

  constructor(
    private readonly deps: Deps,
    opts: Partial<WorkerOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts }
    this.attempts = deps.metrics.counter(
      'switchboard_callback_attempts_total',
      'Outbox delivery attempts (kind: callback, agent_webhook) by what followed: delivered, retry, failed ' +
        '(no attempts left) or gone (410)',
    )
    for (const kind of KINDS)
      for (const result of ['delivered', 'retry', 'failed', 'gone']) this.attempts.series({ kind, result })
    this.attemptSeconds = deps.metrics.histogram(
      'switchboard_callback_attempt_duration_seconds',
      'Outbox delivery attempt duration by kind (callback, agent_webhook)',
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
    const kind = claimed.agentId ? 'agent_webhook' : 'callback'
    const result: AttemptResult = { at, httpStatus: null, error: null, durationMs: 0, responseExcerpt: null }
    // Every attempt is a hop of its row's trace (a row without one starts a trace of its own).
    const resumed = deps.tracer.resume(claimed.traceparent, claimed.tracestate)
    const trace = resumed ?? deps.tracer.root(claimed.agentId ? 'agent webhook' : 'job callback')
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
          lane: claimed.agentId ? 'webhook' : 'callback',
          trace,
          // Receivers' URLs often carry a secret in their path.
          redactPath: true,
          rules: LANE_HEADERS.request,
          add: headers,
          timeoutMs: this.opts.timeoutMs,
          totalMs: this.opts.timeoutMs,
          signal: this.abort.signal,
        },
      )
      if (!sent.ok && sent.kind === 'aborted' && this.abort.signal.aborted) {
        if (!resumed) deps.tracer.endBackground(trace)
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
    if (!resumed) deps.tracer.endBackground(trace, result.error)
    result.durationMs = Math.round(performance.now() - started)
    try {
      const status = await recordAttempt(deps, claimed, result, (tx, status) =>
        noteWebhookOutcome(deps, tx, claimed, status, result),
      )
      this.attempts.inc({ kind, result: status === 'pending' ? 'retry' : status })
      this.attemptSeconds.observe({ kind }, result.durationMs / 1000)
      // A failed attempt says why (the receiver's status or the network's reason), never the
      // URL (it may hold a secret), a header or a body.
      deps.log[result.error ? 'warn' : 'info'](
        claimed.agentId ? 'agent webhook attempt' : 'callback attempt',
        {
          deliveryId: claimed.id,
          jobId: claimed.jobId,
          agentId: claimed.agentId,
          traceId: trace.traceId,
          attempt: claimed.attempts,
          httpStatus: result.httpStatus,
          durationMs: result.durationMs,
          status,
          ...(result.error ? { cause: result.error } : {}),
        },
      )
    } catch (e) {
      // The claim expires on its own and the attempt is made again.
      deps.log.error('recording an outbox attempt failed', {
        deliveryId: claimed.id,
        traceId: trace.traceId,
        error: e,
      })
    }
  }
}
