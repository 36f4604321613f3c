import { describe, expect, test } from 'bun:test'
import { liveServer, upstream } from '../helpers'

const sb = await liveServer({
  env: {
    SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0.5',
    SWITCHBOARD_RATE_LIMIT_IP_BURST: '3',
    SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '0.5',
    SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '2',
  },
})
const ws = await sb.workspace()
const agent = upstream(() => Response.json({ ok: true }))

describe('rate limits', () => {
  test('per credential on the proxy lanes: 429 with Retry-After and RateLimit headers', async () => {
    const reg = async (body: object) => (await sb.call('POST', '/api/agents', { token: ws.key, body })).body
    const caller = await reg({ name: 'c' })
    const other = await reg({ name: 'o' })
    const target = await reg({ name: 't', endpointUrl: agent.url })
    const mk = async (a: any) =>
      (
        await sb.call('POST', '/api/connections', {
          token: ws.key,
          body: { agentId: a.agent.id, targetAgentId: target.agent.id, type: 'private' },
        })
      ).body.id
    const conn = await mk(caller)
    const conn2 = await mk(other)
    const call = (token: string, id: string) => sb.call('POST', `/api/proxy/${id}`, { token, raw: '{}' })
    const first = await call(caller.token, conn)
    expect(first.status).toBe(200)
    expect(first.headers.get('ratelimit-limit')).toBe('2')
    expect(first.headers.get('ratelimit-remaining')).toBe('1')
    expect((await call(caller.token, conn)).status).toBe(200)
    const limited = await call(caller.token, conn)
    expect(limited.status).toBe(429)
    expect(limited.body.code).toBe('rate_limited')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(limited.headers.get('ratelimit-remaining')).toBe('0')
    // Another agent's token has its own budget; the workspace's other routes are not proxy-limited.
    expect((await call(other.token, conn2)).status).toBe(200)
    expect((await sb.call('GET', '/api/agents', { token: ws.key })).status).toBe(200)
  })

  test('per client IP on unauthenticated requests and failed credentials', async () => {
    // Requests without a credential: 3 at once, then 429 (the proxy test above used credentials).
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await sb.call('GET', '/docs/json')).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    const limited = await sb.call('GET', '/docs/json')
    expect(limited.body).toMatchObject({ code: 'rate_limited' })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // Wrong credentials from the same address are refused with 429 too: guessing is slowed down.
    const guess = await sb.call('GET', '/api/agents', { token: 'wk_wrongwrongwrongwrongwrongwrongwrong0000' })
    expect(guess.status).toBe(429)
    // A valid credential is not limited by its address.
    expect((await sb.call('GET', '/api/agents', { token: ws.key })).status).toBe(200)
    // Nor are the probes: a load balancer's health check never sees this address's 429.
    for (const probe of ['/healthz', '/readyz', '/metrics', '/healthz?x=1'])
      expect((await sb.call('GET', probe)).status).toBe(200)
  })
})
