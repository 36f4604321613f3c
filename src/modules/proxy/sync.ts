import type { Ctx } from '../../deps'
import { AppError } from '../../lib/errors'
import { streamedAnswer } from '../forward/answer'
import { outgoingBody } from '../forward/body'
import { upstreamError } from '../forward/errors'
import { callerHeaders, LANE_HEADERS } from '../forward/headers'
import type { AgentActor } from '../tokens/actor'
import { admit } from './admit'

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
  const { deps, actor } = ctx
  const { request } = input
  const { limitHeaders, protocol } = admit(ctx, request)
  const hop = await deps.forward.resolve({ connectionId: input.connectionId, caller: actor }, protocol)
  const sent = await deps.forward.send(
    hop,
    { method: 'POST', headers: request.headers, body: await outgoingBody(request) },
    {
      lane: 'sync',
      protocol,
      trace: ctx.trace,
      rules: LANE_HEADERS.request,
      add: callerHeaders({ caller: actor, connectionId: input.connectionId, requestId: ctx.requestId }),
      timeoutMs: deps.config.timeouts.syncMs,
      signal: request.signal,
    },
  )
  if (!sent.ok) {
    const e = upstreamError(sent)
    throw new AppError(e.code, e.message, e.details, { ...limitHeaders, ...hop.answerHeaders })
  }
  return streamedAnswer(sent.response, LANE_HEADERS.answer, { ...hop.answerHeaders, ...limitHeaders })
}
