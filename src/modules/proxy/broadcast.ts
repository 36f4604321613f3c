import type { Ctx } from '../../deps'
import { readBytes } from '../../http/body'
import { AppError } from '../../lib/errors'
import type { ProtocolName } from '../../lib/protocols'
import { readAnswer } from '../forward/answer'
import { upstreamError } from '../forward/errors'
import { callerHeaders, LANE_HEADERS } from '../forward/headers'
import type { Hop } from '../forward/routing'
import { groupForCaller } from '../groups/lane'
import type { BroadcastResultView } from '../groups/model'
import type { AgentActor } from '../tokens/actor'
import { admit } from './admit'

/** Each member's answer is kept up to this many bytes; a broadcast answer holds all of them. */
export const BROADCAST_ANSWER_CAP = 256 * 1024

/**
 * The broadcast lane: the body is read once (≤ the buffered-lane limit) and the same bytes go
 * to every member at once, each with its own deadline. Every member gets a result — an
 * inactive member, a timeout or a refused port is a `rejected` result, never an error of the
 * call. `fulfilled` means the member answered over HTTP, whatever the status (the usual
 * Promise.allSettled reading: the call settled with an answer); `httpStatus` tells the rest.
 * The caller itself is not called even when it is a member.
 */
export async function callBroadcast({
  ctx,
  input,
}: {
  ctx: Ctx<AgentActor>
  input: { groupId: string; request: Request }
}): Promise<Response> {
  const { request } = input
  const { limitHeaders, protocol } = admit(ctx, request)
  const group = await groupForCaller(ctx.deps, input.groupId, ctx.actor)
  const body = await readBytes(request, ctx.deps.config.bufferedBodyBytes)
  const members = group.memberAgentIds.filter((id) => id !== ctx.actor.agentId)
  const settled = await Promise.all(
    members.map((agentId) => deliver(ctx, { agentId, protocol, body, request, groupId: group.id })),
  )
  const results = settled.filter((r): r is BroadcastResultView => r !== null)
  return Response.json({ groupId: group.id, results }, { headers: limitHeaders })
}

type Delivery = {
  agentId: string
  protocol: ProtocolName | null
  body: Uint8Array
  request: Request
  groupId: string
}

/** One member's delivery; never throws for anything the member or its plan did. Null: no longer an agent. */
async function deliver(ctx: Ctx<AgentActor>, d: Delivery): Promise<BroadcastResultView | null> {
  const { deps } = ctx
  const member = await deps.forward.agent(d.agentId)
  if (!member) return null
  const start = performance.now()
  const result = (r: Partial<BroadcastResultView> & Pick<BroadcastResultView, 'status'>) => ({
    agentId: member.id,
    permanentId: member.permanentId,
    httpStatus: null,
    body: null,
    truncated: false,
    error: null,
    handledBy: null,
    ...r,
    durationMs: Math.round(performance.now() - start),
  })
  let hop: Hop
  try {
    hop = await deps.forward.resolve({ agentId: d.agentId }, d.protocol)
  } catch (e) {
    if (e instanceof AppError) return result({ status: 'rejected', error: e.message })
    throw e
  }
  const handledBy = hop.agent.permanentId
  const timeoutMs = deps.config.timeouts.broadcastMs
  // One deadline for the whole exchange: the outbound timeout stops at the headers, a slow body must not hold the call.
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), timeoutMs)
  const late = `The agent did not answer within ${timeoutMs} ms`
  try {
    const sent = await deps.forward.send(
      hop,
      { method: 'POST', headers: d.request.headers, body: d.body },
      {
        lane: 'broadcast',
        protocol: d.protocol,
        trace: ctx.trace,
        rules: LANE_HEADERS.request,
        add: callerHeaders({
          caller: ctx.actor,
          connectionId: null,
          requestId: ctx.requestId,
          // The answer is parsed here, so ask for it uncompressed.
          extra: { 'x-switchboard-broadcast-group': d.groupId, 'accept-encoding': 'identity' },
        }),
        timeoutMs,
        signal: AbortSignal.any([d.request.signal, deadline.signal]),
      },
    )
    if (!sent.ok) {
      const error = deadline.signal.aborted ? late : upstreamError(sent, 'bad_gateway').message
      return result({ status: 'rejected', error, handledBy })
    }
    const httpStatus = sent.response.status
    try {
      const answer = await readAnswer(sent.response, BROADCAST_ANSWER_CAP)
      return result({ status: 'fulfilled', httpStatus, handledBy, ...answer })
    } catch (e) {
      const error = deadline.signal.aborted ? `${late} (the body did not arrive in time)` : errorText(e)
      return result({ status: 'rejected', httpStatus, handledBy, error })
    }
  } finally {
    clearTimeout(timer)
  }
}

const errorText = (e: unknown) =>
  `The answer could not be read: ${e instanceof Error ? e.message : String(e)}`
