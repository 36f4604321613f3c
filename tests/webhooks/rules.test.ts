import { describe, expect, test } from 'bun:test'
import { EVENT_TYPES } from '../../src/modules/events/append'
import { AGENT_WEBHOOK_EVENTS, wantsEvent, webhookRecipients } from '../../src/modules/webhooks/events'

/** Which agents an event is for: the pure rule behind the agent webhooks. */
const e = (type: string, agentId: string | null = 'subject', peerAgentId: string | null = 'peer') => ({
  type,
  agentId,
  peerAgentId,
})

describe('webhook recipients', () => {
  test('a connection: asked of its target; its answer and its end to both ends', () => {
    expect(webhookRecipients(e('connection.created'))).toEqual(['peer'])
    for (const t of ['connection.accepted', 'connection.declined', 'connection.revoked'])
      expect(webhookRecipients(e(t))).toEqual(['subject', 'peer'])
  })

  test('a job: created for its target; its end for the agent that started it (a trigger’s: nobody)', () => {
    expect(webhookRecipients(e('job.created'))).toEqual(['peer'])
    expect(webhookRecipients(e('job.completed'))).toEqual(['subject'])
    expect(webhookRecipients(e('job.failed'))).toEqual(['subject'])
    expect(webhookRecipients(e('job.completed', null))).toEqual([])
  })

  test('presence, messages and commands: the agent they are about', () => {
    for (const t of ['agent.status_changed', 'message.received', 'command.queued'])
      expect(webhookRecipients(e(t, 'me', null))).toEqual(['me'])
  })

  test('everything else, and a self-reference, reach nobody twice', () => {
    for (const t of EVENT_TYPES.filter((x) => !(AGENT_WEBHOOK_EVENTS as readonly string[]).includes(x)))
      expect({ t, to: webhookRecipients(e(t)) }).toEqual({ t, to: [] })
    expect(webhookRecipients(e('connection.revoked', 'same', 'same'))).toEqual(['same'])
  })

  test('webhookEvents: null is every webhook type; a list is just those', () => {
    for (const t of AGENT_WEBHOOK_EVENTS) expect(wantsEvent(null, t)).toBe(true)
    expect(wantsEvent(null, 'agent.updated')).toBe(false)
    expect(wantsEvent(['job.created'], 'job.created')).toBe(true)
    expect(wantsEvent(['job.created'], 'job.failed')).toBe(false)
    expect(wantsEvent([], 'job.created')).toBe(false)
  })
})
