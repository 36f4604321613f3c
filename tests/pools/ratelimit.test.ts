import { describe, expect, test } from 'bun:test'
import { harness, registerAgent, upstream } from '../helpers'

/** The broadcast and pool lanes count against the caller's token like the sync lane. */
const h = await harness({
  env: { SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '0.001', SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '2' },
})
const ws = await h.workspace()
const target = upstream(() => Response.json({ ok: true }))
const member = await registerAgent(h, ws.key, { endpointUrl: target.url })

describe('rate limits on the fan-out lanes', () => {
  test('per token: the burst passes with RateLimit headers, then 429 with Retry-After', async () => {
    const g = (
      await h.call('POST', '/api/broadcast-groups', {
        token: ws.key,
        body: { name: 'g', memberIds: [member.id] },
      })
    ).body
    const p = (
      await h.call('POST', '/api/pools', {
        token: ws.key,
        body: { name: 'p', strategy: 'failover', members: [{ agentId: member.id }] },
      })
    ).body
    for (const path of [`/api/proxy/broadcast/${g.id}`, `/api/proxy/pool/${p.id}`]) {
      const caller = await registerAgent(h, ws.key)
      for (let i = 0; i < 2; i++) {
        const ok = await h.call('POST', path, { token: caller.token, raw: '{}' })
        expect(ok.status).toBe(200)
        expect(ok.headers.get('ratelimit-limit')).toBeTruthy()
      }
      const limited = await h.call('POST', path, { token: caller.token, raw: '{}' })
      expect(limited.status).toBe(429)
      expect(limited.body.code).toBe('rate_limited')
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    }
  })
})
