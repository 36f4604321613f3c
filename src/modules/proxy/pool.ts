import type { Ctx } from '../../deps'
import { readBytes } from '../../http/body'
import { AppError } from '../../lib/errors'
import { streamedAnswer } from '../forward/answer'
import { upstreamError } from '../forward/errors'
import { callerHeaders, LANE_HEADERS } from '../forward/headers'
import type { Hop } from '../forward/routing'
import { type LaneMember, type LanePool, poolForCaller } from '../pools/lane'
import type { PoolAttemptView } from '../pools/model'
import { arrange } from '../pools/order'
import type { AgentActor } from '../tokens/actor'
import { admit } from './admit'

type Candidate = LaneMember & { hop: Hop; permanentId: string }

const poolHeaders = (pool: LanePool, memberId: string) => ({
  'x-switchboard-pool': pool.id,
  'x-switchboard-pool-member': memberId,
  'x-switchboard-pool-strategy': pool.strategy,
})

/** Offline with no valid fallback: the engine still sends to it, but it should not be asked first. */
const offlineAlone = (hop: Hop) => hop.answerHeaders['x-switchboard-agent-status'] === 'offline'

/**
 * The pool lane: the body is read once (≤ the buffered-lane limit); the strategy orders the
 * members (offline-without-fallback and ejected members at the back); each is tried in turn
 * with the same bytes. A network error, timeout or 5xx moves on to the next; the first
 * other answer — a success, or a 4xx, which is the caller's problem and no member's — is
 * the answer, streamed back with the upstream status. Every member failing is a 502 that
 * lists the attempts. The caller itself is never one of the candidates.
 */
export async function callPool({
  ctx,
  input,
}: {
  ctx: Ctx<AgentActor>
  input: { poolId: string; request: Request }
}): Promise<Response> {
  const { deps, actor } = ctx
  const { request } = input
  const { limitHeaders, protocol } = admit(ctx, request)
  const pool = await poolForCaller(deps, input.poolId, actor)
  const body = await readBytes(request, deps.config.bufferedBodyBytes)
  const runtime = deps.poolRuntime

  // Plan every member at once (cached lookups): the fallback decision and presence shape the order.
  const planned = await Promise.all(
    pool.members
      .filter((m) => m.agentId !== actor.agentId)
      .map(async (m): Promise<Candidate | PoolAttemptView | null> => {
        const agent = await deps.forward.agent(m.agentId)
        if (!agent) return null // deleted since the pool was cached: no longer a member
        try {
          const hop = await deps.forward.resolve({ agentId: m.agentId }, protocol)
          return { ...m, permanentId: agent.permanentId, hop }
        } catch (e) {
          if (!(e instanceof AppError)) throw e
          // Inactive, archived, protocol not enabled, no endpoint: it cannot take the call at all.
          return attempt(m, agent.permanentId, { handledBy: null, error: `Not tried: ${e.message}` })
        }
      }),
  )
  const candidates = planned.filter((p): p is Candidate => p !== null && 'hop' in p)
  const unusable = planned.filter((p): p is PoolAttemptView => p !== null && !('hop' in p))
  if (candidates.length === 0 && unusable.length === 0) {
    throw new AppError('invalid_state', 'The pool has no members to call')
  }
  const now = deps.clock.now().getTime()
  const order = arrange(
    pool.strategy,
    candidates,
    (c) => offlineAlone(c.hop) || runtime.health.isEjected(c.id, now),
    runtime.pick(pool.id),
  )

  const attempts: PoolAttemptView[] = []
  for (const c of order) {
    const start = performance.now()
    const sent = await deps.forward.send(
      c.hop,
      { method: 'POST', headers: request.headers, body },
      {
        lane: 'pool',
        protocol,
        trace: ctx.trace,
        rules: LANE_HEADERS.request,
        add: callerHeaders({
          caller: actor,
          connectionId: null,
          requestId: ctx.requestId,
          extra: { 'x-switchboard-pool': pool.id },
        }),
        timeoutMs: deps.config.timeouts.poolMs,
        signal: request.signal,
      },
    )
    const done = (httpStatus: number | null, error: string | null) =>
      attempt(c, c.permanentId, {
        handledBy: c.hop.agent.permanentId,
        httpStatus,
        error,
        durationMs: Math.round(performance.now() - start),
      })
    if (!sent.ok) {
      // The caller went away: nobody is waiting for the next member.
      if (sent.kind === 'aborted') throw upstreamError(sent, 'bad_gateway')
      runtime.failure(c.id, deps.clock.now().getTime())
      attempts.push(done(null, upstreamError(sent, 'bad_gateway').message))
      continue
    }
    const { response } = sent
    if (response.status >= 500) {
      await response.body?.cancel().catch(() => {})
      runtime.failure(c.id, deps.clock.now().getTime())
      attempts.push(done(response.status, `The agent answered ${response.status}`))
      continue
    }
    runtime.health.success(c.id)
    return streamedAnswer(response, LANE_HEADERS.answer, {
      ...c.hop.answerHeaders,
      ...poolHeaders(pool, c.id),
      ...limitHeaders,
    })
  }
  const all = [...attempts, ...unusable]
  throw new AppError(
    'pool_exhausted',
    attempts.length > 0
      ? `Every member of the pool failed (${attempts.length} tried)`
      : 'No member of the pool could take the call',
    { attempts: all },
    { ...limitHeaders, ...poolHeaders(pool, (attempts.at(-1) ?? unusable.at(-1))!.memberId) },
  )
}

function attempt(
  m: LaneMember,
  permanentId: string,
  r: Partial<PoolAttemptView> & Pick<PoolAttemptView, 'handledBy'>,
): PoolAttemptView {
  return {
    memberId: m.id,
    agentId: m.agentId,
    permanentId,
    httpStatus: null,
    error: null,
    durationMs: 0,
    ...r,
  }
}
