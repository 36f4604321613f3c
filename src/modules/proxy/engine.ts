import type { ProtocolName } from '../../db/schema/types'
import type { Deps } from '../../deps'
import { AppError, notFound } from '../../lib/errors'
import type { SendFailure } from '../../lib/outbound/client'
import type { AgentActor } from '../tokens/actor'
import { RouteDirectory } from './directory'
import { type Hop, planHop } from './routing'

const directories = new WeakMap<Deps, RouteDirectory>()

/** One route directory per running app. */
export function directoryOf(deps: Deps): RouteDirectory {
  let d = directories.get(deps)
  if (!d) {
    d = new RouteDirectory(deps)
    directories.set(deps, d)
  }
  return d
}

/** Plans the delivery to an agent: fallback, protocol URL, or a 400 that says why not. */
export async function planFor(deps: Deps, agentId: string, protocol: ProtocolName | null): Promise<Hop> {
  const dir = directoryOf(deps)
  const target = await dir.agent(agentId)
  if (!target) throw notFound('Agent')
  const fallback =
    target.presence === 'offline' && target.fallbackAgentId ? await dir.agent(target.fallbackAgentId) : null
  // A fallback must live in the target's workspace (registration checks it; this keeps it so).
  return planHop(target, fallback && fallback.workspaceId === target.workspaceId ? fallback : null, protocol)
}

/**
 * The other end of a connection for a participant. Anyone else — including another agent of
 * the same workspace — gets "not found"; a participant on a line that is not active gets a 400.
 */
export async function peerOver(deps: Deps, connectionId: string, caller: AgentActor): Promise<string> {
  const conn = await directoryOf(deps).connection(connectionId)
  // An end is an agent *and* its workspace: an id alone never makes someone a participant.
  const isSource = conn?.agentId === caller.agentId && conn.workspaceId === caller.workspaceId
  const isTarget = conn?.targetAgentId === caller.agentId && conn.targetWorkspaceId === caller.workspaceId
  if (!conn || (!isSource && !isTarget)) throw notFound('Connection')
  if (conn.status !== 'active') throw new AppError('invalid_state', `The connection is ${conn.status}`)
  return isSource ? conn.targetAgentId : conn.agentId
}

/**
 * An outbound failure as the caller sees it: a timeout is 504 on the sync lane, everything
 * else 502. A caller of another workspace (across a board connection) learns only that the
 * agent could not be reached: the host, its address and the rule that refused it are the
 * owner's business (its health checks show them).
 */
export function upstreamError(
  f: SendFailure,
  timeoutCode: 'gateway_timeout' | 'bad_gateway' = 'gateway_timeout',
  opts: { foreign?: boolean } = {},
) {
  if (opts.foreign) {
    if (f.kind === 'timeout') return new AppError(timeoutCode, 'The agent did not answer in time')
    if (f.kind === 'aborted') return new AppError('bad_gateway', 'The call was aborted')
    return new AppError('bad_gateway', 'The agent could not be reached')
  }
  switch (f.kind) {
    case 'timeout':
      return new AppError(timeoutCode, `The agent did not answer in time (${f.message})`)
    case 'refused':
      return new AppError('bad_gateway', `The agent's address is not allowed: ${f.message}`, { rule: f.rule })
    case 'unresolvable':
      return new AppError('bad_gateway', `The agent's host does not resolve: ${f.message}`)
    case 'aborted':
      return new AppError('bad_gateway', 'The call was aborted')
    case 'network':
      return new AppError('bad_gateway', `The agent could not be reached: ${f.message}`)
  }
}
