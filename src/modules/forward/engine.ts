import type { Deps } from '../../deps'
import { AppError, notFound } from '../../lib/errors'
import type { SendFailure } from '../../lib/outbound/client'
import type { ProtocolName } from '../../lib/protocols'
import { childTraceparent, type GenAiCall, type HopSpan, type Trace } from '../../lib/trace/tracer'
import type { AgentActor } from '../tokens/actor'
import { TooLarge, watched } from './answer'
import type { RouteDirectory } from './directory'
import { outgoingHeaders, type RequestHeaderRules } from './headers'
import type { Lane } from './lanes'
import { statusOutcome, type UpstreamMeter } from './meter'
import { type Destination, type Hop, joinUrl, planHop, type RouteAgent } from './routing'

/** Who a call is for, before it is resolved to an agent and a URL. */
export type Target =
  /** The other participant of a connection, for one of its participants. */
  | { connectionId: string; caller: AgentActor }
  /** An agent chosen above the engine (a group or pool member, a relay's agent). */
  | { agentId: string }

export type Outgoing = {
  method: string
  /** The caller's headers: cleaned by `rules` before they go up. */
  headers: Headers
  body: Bun.BodyInit | null
  /** Appended to the destination URL (the relays): the rest of the caller's path and its query. */
  path?: { rest: string; search: string }
}

export type ForwardOptions = {
  /** Who is calling: a bounded label on the upstream metrics and the span (see lanes.ts). */
  lane: Lane
  /** The protocol the call is for (null: the agent's default endpoint); a label too. */
  protocol?: ProtocolName | null
  /**
   * The work this call belongs to (the request's `ctx.trace`, or background work's own): the
   * call carries its trace in a `traceparent` naming a new span, and lands in its log line.
   */
  trace: Trace
  /** The request names a model (the OpenAI relay): the span gets the GenAI attributes. */
  genAi?: GenAiCall
  /** The URL may hide a secret in its path (a callback URL): spans show only its origin. */
  redactPath?: boolean
  rules: RequestHeaderRules
  /** Switchboard's own headers (caller identity, job id…); the credential still wins over them. */
  add?: Record<string, string>
  /** DNS, connect and the answer's headers; a body that is streaming is not cut by it. */
  timeoutMs: number
  /** The caller going away: aborts the upstream call at once, also while the answer streams. */
  signal?: AbortSignal
  /** No byte in either direction for this long aborts the exchange (also while the answer streams). */
  idleMs?: number
  /** The whole exchange, answer body included. */
  totalMs?: number
  /** A streamed request body over this many bytes is cut and the call fails `too_large`. */
  maxBodyBytes?: number
  /**
   * Once per call, when the answer body has ended, failed or been cancelled (`status` is the
   * answer's), or when the call failed before an answer (`status` null). A small answer of
   * known length (≤ 64 KiB, not an event stream) is handed on natively: this runs at its headers.
   */
  onEnd?: (end: { status: number | null; error: unknown; bytes: number }) => void
}

/** An answer of known length up to this many bytes is handed on natively, not watched. */
const SMALL_ANSWER = 64 * 1024

export type ForwardFailure =
  | SendFailure
  | { ok: false; kind: 'too_large'; message: string; limitBytes: number }
export type Forwarded = { ok: true; response: Response } | ForwardFailure

/**
 * The forwarding engine: the one way Switchboard calls an agent. The proxy lanes (sync,
 * async, broadcast, pool), the external relays, and the next users (app execution, webhook
 * delivery) stand on it; it knows nothing of them. It owns:
 * 1. target resolution — `resolve()`: a connection (its other participant) or an agent id
 *    chosen above it → the agent → its URL for the protocol → its fallback when it is offline
 *    (see routing.ts for the rules), from the route read model (directory.ts);
 * 2. sending — `send()`: the caller's headers cleaned by a rule set (headers.ts), Switchboard's
 *    own added, the endpoint credential injected last, through the outbound client (address
 *    guard, pinned connection, no redirects), with timeouts, a body cap and the caller's abort;
 * 3. observing — every call is counted and timed by `lane` and `protocol` (bounded labels),
 *    carries the work's trace in a `traceparent` naming a new span, is listed in the request's
 *    log line, and is a client span when OpenTelemetry export is on (see docs/adr/0010-observability.md);
 * 4. answering — the `Response` comes back as it streams; `streamedAnswer()` hands it on with
 *    the answer-header rules, `readAnswer()` reads it whole (answer.ts); failures map to the
 *    `{error, code}` envelope with `upstreamError()` / `discreetUpstreamError()` (errors.ts).
 *
 * A new user, e.g. webhook delivery or app execution with an address of its own:
 *
 *     const to: Destination = { url, credential: { name: 'authorization', value: `Bearer ${secret}` } }
 *     const sent = await deps.forward.send(to, { method: 'POST', headers, body },
 *       { lane: 'app', trace: ctx.trace, rules: LANE_HEADERS.request,
 *         add: { 'user-agent': 'Switchboard-Webhooks/1' }, timeoutMs: 15_000 })
 *     if (!sent.ok) …                                  // a result record, never a throw
 *     const answer = await readAnswer(sent.response, cap)  // or streamedAnswer(sent.response, rules)
 *
 * and one that calls an agent resolves it first: `const hop = await deps.forward.resolve({ agentId }, protocol)`,
 * then `send(hop, …)`, putting `hop.answerHeaders` (fallback, offline) on its answer.
 * Built once at start-up (server.ts) with the read model it reads.
 */
export class ForwardingEngine {
  constructor(
    private readonly deps: Pick<Deps, 'outbound' | 'tracer'> & {
      routes: RouteDirectory
      meter: UpstreamMeter
    },
  ) {}

  /**
   * Resolves a target to a hop. Anyone but a participant of a connection gets 404; a line
   * that is not active, or an agent that is inactive, archived, without the protocol or
   * without an endpoint, a 400 that says why. `fallback: false` never hands the call to the
   * agent's fallback (a relay's client asked for this agent and no other).
   */
  async resolve(
    target: Target,
    protocol: ProtocolName | null,
    opts: { fallback?: boolean } = {},
  ): Promise<Hop> {
    const agentId =
      'connectionId' in target ? await this.peer(target.connectionId, target.caller) : target.agentId
    const routes = this.deps.routes
    const agent = await routes.agent(agentId)
    if (!agent) throw notFound('Agent')
    const wantsFallback = opts.fallback !== false && agent.presence === 'offline' && agent.fallbackAgentId
    const fallback = wantsFallback ? await routes.agent(agent.fallbackAgentId!) : null
    // A fallback must live in the target's workspace (registration checks it; this keeps it so).
    return planHop(agent, fallback && fallback.workspaceId === agent.workspaceId ? fallback : null, protocol)
  }

  /** The read model's agent (lanes that list members, relays that admit by permanent id). */
  agent(id: string): Promise<RouteAgent | null> {
    return this.deps.routes.agent(id)
  }

  agentByPermanentId(permanentId: string): Promise<RouteAgent | null> {
    return this.deps.routes.agentByPermanentId(permanentId)
  }

  /**
   * The other end of a connection for a participant. Anyone else — including another agent of
   * the same workspace — gets "not found"; a participant on a line that is not active gets a 400.
   */
  async peer(connectionId: string, caller: AgentActor): Promise<string> {
    const conn = await this.deps.routes.connection(connectionId)
    // An end is an agent *in its workspace*: an id alone never makes someone a participant.
    const isSource = conn?.agentId === caller.agentId && conn.workspaceId === caller.workspaceId
    const isTarget = conn?.targetAgentId === caller.agentId && conn.targetWorkspaceId === caller.workspaceId
    if (!conn || (!isSource && !isTarget)) throw notFound('Connection')
    if (conn.status !== 'active') throw new AppError('invalid_state', `The connection is ${conn.status}`)
    return isSource ? conn.targetAgentId : conn.agentId
  }

  /**
   * Sends one request to a destination (a resolved hop, or an address of the user's own).
   * Never throws for what the upstream or the network did: a result record. A malformed
   * `path` (one that would leave the destination URL) is a 400 before anything is sent.
   */
  async send(to: Destination, req: Outgoing, opts: ForwardOptions): Promise<Forwarded> {
    const url = req.path ? joinUrl(to.url, req.path.rest, req.path.search) : to.url
    const agent = 'agent' in to ? (to as Hop).agent : null
    // A client span only while exporting; otherwise just a new parent id in the header.
    const exporter = this.deps.tracer.exporter
    const span = exporter
      ? exporter.startHop(opts.trace, {
          lane: opts.lane,
          protocol: opts.protocol ?? null,
          method: req.method,
          url,
          originOnly: opts.redactPath === true,
          agent,
          genAi: opts.genAi,
        })
      : null
    const headers = outgoingHeaders(
      req.headers,
      opts.rules,
      opts.add,
      to.credential,
      span ? span.traceparent : childTraceparent(opts.trace),
      opts.trace.state,
    )
    const started = performance.now()
    // The lanes' hot path has nothing to watch.
    const sent =
      !opts.idleMs && !opts.totalMs && !opts.maxBodyBytes && !opts.onEnd
        ? await this.deps.outbound.send(
            { url, method: req.method, headers, body: req.body },
            { timeoutMs: opts.timeoutMs, signal: opts.signal },
          )
        : await this.sendWatched(url, headers, req, opts)
    this.noteCall(opts, agent, sent, performance.now() - started, span)
    return sent
  }

  /** Metrics, the request's log line and the span: one place for every lane. */
  private noteCall(
    opts: ForwardOptions,
    agent: RouteAgent | null,
    sent: Forwarded,
    ms: number,
    span: HopSpan | null,
  ) {
    const status = sent.ok ? sent.response.status : null
    const outcome = sent.ok ? statusOutcome(sent.response.status) : sent.kind
    this.deps.meter.record(opts.lane, opts.protocol ?? null, outcome, ms / 1000, agent)
    if (opts.trace.logsHops)
      opts.trace.noteHop({
        lane: opts.lane,
        agent: agent?.permanentId ?? null,
        status,
        outcome,
        ms: Math.round(ms * 100) / 100,
      })
    span?.end({ status, failure: sent.ok ? null : sent.kind })
  }

  /** `send` with an idle timer, a total deadline, a body cap or an end hook. */
  private async sendWatched(
    url: string,
    headers: Record<string, string>,
    req: Outgoing,
    opts: ForwardOptions,
  ): Promise<Forwarded> {
    const ctl = new AbortController()
    let timedOut = null as string | null
    let tooLarge = null as TooLarge | null
    const expire = (why: string) => {
      timedOut ??= why
      ctl.abort(new Error(why))
    }
    // One timer per call for both limits, re-armed only when it fires: a chunk just notes the time.
    const started = performance.now()
    let lastActivity = started
    const { idleMs, totalMs } = opts
    let timer: ReturnType<typeof setTimeout> | undefined
    const arm = () => {
      const now = performance.now()
      const idleLeft = idleMs ? lastActivity + idleMs - now : Number.POSITIVE_INFINITY
      const totalLeft = totalMs ? started + totalMs - now : Number.POSITIVE_INFINITY
      if (totalLeft <= 0) return expire(`not done within ${totalMs} ms`)
      if (idleLeft <= 0) return expire(`no data for ${idleMs} ms`)
      timer = setTimeout(arm, Math.min(idleLeft, totalLeft))
      timer.unref?.()
    }
    if (idleMs || totalMs) arm()
    const touch = idleMs
      ? () => {
          lastActivity = performance.now()
        }
      : undefined
    // The caller going away aborts this call (a listener, not AbortSignal.any: that costs more).
    const callerGone = () => ctl.abort(opts.signal?.reason)
    if (opts.signal?.aborted) callerGone()
    else opts.signal?.addEventListener('abort', callerGone, { once: true })
    let ended = false
    let status: number | null = null
    const end = (error: unknown, bytes: number) => {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', callerGone)
      if (ended) return
      ended = true
      opts.onEnd?.({ status, error, bytes })
    }
    let body = req.body
    if (body instanceof ReadableStream && (opts.maxBodyBytes !== undefined || touch)) {
      body = watched(body, {
        ...(touch ? { touch } : {}),
        ...(opts.maxBodyBytes !== undefined ? { maxBytes: opts.maxBodyBytes } : {}),
        end: (e) => {
          if (e instanceof TooLarge) {
            tooLarge = e
            ctl.abort(e)
          }
        },
      })
    }
    const sent = await this.deps.outbound.send(
      { url, method: req.method, headers, body },
      { timeoutMs: opts.timeoutMs, signal: ctl.signal },
    )
    if (!sent.ok) {
      const failure: ForwardFailure = tooLarge
        ? { ok: false, kind: 'too_large', message: tooLarge.message, limitBytes: tooLarge.limitBytes }
        : timedOut && !opts.signal?.aborted
          ? { ok: false, kind: 'timeout', message: timedOut }
          : sent
      end(failure, 0)
      return failure
    }
    const response = sent.response
    status = response.status
    touch?.()
    if (!response.body) {
      end(null, 0)
      return sent
    }
    const length = Number(response.headers.get('content-length') ?? Number.NaN)
    if (length <= SMALL_ANSWER && !response.headers.get('content-type')?.startsWith('text/event-stream')) {
      // A small body of known length passes natively: a JS stream in between would cost more
      // than the rest of the hop, and it arrives in one piece with its headers.
      end(null, length)
      return sent
    }
    return {
      ok: true,
      response: new Response(watched(response.body, { ...(touch ? { touch } : {}), end }), {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      }),
    }
  }
}
