import type { Ctx } from '../../deps'
import { AppError } from '../../lib/errors'
import { rateLimitHeaders } from '../../lib/ratelimit'
import type { AgentActor } from '../tokens/actor'
import { peerOver, planFor, upstreamError } from './engine'
import { answerHeaders, sendHop } from './forward'
import { parseProtocol } from './routing'

/**
 * Counts a proxy call against the calling agent — not its token: an agent holding several
 * live tokens (a rotation's grace) has one budget. The headers go on every lane's answer.
 */
export function limitCaller(ctx: Ctx<AgentActor>): Record<string, string> {
  const d = ctx.deps.limits.proxy.take(`agent:${ctx.actor.agentId}`)
  const headers = rateLimitHeaders(d)
  if (!d.allowed)
    throw new AppError('rate_limited', 'Too many proxy calls for this agent; retry later', undefined, headers)
  return headers
}

/** Up to this size a body with a declared length is read whole: sending bytes is much cheaper than piping a stream. */
const SMALL_BODY = 64 * 1024

/** Small bodies of known length are buffered; large or chunked ones stream up as they arrive. */
async function bodyFor(request: Request): Promise<Bun.BodyInit | null> {
  const length = request.headers.get('content-length')
  if (length !== null && Number(length) <= SMALL_BODY)
    return Number(length) === 0 ? null : await request.arrayBuffer()
  return request.body
}

/**
 * The sync lane: the request body streams up and the answer streams down, unbuffered.
 * The caller going away aborts the upstream call at once (the request's signal).
 */
export async function callSync({
  ctx,
  input,
}: {
  ctx: Ctx<AgentActor>
  input: { connectionId: string; request: Request }
}): Promise<Response> {
  const limitHeaders = limitCaller(ctx)
  const { request } = input
  const protocol = parseProtocol(request.headers.get('x-switchboard-protocol'))
  const peer = await peerOver(ctx.deps, input.connectionId, ctx.actor)
  const hop = await planFor(ctx.deps, peer, protocol)
  const sent = await sendHop(
    ctx.deps,
    hop,
    { method: 'POST', headers: request.headers, body: await bodyFor(request) },
    { caller: ctx.actor, connectionId: input.connectionId, requestId: ctx.requestId },
    { timeoutMs: ctx.deps.config.timeouts.syncMs, signal: request.signal },
  )
  if (!sent.ok) {
    const e = upstreamError(sent, 'gateway_timeout', {
      foreign: hop.agent.workspaceId !== ctx.actor.workspaceId,
    })
    throw new AppError(e.code, e.message, e.details, { ...limitHeaders, ...hop.answerHeaders })
  }
  const { response } = sent
  return new Response(response.body, {
    status: response.status,
    headers: answerHeaders(response.headers, { ...hop.answerHeaders, ...limitHeaders }),
  })
}
