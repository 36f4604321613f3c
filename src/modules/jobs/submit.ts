import type { Orm } from '../../db'
import type { Deps } from '../../deps'
import { AppError } from '../../lib/errors'
import type { ProtocolName } from '../../lib/protocols'
import type { Trace } from '../../lib/trace/tracer'
import type { Hop } from '../forward/routing'
import { startDelivery } from './deliver'
import { callbackUrlShape, stripSwitchboardMeta } from './envelope'
import { createJob, type JobRow, pollPath } from './lifecycle'

export type Submission = {
  /** Who receives the job: resolved (routing, protocol, fallback) by the lane that asks. */
  hop: Hop
  protocol: ProtocolName | null
  /** The creating request's trace: the job, its delivery and its callback join it. */
  trace: Trace
  /** The workspace that owns the job (the caller's). */
  workspaceId: string
  connectionId: string | null
  /** The calling agent; null for a trigger's job. */
  caller: { agentId: string; permanentId: string } | null
  triggerId: string | null
  /** The request as it came: its headers go up cleaned by the lane rules, its body as read. */
  headers: Headers
  body: Uint8Array
  /** What the agent gets instead of the body (a trigger's envelope), after Switchboard's part is taken out. */
  wrap?: (body: Uint8Array) => { body: Uint8Array; headers: Headers }
  requestId: string
  /**
   * The origin of the status URL the agent is given when `SWITCHBOARD_PUBLIC_URL` is unset;
   * '' gives the path alone (a trigger: its sender's Host header must never pick where the
   * agent sends its token).
   */
  origin: string
  /** Written in the job's transaction, before it (see createJob). */
  alongside?: (tx: Orm, job: JobRow) => Promise<void>
}

/**
 * Makes an async job, as every way in makes one (the async lane, webhook triggers): the
 * body's `_switchboard.callback_url` is taken out and checked, the job row and its event are
 * written in one transaction, and the first delivery starts at once in the background with
 * the job's id and status URL as headers. Returns the job, `running`.
 */
export async function submitJob(deps: Deps, s: Submission): Promise<JobRow> {
  const stripped = stripSwitchboardMeta(s.body)
  const callback = stripped.callbackUrl === null ? null : await allowedCallback(deps, stripped.callbackUrl)
  const job = await createJob(
    deps,
    {
      workspaceId: s.workspaceId,
      targetWorkspaceId: s.hop.requested.workspaceId,
      connectionId: s.connectionId,
      callerAgentId: s.caller?.agentId ?? null,
      triggerId: s.triggerId,
      targetAgentId: s.hop.requested.id,
      handledByAgentId: s.hop.agent.id,
      callbackUrl: callback,
      traceparent: s.trace.traceparent,
      tracestate: s.trace.state,
    },
    s.alongside,
  )
  const sent = s.wrap ? s.wrap(stripped.body) : { body: stripped.body, headers: new Headers(s.headers) }
  const origin = deps.config.publicUrl ?? s.origin
  startDelivery(deps, {
    jobId: job.id,
    hop: s.hop,
    protocol: s.protocol,
    trace: s.trace,
    headers: sent.headers,
    body: sent.body,
    call: {
      caller: s.caller ?? undefined,
      connectionId: s.connectionId,
      requestId: s.requestId,
      extra: {
        'x-switchboard-job-id': job.id,
        'x-switchboard-job-status-url': `${origin}${pollPath(job.id)}`,
        ...(s.triggerId ? { 'x-switchboard-trigger': s.triggerId } : {}),
        // The answer becomes the job's result: ask for it as it is, not compressed.
        'accept-encoding': 'identity',
      },
    },
  })
  return job
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
