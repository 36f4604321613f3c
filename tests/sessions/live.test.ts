import { beforeEach, describe, expect, test } from 'bun:test'
import { RateLimiter } from '../../src/lib/ratelimit'
import { liveServer } from '../ws/live'

/** A real server: the client address is real, so the per-IP limit applies; and real WebSockets. */
const live = await liveServer({
  SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0.01',
  SWITCHBOARD_RATE_LIMIT_IP_BURST: '12',
})
const ws = await live.workspace()
const origin = live.base

async function signIn(key: string) {
  const res = await fetch(`${live.base}/api/session`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  })
  return { res, cookie: /^(sb_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '' }
}

describe('console session on a live server', () => {
  // Each test starts with a full per-IP bucket (all requests here come from 127.0.0.1).
  beforeEach(() => {
    live.deps.limits.ip = new RateLimiter(0.01, 12)
  })

  test('the live stream takes the cookie from our own page only, and closes (4009) when the key is revoked', async () => {
    const key = await live.call('POST', '/api/workspace/keys', { token: ws.key, body: { name: 'stream' } })
    const { cookie } = await signIn(key.body.apiKey)
    expect(cookie).not.toBe('')
    // Another site's page opening a socket carries the cookie and its own Origin: refused.
    const hijack = await live.upgrade('', { cookie, origin: 'https://evil.example' })
    expect(hijack.status).toBe(403)
    expect((await live.upgrade('', { cookie })).status).toBe(403)
    const s = await live.socket('', { cookie, origin })
    expect(await s.ready()).toMatchObject({ actor: { kind: 'workspace', workspaceId: ws.id } })
    await live.call('DELETE', `/api/workspace/keys/${key.body.key.id}`, { token: ws.key })
    expect((await s.closed).code).toBe(4009)
  })

  test('a cookie exempts nothing where it is not checked: agent-only routes and relays still count per IP', async () => {
    const { cookie } = await signIn(ws.key)
    const statuses: number[] = []
    for (let i = 0; i < 14; i++) {
      const res = await fetch(`${live.base}/api/agents/me`, { headers: { cookie } })
      statuses.push(res.status)
    }
    expect(statuses[0]).toBe(401)
    expect(statuses).toContain(429)
    // The relays count per IP on a bucket of their own (before any lookup): a cookie changes nothing.
    live.deps.limits.relayIp = new RateLimiter(0.01, 3)
    const relayed: number[] = []
    for (let i = 0; i < 4; i++)
      relayed.push((await fetch(`${live.base}/relay/agt-nothere1/mcp`, { headers: { cookie } })).status)
    expect(relayed).toEqual([404, 404, 404, 429])
  })

  test('failed sign-ins count against the client address: guessing soon gets 429', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) statuses.push((await signIn(`wk_guess${i}`)).res.status)
    expect(statuses).toContain(401)
    expect(statuses.at(-1)).toBe(429)
    // Each failure counted twice (the request, and the failure), so the burst ran out early.
    expect(statuses.indexOf(429)).toBeLessThan(8)
  })
})
