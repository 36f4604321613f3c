import type { Deps } from '../../deps'
import { requestMeta } from '../../http/request'
import { AppError } from '../../lib/errors'
import type { Logger } from '../../lib/log'
import type { Counter, Histogram, Registry } from '../../lib/metrics'
import type { RelayedProtocol } from '../../lib/protocols'
import { streamedAnswer } from '../forward/answer'
import { outgoingBody } from '../forward/body'
import { discreetUpstreamError } from '../forward/errors'
import { TRANSPARENT_HEADERS } from '../forward/headers'
import type { Hop, RouteAgent } from '../forward/routing'
import { admitRelay, relayNotFound } from './admit'
import { openAiCall } from './genai'

const genAi = (rest: string, body: Bun.BodyInit | null) => {
  const call = openAiCall(rest, body)
  return call ? { genAi: call } : {}
}

export type RelayDeps = Pick<Deps, 'forward' | 'limits' | 'config' | 'relayMeter' | 'tracer'>

export type RelayInput = {
  permanentId: string
  protocol: RelayedProtocol
  request: Request
  /** The rest of the caller's path after the protocol's prefix ('' for the prefix itself). */
  rest: string
  /** Headers the relay itself sets on the upstream request. */
  add?: Record<string, string>
}

/**
 * One relayed call: admitted (per-IP limit, the agent, per-agent limit), sent to the agent's
 * URL for the protocol with the rest of the path and the query, and answered as it streams.
 * The endpoint credential replaces the client's Authorization; cookies and hop-by-hop headers
 * stay behind both ways (TRANSPARENT_HEADERS). No fallback: the client asked for this agent.
 * Switchboard's own refusals are the error envelope and never name the upstream.
 */
export async function relayCall(deps: RelayDeps, input: RelayInput): Promise<Response> {
  const start = performance.now()
  let agent: RouteAgent | null = null
  try {
    agent = await admitRelay(deps, input.request, input.permanentId, input.protocol)
    const hop = await relayHop(deps, agent, input.protocol)
    return await send(deps, hop, input, start)
  } catch (e) {
    if (e instanceof AppError) {
      deps.relayMeter.record({
        protocol: input.protocol,
        agent,
        method: input.request.method,
        status: e.status,
        start,
        traceId: requestMeta(input.request).trace.traceId,
      })
    }
    throw e
  }
}

/** The agent's URL for the protocol; an agent with none is one the relay does not serve. */
export async function relayHop(deps: Pick<Deps, 'forward'>, agent: RouteAgent, protocol: RelayedProtocol) {
  try {
    return await deps.forward.resolve({ agentId: agent.id }, protocol, { fallback: false })
  } catch (e) {
    if (e instanceof AppError) throw relayNotFound()
    throw e
  }
}

async function send(deps: RelayDeps, hop: Hop, input: RelayInput, start: number): Promise<Response> {
  const { request, protocol } = input
  const { timeoutMs, idleMs, maxBodyBytes } = deps.config.relay
  const url = new URL(request.url)
  const body = await outgoingBody(request, maxBodyBytes)
  const sent = await deps.forward.send(
    hop,
    {
      method: request.method,
      headers: request.headers,
      body,
      path: { rest: input.rest, search: url.search },
    },
    {
      lane: 'relay',
      protocol,
      trace: requestMeta(request).trace,
      // A model name the request gives puts the GenAI conventions on the span (only looked for while exporting).
      ...(protocol === 'openai' && deps.tracer.exporting ? genAi(input.rest, body) : {}),
      rules: TRANSPARENT_HEADERS.request,
      add: { ...input.add, 'x-request-id': requestMeta(request).id },
      timeoutMs,
      totalMs: timeoutMs,
      idleMs,
      maxBodyBytes,
      signal: request.signal,
      onEnd: ({ status, error }) => {
        if (status === null) return // no answer: the refusal thrown below is recorded by relayCall
        deps.relayMeter.record({
          protocol,
          agent: hop.agent,
          method: request.method,
          status,
          start,
          traceId: requestMeta(request).trace.traceId,
          broken: error,
        })
      },
    },
  )
  if (!sent.ok) throw discreetUpstreamError(sent)
  const sse = sent.response.headers.get('content-type')?.startsWith('text/event-stream') ?? false
  // A reverse proxy in front of Switchboard must not hold events back either.
  return streamedAnswer(sent.response, TRANSPARENT_HEADERS.answer, sse ? { 'x-accel-buffering': 'no' } : {})
}

/**
 * A metric and a log line per relayed call: protocol and status as labels (an agent label
 * would make one series per agent), the agent in the log line. Never a header, a query or a
 * body: nothing a credential could hide in.
 */
export class RelayMeter {
  private readonly calls: Counter
  private readonly duration: Histogram

  constructor(
    metrics: Registry,
    private readonly log: Logger,
  ) {
    this.calls = metrics.counter('switchboard_relay_requests_total', 'Relayed calls by protocol and status')
    this.duration = metrics.histogram(
      'switchboard_relay_request_duration_seconds',
      'Relayed calls, start to the last byte of the answer (a small answer of known length: its headers), by protocol',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    )
  }

  record(r: {
    protocol: RelayedProtocol
    agent: RouteAgent | null
    method: string
    status: number
    start: number
    /** The request's trace: the relay call's line names it, as the request's own line does. */
    traceId: string
    broken?: unknown
  }) {
    const ms = performance.now() - r.start
    this.calls.inc({ protocol: r.protocol, status: String(r.status) })
    this.duration.observe({ protocol: r.protocol }, ms / 1000)
    this.log.info('relay call', {
      traceId: r.traceId,
      protocol: r.protocol,
      agentId: r.agent?.id ?? null,
      permanentId: r.agent?.permanentId ?? null,
      method: r.method,
      status: r.status,
      durationMs: Math.round(ms * 100) / 100,
      ...(r.broken ? { broken: r.broken instanceof Error ? r.broken.message : String(r.broken) } : {}),
    })
  }
}
