import { describe, expect, test } from 'bun:test'
import { harness, upstream } from '../helpers'
import { connected } from '../jobs/fixtures'

/**
 * Rate limits belong to the agent, not to one of its tokens: an agent that rotates its own
 * token with a grace holds several live tokens at once, and each must not bring a budget of
 * its own.
 */
const h = await harness({
  env: { SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '0.01', SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '3' },
})
const ws = await h.workspace()
const agent = upstream(() => Response.json({ ok: true }))

describe('proxy limits per agent', () => {
  test('six live tokens of one agent share one budget', async () => {
    const { caller, conn } = await connected(h.call, ws.key, { endpointUrl: agent.url })
    const tokens = [caller.token]
    for (let i = 0; i < 5; i++) {
      const rotated = await h.call('POST', `/api/agents/${caller.agent.id}/rotate-token`, {
        token: tokens.at(-1)!,
        body: { graceSeconds: 3600 },
      })
      expect(rotated.status).toBe(200)
      tokens.push(rotated.body.token)
    }
    // Every token still works (the grace keeps them alive)…
    for (const token of tokens) expect((await h.call('GET', '/api/agents/me', { token })).status).toBe(200)
    // …but the agent has 3 calls, whichever tokens it spreads them over.
    const statuses: number[] = []
    for (const token of tokens)
      statuses.push((await h.call('POST', `/api/proxy/${conn.id}`, { token, raw: '{}' })).status)
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429])
  })

  test('another agent of the same workspace keeps its own budget', async () => {
    const { caller, conn } = await connected(h.call, ws.key, { endpointUrl: agent.url })
    const res = await h.call('POST', `/api/proxy/${conn.id}`, { token: caller.token, raw: '{}' })
    expect(res.status).toBe(200)
    expect(res.headers.get('ratelimit-remaining')).toBe('2')
  })
})
