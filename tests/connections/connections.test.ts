import { describe, expect, test } from 'bun:test'
import { harness, registerAgent } from '../helpers'

const h = await harness()
const ws = await h.workspace()
const other = await h.workspace()
const third = await h.workspace()

describe('connections', () => {
  test('private: same workspace, active at once; duplicates and self are refused', async () => {
    const a = await registerAgent(h, ws.key)
    const b = await registerAgent(h, ws.key)
    const res = await h.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: a.permanentId, targetAgentId: b.id, type: 'private' },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      type: 'private',
      status: 'active',
      direction: 'internal',
      agentId: a.id,
      agentPermanentId: a.permanentId,
      targetAgentId: b.id,
      targetPermanentId: b.permanentId,
    })
    const again = await h.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: b.id, targetAgentId: a.id, type: 'private' },
    })
    expect(again.status).toBe(409)
    const self = await h.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: a.id, targetAgentId: a.id, type: 'private' },
    })
    expect(self.status).toBe(400)
    const foreign = await registerAgent(h, other.key)
    const cross = await h.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: a.id, targetPermanentId: foreign.permanentId, type: 'private' },
    })
    expect(cross.status).toBe(404)
  })

  test('board: pending until the target workspace accepts; only it may answer', async () => {
    const a = await registerAgent(h, ws.key)
    const t = await registerAgent(h, other.key)
    const res = await h.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: a.id, targetPermanentId: t.permanentId, type: 'board' },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ status: 'pending', direction: 'outgoing', targetWorkspaceId: other.id })
    const id = res.body.id
    // The initiator cannot accept its own request; a third workspace cannot see it.
    expect((await h.call('POST', `/api/connections/${id}/accept`, { token: ws.key })).status).toBe(403)
    expect((await h.call('POST', `/api/connections/${id}/accept`, { token: third.key })).status).toBe(404)
    expect((await h.call('GET', `/api/connections/${id}`, { token: third.key })).status).toBe(404)
    const incoming = await h.call('GET', '/api/connections?status=pending', { token: other.key })
    expect(incoming.body.connections.map((c: any) => [c.id, c.direction])).toContainEqual([id, 'incoming'])
    const accepted = await h.call('POST', `/api/connections/${id}/accept`, { token: other.key })
    expect(accepted.body).toMatchObject({ status: 'active', direction: 'incoming' })
    expect(accepted.body.acceptedAt).toBeTruthy()
    expect((await h.call('POST', `/api/connections/${id}/decline`, { token: other.key })).status).toBe(409)
  })

  test('board: decline, then revoke by either side', async () => {
    const a = await registerAgent(h, ws.key)
    const t = await registerAgent(h, other.key)
    const id = (
      await h.call('POST', '/api/connections', {
        token: ws.key,
        body: { agentId: a.id, targetAgentId: t.permanentId, type: 'board' },
      })
    ).body.id
    expect((await h.call('POST', `/api/connections/${id}/decline`, { token: other.key })).body.status).toBe(
      'declined',
    )
    expect((await h.call('DELETE', `/api/connections/${id}`, { token: third.key })).status).toBe(404)
    expect((await h.call('DELETE', `/api/connections/${id}`, { token: other.key })).body).toEqual({
      id,
      revoked: true,
    })
    expect((await h.call('GET', `/api/connections/${id}`, { token: ws.key })).status).toBe(404)
  })

  test('board heartbeat: participants’ tokens or either workspace key', async () => {
    const a = await registerAgent(h, ws.key)
    const t = await registerAgent(h, other.key)
    const stranger = await registerAgent(h, ws.key)
    const id = (
      await h.call('POST', '/api/connections', {
        token: ws.key,
        body: { agentId: a.id, targetPermanentId: t.permanentId, type: 'board' },
      })
    ).body.id
    expect((await h.call('POST', `/api/board/connections/${id}/heartbeat`, { token: a.token })).status).toBe(
      400,
    )
    await h.call('POST', `/api/connections/${id}/accept`, { token: other.key })
    for (const token of [a.token, t.token, ws.key, other.key]) {
      const res = await h.call('POST', `/api/board/connections/${id}/heartbeat`, { token })
      expect(res.status).toBe(200)
      expect(res.body.status).toBe('active')
    }
    expect(
      (await h.call('POST', `/api/board/connections/${id}/heartbeat`, { token: stranger.token })).status,
    ).toBe(404)
    expect(
      (await h.call('POST', `/api/board/connections/${id}/heartbeat`, { token: third.key })).status,
    ).toBe(404)
    expect((await h.call('POST', `/api/board/connections/${id}/heartbeat`)).status).toBe(401)
    const got = await h.call('GET', `/api/connections/${id}`, { token: ws.key })
    expect(got.body.lastHeartbeatAt).toBeTruthy()
    const priv = await h.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: a.id, targetAgentId: stranger.id, type: 'private' },
    })
    expect(
      (await h.call('POST', `/api/board/connections/${priv.body.id}/heartbeat`, { token: a.token })).status,
    ).toBe(400)
  })

  test('list: filters and pagination; events for both workspaces', async () => {
    const w = await h.workspace()
    const agents = await Promise.all([0, 1, 2, 3].map(() => registerAgent(h, w.key)))
    const ids: string[] = []
    for (let i = 1; i < 4; i++) {
      ids.push(
        (
          await h.call('POST', '/api/connections', {
            token: w.key,
            body: { agentId: agents[0]!.id, targetAgentId: agents[i]!.id, type: 'private' },
          })
        ).body.id,
      )
    }
    const p1 = await h.call('GET', '/api/connections?limit=2', { token: w.key })
    const p2 = await h.call('GET', `/api/connections?limit=2&cursor=${p1.body.nextCursor}`, { token: w.key })
    expect([...p1.body.connections, ...p2.body.connections].map((c: any) => c.id)).toEqual(ids)
    expect(p2.body.nextCursor).toBeNull()
    const byAgent = await h.call('GET', `/api/connections?agentId=${agents[2]!.permanentId}`, {
      token: w.key,
    })
    expect(byAgent.body.connections.map((c: any) => c.id)).toEqual([ids[1]])
    const { events } = h.deps.db.t
    const { eq } = await import('drizzle-orm')
    const rows = await h.deps.db.orm.select().from(events).where(eq(events.workspaceId, w.id))
    expect(rows.filter((r) => r.type === 'connection.created')).toHaveLength(3)
  })

  test('bad input', async () => {
    const a = await registerAgent(h, ws.key)
    for (const body of [
      {},
      { agentId: a.id, type: 'private' },
      { agentId: a.id, targetAgentId: a.id, targetPermanentId: a.permanentId, type: 'private' },
      { agentId: a.id, targetAgentId: a.id, type: 'tunnel' },
      { agentId: a.id, targetPermanentId: 'not-a-permanent-id', type: 'board' },
      { agentId: a.id, targetAgentId: a.id, type: 'private', extra: 1 },
    ]) {
      expect((await h.call('POST', '/api/connections', { token: ws.key, body })).status).toBe(400)
    }
    expect((await h.call('GET', '/api/connections/nope', { token: ws.key })).status).toBe(400)
    expect((await h.call('GET', '/api/connections?status=open', { token: ws.key })).status).toBe(400)
    expect((await h.call('GET', '/api/connections', { token: a.token })).status).toBe(403)
    expect((await h.call('GET', '/api/connections')).status).toBe(401)
  })
})
