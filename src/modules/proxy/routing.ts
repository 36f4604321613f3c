import type { Presence, ProtocolName, Protocols } from '../../db/schema/types'
import { AppError } from '../../lib/errors'

export const PROTOCOLS: readonly ProtocolName[] = ['mcp', 'a2a', 'openai', 'anp', 'acp']

/** What the forwarding engine needs to know about an agent (cached; see directory.ts). */
export type RouteAgent = {
  id: string
  permanentId: string
  workspaceId: string
  status: 'active' | 'inactive'
  archived: boolean
  presence: Presence
  endpointUrl: string | null
  protocols: Protocols
  fallbackAgentId: string | null
  /** The header that carries the endpoint credential, ready to send. */
  credential: { name: string; value: string } | null
}

/** A planned delivery: who receives the call, at which URL, and the answer headers that say so. */
export type Hop = {
  requested: RouteAgent
  agent: RouteAgent
  url: string
  answerHeaders: Record<string, string>
}

/** `X-Switchboard-Protocol`: absent → null; unknown → 400. */
export function parseProtocol(value: string | null): ProtocolName | null {
  if (value === null || value === '') return null
  const p = value.trim().toLowerCase()
  if (!(PROTOCOLS as readonly string[]).includes(p)) {
    throw new AppError(
      'unknown_protocol',
      `Unknown protocol "${value}"; expected one of ${PROTOCOLS.join(', ')}`,
    )
  }
  return p as ProtocolName
}

/** Where an agent takes calls for a protocol: its override URL, else its endpoint URL; null if it cannot. */
export function endpointFor(agent: RouteAgent, protocol: ProtocolName | null): string | null {
  if (protocol === null) return agent.endpointUrl
  const p = agent.protocols[protocol]
  if (!p?.enabled) return null
  return p.url ?? agent.endpointUrl
}

const usable = (a: RouteAgent) => a.status === 'active' && !a.archived

/**
 * The contract's routing rules. A target that is inactive, archived or does not speak the
 * protocol is a 400. When the target is already offline and has a fallback that is active,
 * not archived and reachable for the protocol, the call goes to the fallback
 * (`x-switchboard-fallback`); offline without a valid fallback, it still goes to the target
 * (`x-switchboard-agent-status: offline`).
 */
export function planHop(target: RouteAgent, fallback: RouteAgent | null, protocol: ProtocolName | null): Hop {
  if (target.archived) throw new AppError('invalid_state', `Agent ${target.permanentId} is archived`)
  if (target.status !== 'active')
    throw new AppError('invalid_state', `Agent ${target.permanentId} is inactive`)
  if (protocol !== null && !target.protocols[protocol]?.enabled) {
    throw new AppError(
      'protocol_not_enabled',
      `Agent ${target.permanentId} does not have ${protocol} enabled`,
    )
  }
  if (target.presence === 'offline') {
    const fallbackUrl = fallback && usable(fallback) ? endpointFor(fallback, protocol) : null
    if (fallback && fallbackUrl) {
      return {
        requested: target,
        agent: fallback,
        url: fallbackUrl,
        answerHeaders: { 'x-switchboard-fallback': fallback.permanentId },
      }
    }
  }
  const url = endpointFor(target, protocol)
  if (!url) throw new AppError('invalid_state', `Agent ${target.permanentId} has no endpoint URL`)
  return {
    requested: target,
    agent: target,
    url,
    answerHeaders: target.presence === 'offline' ? { 'x-switchboard-agent-status': 'offline' } : {},
  }
}
