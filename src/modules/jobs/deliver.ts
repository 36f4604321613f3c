import type { Deps } from '../../deps'
import type { ProtocolName } from '../../lib/protocols'
import { readCapped } from '../../lib/read'
import type { Trace } from '../../lib/trace/tracer'
import { upstreamError } from '../forward/errors'
import { type CallContext, callerHeaders, LANE_HEADERS } from '../forward/headers'
import type { Hop } from '../forward/routing'
import type { Outcome } from './lifecycle'
import type { DeliveryOutcome } from './outcomes'
import { decoded, excerpt, resultOf } from './result'

export type FirstDelivery = {
  jobId: string
  hop: Hop
  protocol: ProtocolName | null
  /** The request's trace: the delivery is one of its hops, though it ends after the 202. */
  trace: Trace
  headers: Headers
  body: Uint8Array
  call: CallContext
}

/** Why a delivery was cut short by a stop: recorded as the job's error. */
const STOPPED = 'Switchboard stopped before the agent answered; the agent may have received the job'

/**
 * First deliveries still under way on this instance. Built once at start-up (server.ts); a
 * graceful stop waits for them (`drain`) and, past its grace, cuts them before the database
 * closes.
 */
export class Deliveries {
  private readonly inFlight = new Map<Promise<void>, AbortController>()

  track(p: Promise<void>, ctl: AbortController) {
    this.inFlight.set(p, ctl)
    p.finally(() => this.inFlight.delete(p))
  }

  /**
   * Waits (at most `ms`) for first deliveries still under way, then cuts the rest: each records
   * its job as failed, saying why (the outcome outbox spools what the database cannot take),
   * within `recordMs`.
   */
  async drain(ms: number, recordMs = 1000, log?: Deps['log']) {
    const all = () => Promise.allSettled([...this.inFlight.keys()])
    if (this.inFlight.size === 0) return
    await Promise.race([all(), Bun.sleep(ms)])
    if (this.inFlight.size === 0) return
    log?.warn('cutting async deliveries still under way at stop', { count: this.inFlight.size })
    for (const ctl of this.inFlight.values()) ctl.abort(STOPPED)
    await Promise.race([all(), Bun.sleep(recordMs)])
  }
}

/**
 * Delivers a new job to its agent after the caller has had its 202: one attempt, bounded by
 * the async timeout from connect to the last byte of the answer. The outcome makes the job
 * final (or, on 202, leaves it running), through the outcome outbox so that an outcome the
 * database could not take is recorded later. Tracked so a graceful stop can wait for it and,
 * past its grace, cut it (the job then fails, saying so). A job whose delivery a crash cut
 * short stays running until reported or its deadline fails it — it is never sent twice.
 */
export function startDelivery(deps: Deps, d: FirstDelivery) {
  const ctl = new AbortController()
  deps.deliveries.track(
    deliver(deps, d, ctl).catch((e) => deps.log.error('async delivery failed', { jobId: d.jobId, error: e })),
    ctl,
  )
}

async function deliver(deps: Deps, d: FirstDelivery, ctl: AbortController) {
  const timeoutMs = deps.config.timeouts.asyncMs
  const cap = deps.config.bufferedBodyBytes
  const timer = setTimeout(() => ctl.abort(), timeoutMs)
  const timedOut = `The agent did not answer within ${timeoutMs} ms`
  const why = () => (ctl.signal.reason === STOPPED ? STOPPED : timedOut)
  let outcome: DeliveryOutcome
  const started = performance.now()
  let cause: string | null = null
  try {
    const sent = await deps.forward.send(
      d.hop,
      { method: 'POST', headers: d.headers, body: d.body },
      {
        lane: 'async',
        protocol: d.protocol,
        trace: d.trace,
        rules: LANE_HEADERS.request,
        add: callerHeaders(d.call),
        timeoutMs,
        signal: ctl.signal,
      },
    )
    if (!sent.ok) {
      const error =
        sent.kind === 'timeout' || sent.kind === 'aborted'
          ? why()
          : upstreamError(sent, 'bad_gateway').message
      outcome = { status: 'failed', error, httpStatus: null }
      cause = `${sent.kind}: ${sent.message}`
    } else {
      const res = sent.response
      if (res.status === 202) {
        await res.body?.cancel().catch(() => {})
        outcome = { status: 'accepted', httpStatus: 202 }
      } else {
        outcome = await outcomeOf(res, cap).catch(() => ({
          status: 'failed' as const,
          error: ctl.signal.aborted ? why() : "The agent's answer broke off before its end",
          httpStatus: res.status,
        }))
      }
    }
  } finally {
    clearTimeout(timer)
  }
  // The request's line was written at the 202: the delivery has a line of its own. The job's
  // error may quote the agent's body, so only the status or the network's reason is logged.
  deps.log[outcome.status === 'failed' ? 'warn' : 'info']('async delivery', {
    jobId: d.jobId,
    traceId: d.trace.traceId,
    agent: d.hop.agent.permanentId,
    httpStatus: outcome.httpStatus ?? null,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    status: outcome.status,
    ...(outcome.status === 'failed'
      ? { cause: cause ?? (outcome.httpStatus ? `HTTP ${outcome.httpStatus}` : 'the answer broke off') }
      : {}),
  })
  await deps.outcomes.record(d.jobId, outcome)
}

/** 2xx: completed with the body as result; anything else: failed, with an excerpt of the body. */
async function outcomeOf(res: Response, cap: number): Promise<Outcome> {
  const read = await readCapped(res.body, cap)
  let bytes: Uint8Array
  try {
    bytes = decoded(read.bytes, res.headers.get('content-encoding'), cap)
  } catch (e) {
    return {
      status: 'failed',
      error: `The agent's answer could not be decoded: ${e instanceof Error ? e.message : e}`,
      httpStatus: res.status,
    }
  }
  const ok = res.status >= 200 && res.status < 300
  if (ok) return { status: 'completed', result: resultOf(bytes, read.truncated), httpStatus: res.status }
  const body = excerpt(bytes)
  return {
    status: 'failed',
    error: `The agent answered HTTP ${res.status}${body ? `: ${body}` : ''}`,
    httpStatus: res.status,
  }
}
