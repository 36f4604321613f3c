import { describe, expect, test } from 'bun:test'
import { liveServer, TestClock, upstream } from '../helpers'

/**
 * The pool lane against real local agents: strategies, next member on 5xx/timeout/refused, 4xx
 * as is, offline members and fallbacks, exhaustion, the pool headers, passive ejection.
 */
const clock = new TestClock()
const sb = await liveServer({
  clock,
  env: {
    SWITCHBOARD_POOL_TIMEOUT_MS: '500',
    SWITCHBOARD_POOL_EJECT_FAILURES: '2',
    SWITCHBOARD_POOL_EJECT_SECONDS: '30',
  },
})
const ws = await sb.workspace()
const other = await sb.workspace()

type Hit = { path: string; body: string; headers: Record<string, string> }
const hits: Hit[] = []
/** `/flaky/NAME` answers 500 while `failing` has NAME, else 200. */
const failing = new Set<string>()
const agentServer = upstream(async (req) => {
  const url = new URL(req.url)
  const body = await req.text()
  hits.push({ path: url.pathname, body, headers: Object.fromEntries(req.headers) })
  const [, kind, arg] = url.pathname.split('/')
  if (kind === 'ok')
    return Response.json(
      { name: arg, received: body },
      { headers: { 'cache-control': 'max-age=7', 'set-cookie': 'u=1', 'x-upstream-private': '1' } },
    )
  if (kind === 'status') return new Response(`code ${arg}`, { status: Number(arg) })
  if (kind === 'flaky')
    return failing.has(arg!)
      ? new Response('down', { status: 500 })
      : Response.json({ name: arg, received: body })
  if (kind === 'hang') {
    await new Promise<void>((resolve) => req.signal.addEventListener('abort', () => resolve()))
    return new Response('late')
  }
  return new Response('no such path', { status: 404 })
})
const deadPort = await (async () => {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port
  s.stop(true)
  return port
})()

type Agent = { id: string; permanentId: string; token: string }
async function agent(key: string, body: Record<string, unknown> = {}, online = true): Promise<Agent> {
  const res = await sb.call('POST', '/api/agents', { token: key, body: { name: 'agent', ...body } })
  expect(res.status).toBe(201)
  const a = { id: res.body.agent.id, permanentId: res.body.agent.permanentId, token: res.body.token }
  if (online) {
    const hb = await sb.call('POST', `/api/agents/${a.id}/heartbeat`, {
      token: a.token,
      body: { status: 'online' },
    })
    expect(hb.body.presence).toBe('online')
  }
  return a
}
const at = (path: string) => ({ endpointUrl: `${agentServer.url}${path}` })

async function pool(strategy: string, members: Array<{ agentId: string; priority?: number }>, extra = {}) {
  const res = await sb.call('POST', '/api/pools', {
    token: ws.key,
    body: { name: 'pool', strategy, members, ...extra },
  })
  expect(res.status).toBe(201)
  const memberOf = (a: Agent) => res.body.members.find((m: any) => m.agentId === a.id).id as string
  return { id: res.body.id as string, memberOf }
}

const callPool = (poolId: string, token: string | undefined, raw = '{"task":"do it"}', headers = {}) =>
  sb.call('POST', `/api/proxy/pool/${poolId}`, {
    token,
    raw,
    headers: { 'content-type': 'application/json', ...headers },
  })

const caller = await agent(ws.key, { name: 'caller' }, false)
const pathsSince = (n: number) => hits.slice(n).map((h) => h.path)

describe('pool lane: failover', () => {
  test('5xx, timeout and refused move on; the first success comes back with the pool headers', async () => {
    const a = await agent(ws.key, at('/status/500'))
    const b = await agent(ws.key, at('/hang'))
    const c = await agent(ws.key, { endpointUrl: `http://127.0.0.1:${deadPort}/` })
    const d = await agent(ws.key, { ...at('/ok/d'), endpointCredential: 'pool-secret-1234' })
    const e = await agent(ws.key, at('/ok/e'))
    const p = await pool('failover', [
      { agentId: e.id, priority: 4 },
      { agentId: c.id, priority: 2 },
      { agentId: a.id, priority: 0 },
      { agentId: d.id, priority: 3 },
      { agentId: b.permanentId, priority: 1 },
    ])
    const before = hits.length
    const res = await callPool(p.id, caller.token)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ name: 'd', received: '{"task":"do it"}' })
    expect(res.headers.get('x-switchboard-pool')).toBe(p.id)
    expect(res.headers.get('x-switchboard-pool-member')).toBe(p.memberOf(d))
    expect(res.headers.get('x-switchboard-pool-strategy')).toBe('failover')
    expect(res.headers.get('x-switchboard-fallback')).toBeNull()
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(res.headers.get('cache-control')).toBe('max-age=7')
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(res.headers.get('x-upstream-private')).toBeNull()
    // Tried in priority order (the refused port never answers, so it leaves no hit), e never.
    expect(pathsSince(before)).toEqual(['/status/500', '/hang', '/ok/d'])
    for (const hit of hits.slice(before)) {
      expect(hit.body).toBe('{"task":"do it"}')
      expect(hit.headers['x-switchboard-caller']).toBe(caller.permanentId)
      expect(hit.headers['x-switchboard-pool']).toBe(p.id)
      expect(JSON.stringify(hit.headers)).not.toContain(caller.token)
    }
    expect(hits.at(-1)!.headers.authorization).toBe('Bearer pool-secret-1234')
  })

  test('a 4xx is returned as it is, with the pool headers; a 3xx is a success', async () => {
    const a = await agent(ws.key, at('/status/404'))
    const b = await agent(ws.key, at('/ok/b'))
    const p = await pool('failover', [
      { agentId: a.id, priority: 0 },
      { agentId: b.id, priority: 1 },
    ])
    const before = hits.length
    const res = await callPool(p.id, caller.token)
    expect(res.status).toBe(404)
    expect(res.text).toBe('code 404')
    expect(res.headers.get('x-switchboard-pool-member')).toBe(p.memberOf(a))
    expect(res.headers.get('x-switchboard-pool-strategy')).toBe('failover')
    expect(pathsSince(before)).toEqual(['/status/404'])

    const r = await agent(ws.key, at('/status/302'))
    const q = await pool('failover', [{ agentId: r.id }, { agentId: b.id, priority: 1 }])
    const moved = await callPool(q.id, caller.token)
    expect(moved.status).toBe(302)
    expect(moved.headers.get('x-switchboard-pool-member')).toBe(q.memberOf(r))
  })

  test('exhausted: 502 pool_exhausted listing every attempt, with the pool headers', async () => {
    const a = await agent(ws.key, at('/status/500'))
    const b = await agent(ws.key, at('/status/503'))
    const c = await agent(ws.key, { endpointUrl: `http://127.0.0.1:${deadPort}/` })
    const off = await agent(ws.key, at('/ok/never'))
    await sb.call('PATCH', `/api/agents/${off.id}`, { token: ws.key, body: { status: 'inactive' } })
    const p = await pool('failover', [
      { agentId: a.id, priority: 0 },
      { agentId: b.id, priority: 1 },
      { agentId: c.id, priority: 2 },
      { agentId: off.id, priority: 3 },
    ])
    const res = await callPool(p.id, caller.token)
    expect(res.status).toBe(502)
    expect(res.body.code).toBe('pool_exhausted')
    expect(res.body.error).toContain('3 tried')
    const attempts = res.body.details.attempts
    expect(attempts.map((x: any) => [x.memberId, x.agentId, x.permanentId, x.httpStatus])).toEqual([
      [p.memberOf(a), a.id, a.permanentId, 500],
      [p.memberOf(b), b.id, b.permanentId, 503],
      [p.memberOf(c), c.id, c.permanentId, null],
      [p.memberOf(off), off.id, off.permanentId, null],
    ])
    expect(attempts[0].error).toContain('500')
    expect(attempts[2].error).toContain('could not be reached')
    expect(attempts[3].error).toContain('Not tried')
    expect(attempts[3].error).toContain('inactive')
    for (const x of attempts) expect(Number.isInteger(x.durationMs)).toBe(true)
    expect(res.headers.get('x-switchboard-pool')).toBe(p.id)
    expect(res.headers.get('x-switchboard-pool-member')).toBe(p.memberOf(c))
    expect(res.headers.get('x-switchboard-pool-strategy')).toBe('failover')
  })
})

describe('pool lane: offline members and fallbacks', () => {
  test('all offline: all still tried, in order', async () => {
    const a = await agent(ws.key, at('/status/500'), false)
    const b = await agent(ws.key, at('/status/502'), false)
    const c = await agent(ws.key, at('/ok/c'), false)
    const p = await pool('failover', [
      { agentId: c.id, priority: 2 },
      { agentId: a.id, priority: 0 },
      { agentId: b.id, priority: 1 },
    ])
    const before = hits.length
    const res = await callPool(p.id, caller.token)
    expect(res.status).toBe(200)
    expect(res.body.name).toBe('c')
    expect(res.headers.get('x-switchboard-agent-status')).toBe('offline')
    expect(pathsSince(before)).toEqual(['/status/500', '/status/502', '/ok/c'])
  })

  test('an offline member without a fallback goes to the back, not out', async () => {
    const sleepy = await agent(ws.key, at('/ok/sleepy'), false)
    const awake = await agent(ws.key, at('/ok/awake'))
    const p = await pool('failover', [
      { agentId: sleepy.id, priority: 0 },
      { agentId: awake.id, priority: 1 },
    ])
    const res = await callPool(p.id, caller.token)
    expect(res.body.name).toBe('awake')
    expect(res.headers.get('x-switchboard-pool-member')).toBe(p.memberOf(awake))
  })

  test('an offline member with a valid fallback is replaced by it, in its place', async () => {
    const backup = await agent(ws.key, at('/ok/backup'))
    const primary = await agent(ws.key, { ...at('/ok/primary'), fallbackAgentId: backup.permanentId }, false)
    const second = await agent(ws.key, at('/ok/second'))
    const p = await pool('failover', [
      { agentId: primary.id, priority: 0 },
      { agentId: second.id, priority: 1 },
    ])
    const before = hits.length
    const res = await callPool(p.id, caller.token)
    expect(res.status).toBe(200)
    expect(res.body.name).toBe('backup')
    expect(res.headers.get('x-switchboard-fallback')).toBe(backup.permanentId)
    // The header names the membership the call was for, not the agent that handled it.
    expect(res.headers.get('x-switchboard-pool-member')).toBe(p.memberOf(primary))
    expect(pathsSince(before)).toEqual(['/ok/backup'])
  })
})

describe('pool lane: round_robin and random', () => {
  test('round_robin spreads concurrent callers evenly', async () => {
    const members = [
      await agent(ws.key, at('/ok/r1')),
      await agent(ws.key, at('/ok/r2')),
      await agent(ws.key, at('/ok/r3')),
    ]
    const p = await pool(
      'round_robin',
      members.map((m) => ({ agentId: m.id })),
    )
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        fetch(`${sb.url}/api/proxy/pool/${p.id}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${caller.token}` },
          body: 'x',
        }).then(async (r) => {
          expect(r.status).toBe(200)
          expect(r.headers.get('x-switchboard-pool-strategy')).toBe('round_robin')
          return ((await r.json()) as any).name as string
        }),
      ),
    )
    const counts: Record<string, number> = {}
    for (const name of answers) counts[name] = (counts[name] ?? 0) + 1
    expect(counts).toEqual({ r1: 10, r2: 10, r3: 10 })
  })

  test('random: every answer comes from a member, and a failing one is skipped', async () => {
    const good = [await agent(ws.key, at('/ok/x1')), await agent(ws.key, at('/ok/x2'))]
    const bad = await agent(ws.key, at('/status/500'))
    const p = await pool(
      'random',
      [...good, bad].map((m) => ({ agentId: m.id })),
    )
    const seen = new Set<string>()
    for (let i = 0; i < 12; i++) {
      const res = await callPool(p.id, caller.token)
      expect(res.status).toBe(200)
      expect(['x1', 'x2']).toContain(res.body.name)
      expect([p.memberOf(good[0]!), p.memberOf(good[1]!)]).toContain(
        res.headers.get('x-switchboard-pool-member') ?? 'missing',
      )
      seen.add(res.body.name)
    }
    expect(seen.size).toBeGreaterThan(0)
  })
})

describe('pool lane: passive health', () => {
  test('consecutive failures eject a member for the window; it is tried last, then again; a success clears it', async () => {
    const flakyName = `f-${crypto.randomUUID().slice(0, 8)}`
    const steadyName = `s-${crypto.randomUUID().slice(0, 8)}`
    failing.add(flakyName)
    const flaky = await agent(ws.key, at(`/flaky/${flakyName}`))
    const steady = await agent(ws.key, at(`/flaky/${steadyName}`))
    const p = await pool('failover', [
      { agentId: flaky.id, priority: 0 },
      { agentId: steady.id, priority: 1 },
    ])
    const flakyHits = () => hits.filter((h) => h.path === `/flaky/${flakyName}`).length
    const health = async () =>
      (await sb.call('GET', `/api/pools/${p.id}`, { token: ws.key })).body.members.find(
        (m: any) => m.agentId === flaky.id,
      )

    // Two failures in a row (threshold 2): ejected.
    for (let i = 1; i <= 2; i++) {
      const res = await callPool(p.id, caller.token)
      expect(res.body.name).toBe(steadyName)
      expect(flakyHits()).toBe(i)
    }
    const ejected = await health()
    expect(ejected.consecutiveFailures).toBe(2)
    expect(ejected.ejectedUntil).toBe(new Date(clock.now().getTime() + 30_000).toISOString())

    // While ejected the steady member goes first: callers stop paying for the flaky one.
    expect((await callPool(p.id, caller.token)).body.name).toBe(steadyName)
    expect(flakyHits()).toBe(2)

    // Ejected is "at the back", not "out": when everyone else fails it is still tried.
    failing.add(steadyName)
    const before = hits.length
    const exhausted = await callPool(p.id, caller.token)
    expect(exhausted.status).toBe(502)
    expect(pathsSince(before)).toEqual([`/flaky/${steadyName}`, `/flaky/${flakyName}`])
    failing.delete(steadyName)

    // After the window it is tried first again; still failing, it is ejected again at once.
    clock.advance(31_000)
    expect((await callPool(p.id, caller.token)).body.name).toBe(steadyName)
    expect(flakyHits()).toBe(4)
    expect((await health()).ejectedUntil).not.toBeNull()
    expect((await callPool(p.id, caller.token)).body.name).toBe(steadyName)
    expect(flakyHits()).toBe(4)

    // Recovered: after the window it answers, which clears its record.
    failing.delete(flakyName)
    clock.advance(31_000)
    expect((await callPool(p.id, caller.token)).body.name).toBe(flakyName)
    expect(await health()).toMatchObject({ consecutiveFailures: 0, ejectedUntil: null })
    expect((await callPool(p.id, caller.token)).body.name).toBe(flakyName)
  })
})

describe('pool lane: who may call', () => {
  test('any agent of the workspace by default; allowed callers narrow it; others get 404', async () => {
    const m = await agent(ws.key, at('/ok/m'))
    const allowed = await agent(ws.key, {}, false)
    const stranger = await agent(ws.key, {}, false)
    const foreign = await agent(other.key, {}, false)
    const p = await pool('failover', [{ agentId: m.id }])
    expect((await callPool(p.id, stranger.token)).status).toBe(200)
    const res = await callPool(p.id, foreign.token)
    expect(res.status).toBe(404)
    expect(res.headers.get('x-switchboard-pool')).toBeNull()

    await sb.call('PATCH', `/api/pools/${p.id}`, { token: ws.key, body: { allowedCallerIds: [allowed.id] } })
    expect((await callPool(p.id, allowed.token)).status).toBe(200)
    expect((await callPool(p.id, stranger.token)).status).toBe(404)
    expect((await callPool(p.id, foreign.token)).status).toBe(404)
  })

  test('credentials: none 401, a workspace key 403; unknown pool 404; bad id 400; unknown protocol 400', async () => {
    const m = await agent(ws.key, at('/ok/m'))
    const p = await pool('random', [{ agentId: m.id }])
    expect((await callPool(p.id, undefined)).status).toBe(401)
    expect((await callPool(p.id, ws.key)).status).toBe(403)
    expect((await callPool(crypto.randomUUID(), caller.token)).status).toBe(404)
    expect((await callPool('nope', caller.token)).status).toBe(400)
    const proto = await callPool(p.id, caller.token, '{}', { 'x-switchboard-protocol': 'gopher' })
    expect(proto.status).toBe(400)
    expect(proto.body.code).toBe('unknown_protocol')
  })

  test('the caller is never its own candidate; a pool with nobody else to call is a 400', async () => {
    const self = await agent(ws.key, at('/ok/self'))
    const peer = await agent(ws.key, at('/ok/peer'))
    const p = await pool('failover', [
      { agentId: self.id, priority: 0 },
      { agentId: peer.id, priority: 1 },
    ])
    expect((await callPool(p.id, self.token)).body.name).toBe('peer')
    const alone = await pool('failover', [{ agentId: self.id }])
    const res = await callPool(alone.id, self.token)
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('invalid_state')
    const empty = await pool('failover', [])
    expect((await callPool(empty.id, caller.token)).status).toBe(400)
  })

  test('membership changes reach the lane at once', async () => {
    const a = await agent(ws.key, at('/ok/first'))
    const b = await agent(ws.key, at('/ok/then'))
    const p = await pool('failover', [
      { agentId: a.id, priority: 0 },
      { agentId: b.id, priority: 1 },
    ])
    expect((await callPool(p.id, caller.token)).body.name).toBe('first')
    await sb.call('PATCH', `/api/pools/${p.id}/members/${b.id}`, { token: ws.key, body: { priority: 0 } })
    await sb.call('PATCH', `/api/pools/${p.id}/members/${a.id}`, { token: ws.key, body: { priority: 9 } })
    expect((await callPool(p.id, caller.token)).body.name).toBe('then')
    await sb.call('DELETE', `/api/pools/${p.id}/members/${b.permanentId}`, { token: ws.key })
    expect((await callPool(p.id, caller.token)).body.name).toBe('first')
    await sb.call('DELETE', `/api/pools/${p.id}`, { token: ws.key })
    expect((await callPool(p.id, caller.token)).status).toBe(404)
  })
})

describe('pool lane: body limit', () => {
  test('over 1 MB is a 413, declared or chunked, and no member is called', async () => {
    const m = await agent(ws.key, at('/ok/m'))
    const p = await pool('failover', [{ agentId: m.id }])
    const before = hits.length
    const declared = await callPool(p.id, caller.token, 'x'.repeat(1_048_577))
    expect(declared.status).toBe(413)
    const total = 64 * 1024 * 1024
    const chunk = new Uint8Array(64 * 1024).fill(120)
    let pulled = 0
    const res = await fetch(`${sb.url}/api/proxy/pool/${p.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}` },
      body: new ReadableStream<Uint8Array>({
        pull(c) {
          if (pulled >= total) return c.close()
          pulled += chunk.byteLength
          c.enqueue(chunk)
        },
      }),
    })
    expect(res.status).toBe(413)
    expect(((await res.json()) as any).code).toBe('payload_too_large')
    expect(pulled).toBeLessThan(total)
    expect(hits.length).toBe(before)
    const atLimit = await callPool(p.id, caller.token, 'y'.repeat(1_048_576))
    expect(atLimit.status).toBe(200)
    expect(atLimit.body.received.length).toBe(1_048_576)
  })
})
