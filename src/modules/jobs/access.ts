import type { Actor } from '../tokens/actor'

type JobParties = {
  workspaceId: string
  targetWorkspaceId: string
  /** null for a job a webhook trigger made. */
  callerAgentId: string | null
  targetAgentId: string
  handledByAgentId: string
}

/**
 * How an actor stands to a job: the caller's side (its agent, or the owning workspace), the
 * target's side (the target or the fallback that handled it, or the target's workspace —
 * another one on a board connection), or nothing, which the routes answer with 404.
 */
export function sideOf(job: JobParties, actor: Actor): 'caller' | 'target' | null {
  if (actor.kind === 'agent') {
    if (actor.agentId === job.callerAgentId) return 'caller'
    if (actor.agentId === job.targetAgentId || actor.agentId === job.handledByAgentId) return 'target'
    return null
  }
  if (actor.kind === 'workspace') {
    if (actor.workspaceId === job.workspaceId) return 'caller'
    if (actor.workspaceId === job.targetWorkspaceId) return 'target'
  }
  return null
}

/** Only the agent that received the job (the target, or the fallback that handled it) reports on it. */
export function mayReport(job: JobParties, actor: Actor): boolean {
  return (
    actor.kind === 'agent' && (actor.agentId === job.targetAgentId || actor.agentId === job.handledByAgentId)
  )
}
