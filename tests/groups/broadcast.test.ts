import { describe, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import { liveServer, upstream } from '../helpers'

/**
 * The broadcast lane against real local agents: fast, hanging past a short test timeout, a 500,
 * a refused port, an inactive member, an offline member with a fallback, text, a large answer.
 */
const sb = await liveServer({ env: { SWITCHBOARD_BROADCAST_TIMEOUT_MS: '700' } })
const ws = await sb.workspace()
const other = await sb.workspace()

type Hit = { path: string; body: string; headers: Record<string, string> }
const hits: Hit[] = []
const agentServer = upstream(async (req) => {
  const url = new URL(req.url)
  const body = await req.text()
  hits.push({ path: url.pathname, body, headers: Object.fromEntries(req.headers) })
  if (url.pathname.startsWith('/ok/'))
    return Response.json(
      { name: url.pathname.slice(4), received: body },
      { headers: { 'set-cookie': 'x=1' } },
    )
  if (url.pathname === '/status')
    return new Response('upstream says no', { status: Number(url.searchParams.get('s')) })
  if (url.pathname === '/text')
    return new Response('plain words', { headers: { 'content-type': 'text/plain' } })
  if (url.pathname === '/json-as-text')
    return new Response('42', { headers: { 'content-type': 'text/plain' } })
  if (url.pathname === '/big')
    return new Response('x'.repeat(300 * 1024), { headers: { 'content-type': 'text/plain' } })
  if (url.pathname === '/gzip')
    return new Response(gzipSync(JSON.stringify({ zipped: true })), {
      headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
    })
  if (url.pathname === '/hang') {
    await new Promise<void>((resolve) => req.signal.addEventListener('abort', () => resolve()))
    return new Response('late')
  }
  if (url.pathname === '/slow-body') {
    // Headers at once, then a body that never finishes: the member deadline must still hold.
    return new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"partial":'))
        },
      }),
      { headers: { 'content-type': 'application/json' } },
    )
  }
  return new Response('no such path', { status: 404 })
})

const deadPort = await (async () => {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port
  s.stop(true)
  return port
})()

async function agent(key: string, body: Record<string, unknown> = {}, online = false) {
  const res = await sb.call('POST', '/api/agents', { token: key, body: { name: 'agent', ...body } })
  expect(res.status).toBe(201)
  const a = {
    id: res.body.agent.id as string,
    permanentId: res.body.agent.permanentId as string,
    token: res.body.token as string,
  }
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

async function group(body: Record<string, unknown>, key = ws.key) {
  const res = await sb.call('POST', '/api/broadcast-groups', { token: key, body: { name: 'g', ...body } })
  expect(res.status).toBe(201)
  return res.body
}

const broadcast = (groupId: string, token: string | undefined, raw = '{"question":"ping"}', headers = {}) =>
  sb.call('POST', `/api/proxy/broadcast/${groupId}`, {
    token,
    raw,
    headers: { 'content-type': 'application/json', ...headers },
  })

describe('broadcast lane', () => {
  test('mixed members: each gets its own outcome, the call itself succeeds', async () => {
    const caller = await agent(ws.key, { name: 'caller' })
    const fast = await agent(ws.key, { ...at('/ok/fast'), endpointCredential: 'fast-secret-1234' }, true)
    const slow = await agent(ws.key, at('/hang'), true)
    const failing = await agent(ws.key, at('/status?s=500'), true)
    const refused = await agent(ws.key, { endpointUrl: `http://127.0.0.1:${deadPort}/` }, true)
    const inactive = await agent(ws.key, at('/ok/inactive'), true)
    await sb.call('PATCH', `/api/agents/${inactive.id}`, { token: ws.key, body: { status: 'inactive' } })
    const backup = await agent(ws.key, at('/ok/backup'), true)
    // Never heartbeats: offline, so its fallback takes the call.
    const primary = await agent(ws.key, { ...at('/ok/primary'), fallbackAgentId: backup.id })
    const texty = await agent(ws.key, at('/text'), true)
    const numberText = await agent(ws.key, at('/json-as-text'), true)
    const big = await agent(ws.key, at('/big'), true)
    const zipped = await agent(ws.key, at('/gzip'), true)
    const slowBody = await agent(ws.key, at('/slow-body'), true)
    const members = [
      fast,
      slow,
      failing,
      refused,
      inactive,
      primary,
      texty,
      numberText,
      big,
      zipped,
      slowBody,
      caller,
    ]
    const g = await group({ memberIds: members.map((m) => m.id) })

    const before = hits.length
    const res = await broadcast(g.id, caller.token)
    expect(res.status).toBe(200)
    expect(res.body.groupId).toBe(g.id)
    const byId = new Map<string, any>(res.body.results.map((r: any) => [r.agentId, r]))
    // Every member but the caller, in membership order.
    expect(res.body.results.map((r: any) => r.agentId)).toEqual(members.slice(0, -1).map((m) => m.id))

    expect(byId.get(fast.id)).toMatchObject({
      permanentId: fast.permanentId,
      status: 'fulfilled',
      httpStatus: 200,
      body: { name: 'fast', received: '{"question":"ping"}' },
      truncated: false,
      error: null,
      handledBy: fast.permanentId,
    })
    expect(byId.get(slow.id)).toMatchObject({
      status: 'rejected',
      httpStatus: null,
      handledBy: slow.permanentId,
    })
    expect(byId.get(slow.id).error).toContain('did not answer within 700 ms')
    // An HTTP answer is fulfilled whatever its status.
    expect(byId.get(failing.id)).toMatchObject({
      status: 'fulfilled',
      httpStatus: 500,
      body: 'upstream says no',
    })
    expect(byId.get(refused.id)).toMatchObject({ status: 'rejected', httpStatus: null, body: null })
    expect(byId.get(refused.id).error).toContain('could not be reached')
    expect(byId.get(inactive.id)).toMatchObject({ status: 'rejected', httpStatus: null, handledBy: null })
    expect(byId.get(inactive.id).error).toContain('inactive')
    expect(byId.get(primary.id)).toMatchObject({
      status: 'fulfilled',
      body: { name: 'backup' },
      handledBy: backup.permanentId,
    })
    expect(byId.get(texty.id).body).toBe('plain words')
    expect(byId.get(numberText.id).body).toBe('42')
    expect(byId.get(big.id)).toMatchObject({ status: 'fulfilled', truncated: true })
    expect(byId.get(big.id).body.length).toBe(256 * 1024)
    expect(byId.get(zipped.id).body).toEqual({ zipped: true })
    expect(byId.get(slowBody.id)).toMatchObject({ status: 'rejected', httpStatus: 200 })
    expect(byId.get(slowBody.id).error).toContain('did not arrive in time')
    for (const r of res.body.results) expect(Number.isInteger(r.durationMs)).toBe(true)

    // The same bytes reached every member that was called; the caller's token reached none.
    const sent = hits.slice(before)
    expect(sent.length).toBe(9) // all but the caller, the inactive member and the refused port
    for (const hit of sent) {
      expect(hit.body).toBe('{"question":"ping"}')
      expect(hit.headers['x-switchboard-caller']).toBe(caller.permanentId)
      expect(hit.headers['x-switchboard-broadcast-group']).toBe(g.id)
      expect(JSON.stringify(hit.headers)).not.toContain(caller.token)
    }
    expect(sent.find((s) => s.path === '/ok/fast')!.headers.authorization).toBe('Bearer fast-secret-1234')
    expect(sent.some((s) => s.path === '/ok/primary')).toBe(false)
  })

  test('any agent of the workspace may call by default; allowed callers narrow it; others get 404', async () => {
    const member = await agent(ws.key, at('/ok/m'), true)
    const caller = await agent(ws.key)
    const stranger = await agent(ws.key)
    const foreign = await agent(other.key)
    const g = await group({ memberIds: [member.id] })
    expect((await broadcast(g.id, caller.token)).status).toBe(200)
    expect((await broadcast(g.id, stranger.token)).status).toBe(200)
    const foreignRes = await broadcast(g.id, foreign.token)
    expect(foreignRes.status).toBe(404)
    expect(foreignRes.body.code).toBe('not_found')

    // Narrowed: takes effect at once (the lane's cache is invalidated).
    await sb.call('PATCH', `/api/broadcast-groups/${g.id}`, {
      token: ws.key,
      body: { allowedCallerIds: [caller.permanentId] },
    })
    expect((await broadcast(g.id, caller.token)).status).toBe(200)
    expect((await broadcast(g.id, stranger.token)).status).toBe(404)
    await sb.call('PATCH', `/api/broadcast-groups/${g.id}`, { token: ws.key, body: { allowedCallerIds: [] } })
    expect((await broadcast(g.id, caller.token)).status).toBe(404)
    await sb.call('PATCH', `/api/broadcast-groups/${g.id}`, {
      token: ws.key,
      body: { allowedCallerIds: null },
    })
    expect((await broadcast(g.id, stranger.token)).status).toBe(200)

    // Another workspace's group, even with the same member layout, stays invisible.
    const theirs = await group({ memberIds: [foreign.id] }, other.key)
    expect((await broadcast(theirs.id, caller.token)).status).toBe(404)
  })

  test('credentials: none 401, a workspace key 403; unknown group 404; bad id 400', async () => {
    const member = await agent(ws.key, at('/ok/m'))
    const caller = await agent(ws.key)
    const g = await group({ memberIds: [member.id] })
    expect((await broadcast(g.id, undefined)).status).toBe(401)
    expect((await broadcast(g.id, ws.key)).status).toBe(403)
    expect(
      (await broadcast(g.id, caller.token.slice(0, -1) + (caller.token.endsWith('x') ? 'y' : 'x'))).status,
    ).toBe(401)
    expect((await broadcast(crypto.randomUUID(), caller.token)).status).toBe(404)
    expect((await broadcast('not-a-uuid', caller.token)).status).toBe(400)
  })

  test('membership changes reach the lane at once; an empty group answers no results', async () => {
    const a = await agent(ws.key, at('/ok/a'), true)
    const b = await agent(ws.key, at('/ok/b'), true)
    const caller = await agent(ws.key)
    const g = await group({ memberIds: [a.id, b.id] })
    expect((await broadcast(g.id, caller.token)).body.results.length).toBe(2)
    await sb.call('DELETE', `/api/broadcast-groups/${g.id}/members/${a.permanentId}`, { token: ws.key })
    expect((await broadcast(g.id, caller.token)).body.results.map((r: any) => r.agentId)).toEqual([b.id])
    await sb.call('DELETE', `/api/agents/${b.id}`, { token: ws.key })
    expect((await broadcast(g.id, caller.token)).body).toEqual({ groupId: g.id, results: [] })
    await sb.call('DELETE', `/api/broadcast-groups/${g.id}`, { token: ws.key })
    expect((await broadcast(g.id, caller.token)).status).toBe(404)
  })

  test('protocol routing per member: unknown protocol 400, not enabled is that member’s rejection', async () => {
    const speaks = await agent(
      ws.key,
      { ...at('/ok/plain'), protocols: { mcp: { enabled: true, url: `${agentServer.url}/ok/mcp` } } },
      true,
    )
    const silent = await agent(ws.key, at('/ok/silent'), true)
    const caller = await agent(ws.key)
    const g = await group({ memberIds: [speaks.id, silent.id] })
    const res = await broadcast(g.id, caller.token, '{}', { 'x-switchboard-protocol': 'mcp' })
    expect(res.status).toBe(200)
    expect(res.body.results[0]).toMatchObject({ status: 'fulfilled', body: { name: 'mcp' } })
    expect(res.body.results[1]).toMatchObject({ status: 'rejected', handledBy: null })
    expect(res.body.results[1].error).toContain('does not have mcp enabled')
    const unknown = await broadcast(g.id, caller.token, '{}', { 'x-switchboard-protocol': 'smtp' })
    expect(unknown.status).toBe(400)
    expect(unknown.body.code).toBe('unknown_protocol')
  })

  test('a body over 1 MB is a 413, declared or chunked, and nothing is sent', async () => {
    const member = await agent(ws.key, at('/ok/m'), true)
    const caller = await agent(ws.key)
    const g = await group({ memberIds: [member.id] })
    const before = hits.length
    const declared = await broadcast(g.id, caller.token, 'x'.repeat(1_048_577))
    expect(declared.status).toBe(413)
    expect(declared.body.code).toBe('payload_too_large')

    // Chunked, no Content-Length: refused once more than the limit has arrived, long before the end.
    const total = 64 * 1024 * 1024
    const chunk = new Uint8Array(64 * 1024).fill(120)
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled >= total) return c.close()
        pulled += chunk.byteLength
        c.enqueue(chunk)
      },
    })
    const res = await fetch(`${sb.url}/api/proxy/broadcast/${g.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}` },
      body,
    })
    expect(res.status).toBe(413)
    expect(((await res.json()) as any).code).toBe('payload_too_large')
    expect(pulled).toBeLessThan(total)
    expect(hits.length).toBe(before)

    // Exactly at the limit is fine.
    const atLimit = await broadcast(g.id, caller.token, 'y'.repeat(1_048_576))
    expect(atLimit.status).toBe(200)
    expect(hits.at(-1)!.body.length).toBe(1_048_576)
    // The echo of it is over the per-member answer cap: cut, and so left as text.
    expect(atLimit.body.results[0]).toMatchObject({ status: 'fulfilled', truncated: true })
  })
})
