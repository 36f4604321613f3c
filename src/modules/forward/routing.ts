import type { Presence, Protocols } from '../../db/schema/types'
import { AppError } from '../../lib/errors'
import { isProtocol, PROTOCOLS, type ProtocolName } from '../../lib/protocols'

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
  externalInvocation: boolean
  /** The header that carries the endpoint credential, ready to send. */
  credential: Credential | null
}

export type Credential = { name: string; value: string }

/**
 * Where one request goes: a URL and the credential that goes with it. A planned hop is one;
 * a user with an address of its own (a callback URL, an app connection) makes one directly.
 */
export type Destination = { url: string; credential: Credential | null }

/** A planned delivery: who receives the call, at which URL, and the answer headers that say so. */
export type Hop = Destination & {
  requested: RouteAgent
  agent: RouteAgent
  answerHeaders: Record<string, string>
}

/** `X-Switchboard-Protocol`: absent → null; unknown → 400. */
export function parseProtocol(value: string | null): ProtocolName | null {
  if (value === null || value === '') return null
  const p = value.trim().toLowerCase()
  if (!isProtocol(p)) {
    throw new AppError(
      'unknown_protocol',
      `Unknown protocol "${value}"; expected one of ${PROTOCOLS.join(', ')}`,
    )
  }
  return p
}

/** Where an agent takes calls for a protocol: its override URL, else its endpoint URL; null if it cannot. */
export function endpointFor(agent: RouteAgent, protocol: ProtocolName | null): string | null {
  if (protocol === null) return agent.endpointUrl
  const p = agent.protocols[protocol]
  if (!p?.enabled) return null
  return p.url ?? agent.endpointUrl
}

const usable = (a: RouteAgent) => a.status === 'active' && !a.archived

const hopTo = (
  requested: RouteAgent,
  agent: RouteAgent,
  url: string,
  answerHeaders: Record<string, string>,
) => ({
  requested,
  agent,
  url,
  credential: agent.credential,
  answerHeaders,
})

/**
 * The contract's routing rules. A target that is inactive, archived or does not speak the
 * protocol is a 400. When the target is already offline and has a fallback that is active,
 * not archived and reachable for the protocol, the call goes to the fallback
 * (`x-switchboard-fallback`); offline without a valid fallback, it still goes to the target
 * (`x-switchboard-agent-status: offline`). `fallback` null: the caller asked for no fallback.
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
      return hopTo(target, fallback, fallbackUrl, { 'x-switchboard-fallback': fallback.permanentId })
    }
  }
  const url = endpointFor(target, protocol)
  if (!url) throw new AppError('invalid_state', `Agent ${target.permanentId} has no endpoint URL`)
  return hopTo(
    target,
    target,
    url,
    target.presence === 'offline' ? { 'x-switchboard-agent-status': 'offline' } : {},
  )
}

/**
 * The rest of a request's path and its query appended to a base URL: `http://h/api` and
 * `/v1/models?x=1` → `http://h/api/v1/models?x=1` (one slash between them, the base's own
 * query kept first). The base decides scheme, host and port, and `rest` can only go deeper:
 * a segment that is (or decodes to) `.` or `..`, or hides a `/` or `\` behind an escape, is
 * refused rather than let out of the registered URL.
 */
export function joinUrl(base: string, rest: string, search: string): string {
  const u = new URL(base)
  const segments = rest.split('/').filter((s) => s !== '')
  for (const s of segments) {
    let decoded: string
    try {
      decoded = decodeURIComponent(s)
    } catch {
      throw new AppError('invalid_request', 'The path holds a malformed escape')
    }
    if (decoded === '.' || decoded === '..' || /[/\\]/.test(decoded))
      throw new AppError('invalid_request', "The path may not leave the agent's URL")
  }
  if (segments.length > 0) {
    const trailing = rest.endsWith('/') ? '/' : ''
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/${segments.join('/')}${trailing}`
  }
  const query = search.startsWith('?') ? search.slice(1) : search
  if (query !== '') u.search = u.search ? `${u.search.slice(1)}&${query}` : query
  return u.toString()
}
