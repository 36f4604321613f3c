import type { EventType } from '../events/append'

/**
 * The events an agent webhook carries (and the default of `webhookEvents`): what concerns
 * an agent that holds no socket — connections asked of it and how they went, its own
 * presence, jobs sent to it and the end of jobs it started, messages and commands for it.
 */
export const AGENT_WEBHOOK_EVENTS = [
  'connection.created',
  'connection.accepted',
  'connection.declined',
  'connection.revoked',
  'agent.status_changed',
  'job.created',
  'job.completed',
  'job.failed',
  'message.received',
  'command.queued',
] as const satisfies readonly EventType[]
export type AgentWebhookEvent = (typeof AGENT_WEBHOOK_EVENTS)[number]

type EventFacts = { type: string; agentId: string | null; peerAgentId: string | null }

/**
 * Which agents an event is for, by its kind. Connection events name the requesting agent as
 * subject and the target as peer; job events the caller as subject and the target as peer.
 * - a connection requested: its target (the one asked); accepted, declined, revoked: both ends;
 * - presence, a message, a command: the agent it is about;
 * - a job created: its target; a job completed or failed: the agent that started it (a
 *   trigger's job has none).
 */
export function webhookRecipients(e: EventFacts): string[] {
  const ids = (() => {
    switch (e.type) {
      case 'connection.created':
      case 'job.created':
        return [e.peerAgentId]
      case 'connection.accepted':
      case 'connection.declined':
      case 'connection.revoked':
        return [e.agentId, e.peerAgentId]
      case 'agent.status_changed':
      case 'message.received':
      case 'command.queued':
      case 'job.completed':
      case 'job.failed':
        return [e.agentId]
      default:
        return []
    }
  })()
  return [...new Set(ids.filter((id): id is string => id !== null))]
}

/** An agent's choice of types (null: all of them) admits this one. */
export const wantsEvent = (chosen: readonly string[] | null, type: string): boolean =>
  (chosen ?? AGENT_WEBHOOK_EVENTS).includes(type)
