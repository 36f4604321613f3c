import { describe, expect, test } from 'bun:test'
import { RateLimiter } from '../../src/lib/ratelimit'
import { purgeTriggerCalls } from '../../src/modules/triggers/calls'
import { harness, registerAgent, TestClock, upstream } from '../helpers'
import { liveServer } from '../ws/live'

/** Per-trigger and per-IP limits on a real server (real client addresses); the 24 h window under a test clock. */
const live = await liveServer({
  SWITCHBOARD_RATE_LIMIT_TRIGGER_PER_SECOND: '0.01',
  SWITCHBOARD_RATE_LIMIT_TRIGGER_BURST: '2',
})
const ws = await live.workspace()
const endpoint = upstream(() => new Response('ok'))
const agent = await live.agent(ws.key, { endpointUrl: endpoint.url })
const trigger = async () => {
  const res = await live.call('POST', '/api/triggers', {
    token: ws.key,
    body: { name: 'limited', agentId: agent.id, verify: { type: 'token', header: 'X-Token' } },
  })
  return res.body as { trigger: { id: string }; secret: string }
}
const hook = (id: string, token: string) =>
  fetch(`${live.base}/hooks/${id}`, { method: 'POST', headers: { 'x-token': token }, body: '{}' })

describe('rate limits', () => {
  test('per trigger: counted on verified calls only, so a stranger cannot use them up', async () => {
    const t = await trigger()
    for (let i = 0; i < 3; i++) expect((await hook(t.trigger.id, 'wrong-token-000000')).status).toBe(401)
    expect((await hook(t.trigger.id, t.secret)).status).toBe(202)
    expect((await hook(t.trigger.id, t.secret)).status).toBe(202)
    const refused = await hook(t.trigger.id, t.secret)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(((await refused.json()) as any).code).toBe('rate_limited')
    // Another trigger has its own budget.
    const u = await trigger()
    expect((await hook(u.trigger.id, u.secret)).status).toBe(202)
  })

  test('per client IP, before any lookup: unknown ids count too', async () => {
    live.deps.limits.hookIp = new RateLimiter(0.01, 3)
    const t = await trigger()
    for (let i = 0; i < 3; i++) expect((await hook(`trg_${'b'.repeat(32)}`, 'x')).status).toBe(404)
    const refused = await hook(t.trigger.id, t.secret)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).not.toBeNull()
  })
})

describe('the 24 h window and the call log retention', () => {
  test('a delivery id repeats within 24 h as the same job; after it, a new one', async () => {
    const clock = new TestClock()
    const h = await harness({ clock })
    const w = await h.workspace()
    const a = await registerAgent(h, w.key, { endpointUrl: endpoint.url })
    const made = await h.call('POST', '/api/triggers', {
      token: w.key,
      body: { name: 'window', agentId: a.id, verify: { type: 'none' } },
    })
    const id = made.body.trigger.id as string
    const send = async () => {
      const res = await h.call('POST', `/hooks/${id}`, {
        raw: '{}',
        headers: { 'idempotency-key': 'delivery-1' },
      })
      expect(res.status).toBe(202)
      return res.body.jobId as string
    }
    const first = await send()
    clock.advance(23 * 3600_000)
    expect(await send()).toBe(first)
    clock.advance(2 * 3600_000)
    const second = await send()
    expect(second).not.toBe(first)
    expect(await send()).toBe(second)
    const calls = (await h.call('GET', `/api/triggers/${id}/calls`, { token: w.key })).body.calls
    expect(calls.map((c: any) => c.outcome)).toEqual(['duplicate', 'accepted', 'duplicate', 'accepted'])

    // Kept as long as events are (168 h by default), then purged; the jobs stay.
    clock.advance(168 * 3600_000 - 3600_000)
    // (On a shared Postgres other suites' old calls go too: count ours.)
    expect(await purgeTriggerCalls(h.deps)).toBeGreaterThanOrEqual(2)
    const left = (await h.call('GET', `/api/triggers/${id}/calls`, { token: w.key })).body.calls
    expect(left.map((c: any) => c.jobId)).toEqual([second, second])
    expect((await h.call('GET', `/api/jobs/${first}`, { token: w.key })).status).toBe(200)
    await h.deps.deliveries.drain(2000)
  })
})
