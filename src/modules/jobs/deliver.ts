import type { Deps } from '../../deps'
import type { ProtocolName } from '../../lib/protocols'
import { readCapped } from '../../lib/read'
import type { Trace } from '../../lib/trace/tracer'
import { upstreamError } from '../forward/errors'
import { type CallContext, callerHeaders, LANE_HEADERS } from '../forward/headers'
import type { Hop } from '../forward/routing'
import { finishJob, noteAccepted, type Outcome } from './lifecycle'
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

/**
 * First deliveries still under way on this instance. Built once at start-up (server.ts); a
 * graceful stop waits for them (`drain`) before the database closes.
 */
export class Deliveries {
  private readonly inFlight = new Set<Promise<void>>()

  track(p: Promise<void>) {
    this.inFlight.add(p)
    p.finally(() => this.inFlight.delete(p))
  }

  /** Waits (at most `ms`) for first deliveries still under way. */
  async drain(ms: number) {
    if (this.inFlight.size === 0) return
    await Promise.race([Promise.allSettled([...this.inFlight]), Bun.sleep(ms)])
  }
}

/**
 * Delivers a new job to its agent after the caller has had its 202: one attempt, bounded by
 * the async timeout from connect to the last byte of the answer. The outcome makes the job
 * final (or, on 202, leaves it running). Tracked so a graceful stop can wait for it; a job
 * whose delivery a crash cut short stays running until reported or its deadline fails it —
 * it is never sent twice.
 */
export function startDelivery(deps: Deps, d: FirstDelivery) {
  deps.deliveries.track(
    deliver(deps, d).catch((e) => deps.log.error('async delivery failed', { jobId: d.jobId, error: e })),
  )
}

async function deliver(deps: Deps, d: FirstDelivery) {
  const timeoutMs = deps.config.timeouts.asyncMs
  const cap = deps.config.bufferedBodyBytes
  const ctl = new AbortController()
  const timer = setTimeout(() => ctl.abort(), timeoutMs)
  const timedOut = `The agent did not answer within ${timeoutMs} ms`
  let outcome: Outcome | 'accepted'
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
          ? timedOut
          : upstreamError(sent, 'bad_gateway').message
      outcome = { status: 'failed', error, httpStatus: null }
    } else {
      const res = sent.response
      if (res.status === 202) {
        await res.body?.cancel().catch(() => {})
        outcome = 'accepted'
      } else {
        outcome = await outcomeOf(res, cap).catch(() => ({
          status: 'failed' as const,
          error: ctl.signal.aborted ? timedOut : "The agent's answer broke off before its end",
          httpStatus: res.status,
        }))
      }
    }
  } finally {
    clearTimeout(timer)
  }
  if (outcome === 'accepted') await noteAccepted(deps, d.jobId, 202)
  else await finishJob(deps, d.jobId, outcome)
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
