import type { Deps } from '../../deps'
import type { Counter } from '../../lib/metrics'
import { LANE_HEADERS } from '../forward/headers'
import { claimDue, type Delivery, nextDueAt, recordAttempt, releaseClaim } from './outbox'
import { signingSecrets } from './secret'
import { signatureHeaders } from './sign'

export type WorkerOptions = {
  /** Deliveries claimed (and sent side by side) per round. */
  batch: number
  /** How long a claim is this instance's alone; longer than a send can take. */
  leaseMs: number
  /** The longest the worker sleeps: picks up rows other instances wrote and claims that expired. */
  pollMs: number
  /** Per attempt, up to the receiver's response headers. */
  timeoutMs: number
}

const DEFAULTS: WorkerOptions = { batch: 32, leaseMs: 60_000, pollMs: 5_000, timeoutMs: 15_000 }

/**
 * Sends callbacks from the outbox, through the forwarding engine to the callback URL. Built
 * once at start-up (server.ts). Woken after a commit that enqueued one, by a timer set for
 * the next due retry, and at least every `pollMs`. Everything it knows is in the database, so
 * a restart (or a `kill -9`) loses nothing: the next start finds the rows still pending.
 */
export class CallbackWorker {
  private timer: ReturnType<typeof setTimeout> | null = null
  private loop: Promise<void> | null = null
  private again = false
  private stopped = false
  private readonly abort = new AbortController()

  readonly opts: WorkerOptions
  private readonly attempts: Counter

  constructor(
    private readonly deps: Deps,
    opts: Partial<WorkerOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts }
    this.attempts = deps.metrics.counter(
      'switchboard_callback_attempts_total',
      'Callback delivery attempts by what followed: delivered, retry, failed (no attempts left) or gone (410)',
    )
    for (const result of ['delivered', 'retry', 'failed', 'gone']) this.attempts.series({ result })
  }

  /** Begins the periodic poll with a round at once (callbacks left pending by a previous run). */
  start() {
    this.wake()
  }

  /** Runs a round soon; a wake during a round runs another after it. */
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

  private async rounds() {
    let next: Date | null = null
    try {
      for (;;) {
        this.again = false
        // A read first: an idle worker never takes the writer (on SQLite, the write mutex).
        next = await nextDueAt(this.deps)
        if (next === null || next.getTime() > this.deps.clock.now().getTime()) break
        const claimed = await claimDue(this.deps, { limit: this.opts.batch, leaseMs: this.opts.leaseMs })
        await Promise.all(claimed.map((c) => this.send(c)))
        // Nothing claimed although something was due: another instance took it.
        if (claimed.length === 0 || this.stopped) break
      }
    } catch (e) {
      this.deps.log.error('callback round failed', { error: e })
    }
    if (!this.stopped) this.arm(next)
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

  private async send(claimed: Delivery) {
    const { deps } = this
    const at = deps.clock.now()
    const started = performance.now()
    let httpStatus: number | null = null
    let error: string | null = null
    // Every attempt is a hop of the job's trace (a row from before traces were kept starts one).
    const resumed = deps.tracer.resume(claimed.traceparent, claimed.tracestate)
    const trace = resumed ?? deps.tracer.root('job callback')
    try {
      const body = JSON.stringify(claimed.payload)
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Switchboard-Webhooks/1',
        ...signatureHeaders(await signingSecrets(deps, claimed.workspaceId), claimed.messageId, at, body),
      }
      const sent = await deps.forward.send(
        { url: claimed.url, credential: null },
        { method: 'POST', headers: new Headers(), body },
        {
          lane: 'callback',
          trace,
          // Receivers' URLs often carry a secret in their path.
          redactPath: true,
          rules: LANE_HEADERS.request,
          add: headers,
          timeoutMs: this.opts.timeoutMs,
          signal: this.abort.signal,
        },
      )
      if (!sent.ok && sent.kind === 'aborted') {
        if (!resumed) deps.tracer.endBackground(trace)
        await releaseClaim(deps, claimed)
        return
      }
      if (sent.ok) {
        httpStatus = sent.response.status
        // The answer's body is not ours to keep; drop it so the connection is freed.
        await sent.response.body?.cancel().catch(() => {})
        if (httpStatus < 200 || httpStatus >= 300) error = `HTTP ${httpStatus}`
      } else {
        error = `${sent.kind}: ${sent.message}`
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e)
    }
    if (!resumed) deps.tracer.endBackground(trace, error)
    const durationMs = Math.round(performance.now() - started)
    try {
      const status = await recordAttempt(deps, claimed, { at, httpStatus, error, durationMs })
      this.attempts.inc({ result: status === 'pending' ? 'retry' : status })
      // A failed attempt says why (the receiver's status or the network's reason), never the
      // URL (it may hold a secret), a header or a body.
      deps.log[error ? 'warn' : 'info']('callback attempt', {
        deliveryId: claimed.id,
        jobId: claimed.jobId,
        traceId: trace.traceId,
        attempt: claimed.attempts,
        httpStatus,
        durationMs,
        status,
        ...(error ? { cause: error } : {}),
      })
    } catch (e) {
      // The claim expires on its own and the attempt is made again.
      deps.log.error('recording a callback attempt failed', {
        deliveryId: claimed.id,
        traceId: trace.traceId,
        error: e,
      })
    }
  }
}
