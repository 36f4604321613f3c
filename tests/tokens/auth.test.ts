import { describe, expect, test } from 'bun:test'
import { ADMIN_TOKEN, harness, registerAgent } from '../helpers'

/**
 * The shared auth matrix: every credential failure mode against routes of each kind.
 */
const h = await harness()
const ws = await h.workspace()
const other = await h.workspace()
const a = await registerAgent(h, ws.key)
const b = await registerAgent(h, ws.key)
const foreign = await registerAgent(h, other.key)

const flip = (s: string) => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A')

describe('credential checks', () => {
  test('missing credential → 401', async () => {
    for (const [m, p] of [
      ['GET', '/api/agents'],
      ['GET', '/api/agents/me'],
      ['GET', '/api/workspace'],
      ['GET', '/api/workspaces'],
      ['POST', `/api/agents/${a.id}/heartbeat`],
    ] as const) {
      const res = await h.call(m, p)
      expect({ p, status: res.status, code: res.body.code }).toEqual({ p, status: 401, code: 'unauthorized' })
    }
  })

  test('malformed header, bad checksum and unknown tokens → 401', async () => {
    const cases = [
      { authorization: 'Basic abc' },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${flip(ws.key)}` },
      { authorization: `Bearer ${flip(a.token)}` },
      { authorization: 'Bearer tk_short' },
      { authorization: `Bearer ${'x'.repeat(40)}` },
    ]
    for (const headers of cases) {
      expect((await h.call('GET', '/api/agents', { headers })).status).toBe(401)
      expect((await h.call('GET', '/api/agents/me', { headers })).status).toBe(401)
    }
  })

  test('x-api-key carries workspace keys only', async () => {
    expect((await h.call('GET', '/api/agents', { headers: { 'x-api-key': ws.key } })).status).toBe(200)
    expect((await h.call('GET', '/api/agents/me', { headers: { 'x-api-key': a.token } })).status).toBe(401)
  })

  test('wrong credential kind → 403', async () => {
    expect((await h.call('GET', '/api/agents', { token: a.token })).status).toBe(403)
    expect((await h.call('GET', '/api/agents/me', { token: ws.key })).status).toBe(403)
    expect((await h.call('GET', '/api/workspaces', { token: ws.key })).status).toBe(403)
    expect((await h.call('POST', '/api/workspaces', { token: a.token, body: { name: 'x' } })).status).toBe(
      403,
    )
    expect((await h.call('GET', '/api/agents', { token: ADMIN_TOKEN })).status).toBe(403)
    const hb = await h.call('POST', `/api/agents/${a.id}/heartbeat`, {
      token: ws.key,
      body: { status: 'online' },
    })
    expect(hb.status).toBe(403)
  })

  test('another workspace’s objects → 404', async () => {
    for (const [m, p] of [
      ['GET', `/api/agents/${foreign.id}`],
      ['GET', `/api/agents/${foreign.permanentId}`],
      ['PATCH', `/api/agents/${foreign.id}`],
      ['DELETE', `/api/agents/${foreign.id}`],
      ['POST', `/api/agents/${foreign.id}/rotate-token`],
      ['PUT', `/api/agents/${foreign.id}/endpoint-credential`],
      ['DELETE', `/api/agents/${foreign.id}/endpoint-credential`],
      ['PUT', `/api/agents/${foreign.id}/capabilities`],
      ['GET', `/api/agents/${foreign.id}/audit-logs`],
      ['GET', `/api/teams/${other.id}/agents`],
    ] as const) {
      const body =
        m === 'PATCH'
          ? { name: 'stolen' }
          : p.endsWith('credential') && m === 'PUT'
            ? { endpointCredential: 'secret-value-123' }
            : p.endsWith('capabilities')
              ? { capabilities: [] }
              : m === 'POST'
                ? {}
                : undefined
      const res = await h.call(m, p, { token: ws.key, body })
      expect({ m, p, status: res.status }).toEqual({ m, p, status: 404 })
    }
    // Still intact in its own workspace.
    expect((await h.call('GET', `/api/agents/${foreign.id}`, { token: other.key })).body.name).toBe('agent')
  })

  test('an agent token acts only as its own agent', async () => {
    const res = await h.call('POST', `/api/agents/${b.id}/heartbeat`, {
      token: a.token,
      body: { status: 'online' },
    })
    expect(res.status).toBe(403)
    const foreignHb = await h.call('POST', `/api/agents/${foreign.id}/heartbeat`, {
      token: a.token,
      body: {},
    })
    expect(foreignHb.status).toBe(403)
    const rot = await h.call('POST', `/api/agents/${b.id}/rotate-token`, { token: a.token, body: {} })
    expect(rot.status).toBe(403)
  })
})

describe('token lifecycle ends access at once', () => {
  test('deactivate → 401, reactivate → works again', async () => {
    const ag = await registerAgent(h, ws.key)
    expect((await h.call('GET', '/api/agents/me', { token: ag.token })).status).toBe(200)
    expect(
      (await h.call('PATCH', `/api/agents/${ag.id}`, { token: ws.key, body: { status: 'inactive' } })).status,
    ).toBe(200)
    expect((await h.call('GET', '/api/agents/me', { token: ag.token })).status).toBe(401)
    expect(
      (await h.call('PATCH', `/api/agents/${ag.id}`, { token: ws.key, body: { status: 'active' } })).status,
    ).toBe(200)
    expect((await h.call('GET', '/api/agents/me', { token: ag.token })).status).toBe(200)
  })

  test('archive → 401', async () => {
    const ag = await registerAgent(h, ws.key)
    await h.call('GET', '/api/agents/me', { token: ag.token })
    await h.call('PATCH', `/api/agents/${ag.id}`, { token: ws.key, body: { archived: true } })
    expect((await h.call('GET', '/api/agents/me', { token: ag.token })).status).toBe(401)
  })

  test('delete → 401', async () => {
    const ag = await registerAgent(h, ws.key)
    await h.call('GET', '/api/agents/me', { token: ag.token })
    expect((await h.call('DELETE', `/api/agents/${ag.id}`, { token: ws.key })).body).toEqual({
      id: ag.id,
      permanentId: ag.permanentId,
      deleted: true,
    })
    expect((await h.call('GET', '/api/agents/me', { token: ag.token })).status).toBe(401)
    expect((await h.call('GET', `/api/agents/${ag.id}`, { token: ws.key })).status).toBe(404)
  })

  test('rotate without grace: old token dies at once, new one works', async () => {
    const ag = await registerAgent(h, ws.key)
    await h.call('GET', '/api/agents/me', { token: ag.token })
    const rot = await h.call('POST', `/api/agents/${ag.id}/rotate-token`, { token: ws.key, body: {} })
    expect(rot.status).toBe(200)
    expect(rot.body.previousTokenValidUntil).toBeNull()
    expect(rot.body.token).not.toBe(ag.token)
    expect((await h.call('GET', '/api/agents/me', { token: ag.token })).status).toBe(401)
    expect((await h.call('GET', '/api/agents/me', { token: rot.body.token })).status).toBe(200)
  })

  test('rotate with the agent’s own token and a grace keeps the old one until then', async () => {
    const ag = await registerAgent(h, ws.key)
    const rot = await h.call('POST', `/api/agents/${ag.permanentId}/rotate-token`, {
      token: ag.token,
      body: { graceSeconds: 600, ttlSeconds: 3600 },
    })
    expect(rot.status).toBe(200)
    const until = new Date(rot.body.previousTokenValidUntil).getTime()
    expect(until - Date.now()).toBeGreaterThan(590_000)
    expect(new Date(rot.body.expiresAt).getTime() - Date.now()).toBeGreaterThan(3590_000)
    expect((await h.call('GET', '/api/agents/me', { token: ag.token })).status).toBe(200)
    expect((await h.call('GET', '/api/agents/me', { token: rot.body.token })).status).toBe(200)
    const bad = await h.call('POST', `/api/agents/${ag.id}/rotate-token`, {
      token: ws.key,
      body: { graceSeconds: 3601 },
    })
    expect(bad.status).toBe(400)
  })

  test('revoked workspace key → 401 at once; the last key cannot be revoked', async () => {
    const w = await h.workspace()
    const created = await h.call('POST', '/api/workspace/keys', { token: w.key, body: { name: 'ci' } })
    expect(created.status).toBe(201)
    const second = created.body.apiKey
    expect((await h.call('GET', '/api/workspace', { token: second })).status).toBe(200)
    const list = await h.call('GET', '/api/workspace/keys', { token: w.key })
    expect(list.body.keys).toHaveLength(2)
    const firstId = list.body.keys.find((k: any) => k.id !== created.body.key.id).id
    expect((await h.call('DELETE', `/api/workspace/keys/${firstId}`, { token: second })).status).toBe(200)
    expect((await h.call('GET', '/api/workspace', { token: w.key })).status).toBe(401)
    const last = await h.call('DELETE', `/api/workspace/keys/${created.body.key.id}`, { token: second })
    expect(last.status).toBe(409)
  })
})
