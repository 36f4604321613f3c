import type { Ctx } from '../../deps'
import { countRefusal } from '../../http/request'
import { AppError } from '../../lib/errors'
import type { ProtocolName } from '../../lib/protocols'
import { rateLimitHeaders } from '../../lib/ratelimit'
import { parseProtocol } from '../forward/routing'
import type { AgentActor } from '../tokens/actor'

/** Counts a proxy call against the caller's credential; the headers go on every lane's answer. */
export function limitCaller(ctx: Ctx<AgentActor>): Record<string, string> {
  const d = ctx.deps.limits.proxy.take(`token:${ctx.actor.tokenId}`)
  const headers = rateLimitHeaders(d)
  if (!d.allowed) {
    countRefusal(ctx.deps, 'proxy')
    throw new AppError('rate_limited', 'Too many proxy calls for this token; retry later', undefined, headers)
  }
  return headers
}

/**
 * What every lane does first: the call counts against the caller's rate limit (429 past it),
 * and `X-Switchboard-Protocol` is read (400 when unknown).
 */
export function admit(
  ctx: Ctx<AgentActor>,
  request: Request,
): { limitHeaders: Record<string, string>; protocol: ProtocolName | null } {
  const limitHeaders = limitCaller(ctx)
  return { limitHeaders, protocol: parseProtocol(request.headers.get('x-switchboard-protocol')) }
}
