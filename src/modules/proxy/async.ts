import type { Ctx } from '../../deps'
import { readBytes } from '../../http/body'
import { pollPath } from '../jobs/lifecycle'
import { submitJob } from '../jobs/submit'
import type { AgentActor } from '../tokens/actor'
import { admit } from './admit'

/**
 * The async lane: the body (at most the buffered-lane limit, counted as it arrives) becomes a
 * job, the caller gets 202 with the job id at once, and the delivery runs in the background
 * with the job's id and status URL as headers. Routing and fallback are the sync lane's.
 */
export async function callAsync({
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
  const job = await submitJob(deps, {
    hop,
    workspaceId: actor.workspaceId,
    connectionId: input.connectionId,
    caller: actor,
    triggerId: null,
    protocol,
    trace: ctx.trace,
    headers: request.headers,
    body: await readBytes(request, deps.config.bufferedBodyBytes),
    requestId: ctx.requestId,
    origin: new URL(request.url).origin,
  })
  const poll = pollPath(job.id)
  return Response.json(
    { jobId: job.id, status: 'running', poll_url: poll },
    { status: 202, headers: { ...hop.answerHeaders, ...limitHeaders, location: poll } },
  )
}
