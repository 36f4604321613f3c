import type { Ctx, Deps } from '../../deps'
import { readBytes } from '../../http/body'
import { AppError } from '../../lib/errors'
import { startDelivery } from '../jobs/deliver'
import { callbackUrlShape, stripSwitchboardMeta } from '../jobs/envelope'
import { createJob, pollPath } from '../jobs/lifecycle'
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
  const { body, callbackUrl } = stripSwitchboardMeta(await readBytes(request, deps.config.bufferedBodyBytes))
  const callback = callbackUrl === null ? null : await allowedCallback(deps, callbackUrl)
  const job = await createJob(deps, {
    workspaceId: actor.workspaceId,
    targetWorkspaceId: hop.requested.workspaceId,
    connectionId: input.connectionId,
    callerAgentId: actor.agentId,
    targetAgentId: hop.requested.id,
    handledByAgentId: hop.agent.id,
    callbackUrl: callback,
    traceparent: ctx.trace.traceparent,
    tracestate: ctx.trace.state,
  })
  const poll = pollPath(job.id)
  const origin = deps.config.publicUrl ?? new URL(request.url).origin
  startDelivery(deps, {
    jobId: job.id,
    hop,
    protocol,
    trace: ctx.trace,
    headers: new Headers(request.headers),
    body,
    call: {
      caller: actor,
      connectionId: input.connectionId,
      requestId: ctx.requestId,
      extra: {
        'x-switchboard-job-id': job.id,
        'x-switchboard-job-status-url': `${origin}${poll}`,
        // The answer becomes the job's result: ask for it as it is, not compressed.
        'accept-encoding': 'identity',
      },
    },
  })
  return Response.json(
    { jobId: job.id, status: 'running', poll_url: poll },
    { status: 202, headers: { ...hop.answerHeaders, ...limitHeaders, location: poll } },
  )
}

/**
 * A callback URL must be http(s) and pass the outbound guard's rules now; a name that does not
 * resolve yet is accepted (as at registration) and checked again on every delivery attempt.
 */
async function allowedCallback(deps: Deps, raw: string): Promise<string> {
  const url = callbackUrlShape(raw)
  const checked = await deps.outbound.check(url)
  if (!checked.ok && checked.reason !== 'unresolvable') {
    throw new AppError('invalid_url', `_switchboard.callback_url is not allowed: ${checked.message}`, {
      rule: checked.reason,
    })
  }
  return url.toString()
}
