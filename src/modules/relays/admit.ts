import type { Deps } from '../../deps'
import { clientAddress } from '../../http/request'
import { AppError } from '../../lib/errors'
import type { RelayedProtocol } from '../../lib/protocols'
import { rateLimitHeaders } from '../../lib/ratelimit'
import type { RouteAgent } from '../forward/routing'

/** The one answer for every agent a relay does not serve: nothing says which case it was. */
export const relayNotFound = () => new AppError('not_found', 'No agent is relayed here')

/**
 * Whether the relay serves this agent over this protocol: the agent exists, is active, not
 * archived, accepts external invocation and has the protocol enabled. Anything else — an
 * unknown id, a malformed one, another state — is the same 404.
 */
export function relayable(agent: RouteAgent | null, protocol: RelayedProtocol): agent is RouteAgent {
  return (
    agent !== null &&
    agent.status === 'active' &&
    !agent.archived &&
    agent.externalInvocation &&
    agent.protocols[protocol]?.enabled === true
  )
}

/**
 * Admits a relay call: first per client IP (before anything is looked up, so guessing ids
 * costs the guesser), then the agent, then per agent (one agent's callers cannot exhaust the
 * others'). Both limits are the relays' own settings, apart from the proxy lanes' limits.
 */
export async function admitRelay(
  deps: Pick<Deps, 'forward' | 'limits' | 'config'>,
  request: Request,
  permanentId: string,
  protocol: RelayedProtocol,
): Promise<RouteAgent> {
  if (deps.limits.relayIp.enabled) {
    const ip = clientAddress(request, deps.config.trustProxy)
    refuseOver(deps.limits.relayIp.take(`relay-ip:${ip}`), 'Too many relay calls from this address')
  }
  const agent = await deps.forward.agentByPermanentId(permanentId)
  if (!relayable(agent, protocol)) throw relayNotFound()
  refuseOver(deps.limits.relayAgent.take(`relay-agent:${agent.id}`), 'Too many relay calls for this agent')
  return agent
}

function refuseOver(d: ReturnType<Deps['limits']['relayIp']['take']>, message: string) {
  if (d.allowed) return
  throw new AppError('rate_limited', `${message}; retry later`, undefined, rateLimitHeaders(d))
}
