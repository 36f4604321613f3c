import { describe, expect, test } from 'bun:test'
import { harness, registerAgent } from '../helpers'

const h = await harness()
const ws = await h.workspace()

describe('GET /api/agents', () => {
  const w2 = h.workspace()
  test('filters, search and cursor pagination', async () => {
    const { key } = await w2
    const made = []
    for (let i = 0; i < 7; i++) {
      made.push(
        await registerAgent(h, key, {
          name: `worker-${i}`,
          label: i % 2 ? 'prod' : 'dev',
          description: i === 3 ? 'Knows 100% of SQL_stuff' : null,
          capabilities: i < 2 ? [{ name: 'gpu' }] : [],
        }),
      )
    }
    const pages: string[] = []
    let cursor: string | null = null
    do {
      const res: any = await h.call('GET', `/api/agents?limit=3${cursor ? `&cursor=${cursor}` : ''}`, {
        token: key,
      })
      expect(res.status).toBe(200)
      pages.push(...res.body.agents.map((a: any) => a.id))
      cursor = res.body.nextCursor
    } while (cursor)
    expect(pages).toEqual(made.map((m) => m.id))

    const prod = await h.call('GET', '/api/agents?label=prod', { token: key })
    expect(prod.body.agents.map((a: any) => a.name)).toEqual(['worker-1', 'worker-3', 'worker-5'])
    const gpu = await h.call('GET', '/api/agents?capability=gpu', { token: key })
    expect(gpu.body.agents.map((a: any) => a.name)).toEqual(['worker-0', 'worker-1'])
    // Paged one at a time, combined with another filter, and never another workspace's agent
    // that has the same capability.
    const other = await h.workspace()
    const outsider = await registerAgent(h, other.key, { name: 'outsider', capabilities: [{ name: 'gpu' }] })
    const first = await h.call('GET', '/api/agents?capability=gpu&limit=1', { token: key })
    expect(first.body.agents.map((a: any) => a.name)).toEqual(['worker-0'])
    const second = await h.call('GET', `/api/agents?capability=gpu&limit=1&cursor=${first.body.nextCursor}`, {
      token: key,
    })
    expect(second.body.agents.map((a: any) => a.name)).toEqual(['worker-1'])
    expect(second.body.nextCursor).toBeNull()
    const gpuProd = await h.call('GET', '/api/agents?capability=gpu&label=prod', { token: key })
    expect(gpuProd.body.agents.map((a: any) => a.name)).toEqual(['worker-1'])
    const theirs = await h.call('GET', '/api/agents?capability=gpu', { token: other.key })
    expect(theirs.body.agents.map((a: any) => a.id)).toEqual([outsider.id])
    const q = await h.call('GET', `/api/agents?q=${encodeURIComponent('100%')}`, { token: key })
    expect(q.body.agents.map((a: any) => a.name)).toEqual(['worker-3'])
    const literal = await h.call('GET', '/api/agents?q=L_s', { token: key })
    expect(literal.body.agents.map((a: any) => a.name)).toEqual(['worker-3'])
    const byName = await h.call('GET', '/api/agents?q=WORKER-6', { token: key })
    expect(byName.body.agents.map((a: any) => a.name)).toEqual(['worker-6'])

    await h.call('PATCH', `/api/agents/${made[0]!.id}`, { token: key, body: { status: 'inactive' } })
    await h.call('PATCH', `/api/agents/${made[1]!.id}`, { token: key, body: { archived: true } })
    const inactive = await h.call('GET', '/api/agents?status=inactive', { token: key })
    expect(inactive.body.agents.map((a: any) => a.name)).toEqual(['worker-0'])
    const listed = await h.call('GET', '/api/agents', { token: key })
    expect(listed.body.agents.map((a: any) => a.name)).not.toContain('worker-1')
    const archived = await h.call('GET', '/api/agents?archived=true', { token: key })
    expect(archived.body.agents.map((a: any) => a.name)).toEqual(['worker-1'])
    const offline = await h.call('GET', '/api/agents?online=false&limit=500', { token: key })
    expect(offline.body.agents).toHaveLength(6)
  })

  test('bad query values are 400s', async () => {
    for (const q of [
      'limit=0',
      'limit=501',
      'limit=abc',
      'limit=99999999999999999999',
      'cursor=not-a-cursor!',
      `cursor=${Buffer.from('{"after":"x"}').toString('base64url')}`,
      `cursor=${'a'.repeat(600)}`,
      'status=gone',
      'online=maybe',
      'archived=2',
    ]) {
      const res = await h.call('GET', `/api/agents?${q}`, { token: ws.key })
      expect({ q, status: res.status }).toEqual({ q, status: 400 })
      expect(res.body.code).toMatch(/invalid_/)
    }
    expect((await h.call('GET', '/api/agents/not-an-id', { token: ws.key })).status).toBe(400)
    expect((await h.call('GET', '/api/agents/agt-UPPERCAS', { token: ws.key })).status).toBe(400)
  })
})

describe('one agent', () => {
  test('get by UUID or permanent id; rename keeps the permanent id', async () => {
    const a = await registerAgent(h, ws.key, { name: 'before' })
    expect((await h.call('GET', `/api/agents/${a.permanentId}`, { token: ws.key })).body.id).toBe(a.id)
    const patched = await h.call('PATCH', `/api/agents/${a.id}`, {
      token: ws.key,
      body: { name: 'after', description: 'd', label: null, protocols: { openai: { enabled: true } } },
    })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({
      name: 'after',
      permanentId: a.permanentId,
      description: 'd',
      protocols: { openai: { enabled: true, url: null } },
    })
    expect(new Date(patched.body.updatedAt) >= new Date(a.agent.updatedAt)).toBe(true)
    expect((await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: {} })).status).toBe(400)
    expect(
      (await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { token: 'x'.repeat(40) } }))
        .status,
    ).toBe(400)
    expect(
      (await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { fallbackAgentId: a.id } }))
        .status,
    ).toBe(400)
  })

  test('endpoint credential: write-only, set and cleared', async () => {
    const a = await registerAgent(h, ws.key)
    expect(a.agent.hasEndpointCredential).toBe(false)
    const set = await h.call('PUT', `/api/agents/${a.id}/endpoint-credential`, {
      token: ws.key,
      body: { endpointCredential: 'super-secret-value-9876', endpointAuthHeader: 'X-Api-Key' },
    })
    expect(set.status).toBe(200)
    expect(set.body).toMatchObject({
      hasEndpointCredential: true,
      endpointCredentialHint: '9876',
      endpointAuthHeader: 'X-Api-Key',
    })
    expect(set.text).not.toContain('super-secret')
    const cleared = await h.call('DELETE', `/api/agents/${a.id}/endpoint-credential`, { token: ws.key })
    expect(cleared.body).toMatchObject({ hasEndpointCredential: false, endpointCredentialHint: null })
    const short = await h.call('PUT', `/api/agents/${a.id}/endpoint-credential`, {
      token: ws.key,
      body: { endpointCredential: 'abc' },
    })
    // Short credentials get no hint: four characters would be most of the secret.
    expect(short.body).toMatchObject({ hasEndpointCredential: true, endpointCredentialHint: null })
    const bad = await h.call('PUT', `/api/agents/${a.id}/endpoint-credential`, { token: ws.key, body: {} })
    expect(bad.status).toBe(400)
  })

  test('capabilities: merge by name, replace, find by capability', async () => {
    const a = await registerAgent(h, ws.key, { capabilities: [{ name: 'gpu', metadata: { model: 'A100' } }] })
    const merged = await h.call('POST', `/api/agents/${a.id}/capabilities`, {
      token: ws.key,
      body: {
        capabilities: [
          { name: 'gpu', metadata: { model: 'H100' } },
          { name: 'high-memory', metadata: { ram: '256GB' } },
        ],
      },
    })
    expect(merged.body.capabilities).toEqual([
      { name: 'gpu', metadata: { model: 'H100' } },
      { name: 'high-memory', metadata: { ram: '256GB' } },
    ])
    // The agent may manage its own capabilities.
    const own = await h.call('POST', `/api/agents/${a.id}/capabilities`, {
      token: a.token,
      body: { capabilities: [{ name: 'tools' }] },
    })
    expect(own.body.capabilities.map((c: any) => c.name)).toEqual(['gpu', 'high-memory', 'tools'])
    const found = await h.call('GET', '/api/agents/by-capability/high-memory', { token: ws.key })
    expect(found.body.agents).toEqual([
      {
        id: a.id,
        permanentId: a.permanentId,
        name: 'agent',
        presence: 'offline',
        isOnline: false,
        capability: { name: 'high-memory', metadata: { ram: '256GB' } },
      },
    ])
    const replaced = await h.call('PUT', `/api/agents/${a.id}/capabilities`, {
      token: ws.key,
      body: { capabilities: [{ name: 'cpu' }] },
    })
    expect(replaced.body.capabilities).toEqual([{ name: 'cpu', metadata: {} }])
    expect((await h.call('GET', '/api/agents/by-capability/gpu', { token: ws.key })).body.agents).toEqual([])
    const big = await h.call('PUT', `/api/agents/${a.id}/capabilities`, {
      token: ws.key,
      body: { capabilities: [{ name: 'x', metadata: { blob: 'y'.repeat(9000) } }] },
    })
    expect(big.status).toBe(400)
  })

  test('expiring tokens lists agents whose token ends within the window', async () => {
    const w = await h.workspace()
    const soon = await h.call('POST', '/api/agents/provision', {
      token: w.key,
      body: { clientType: 'aider', ttlSeconds: 3600 },
    })
    await h.call('POST', '/api/agents/provision', {
      token: w.key,
      body: { clientType: 'aider', ttlSeconds: 86_400 },
    })
    await registerAgent(h, w.key)
    const res = await h.call('GET', '/api/agents/expiring-tokens?withinHours=2', { token: w.key })
    expect(res.body.agents).toHaveLength(1)
    expect(res.body.agents[0].id).toBe(soon.body.agentId)
    expect(res.body.agents[0].hoursUntilExpiry).toBeGreaterThan(0.9)
    expect(res.body.agents[0].hoursUntilExpiry).toBeLessThanOrEqual(1)
    expect((await h.call('GET', '/api/agents/expiring-tokens', { token: w.key })).body.agents).toHaveLength(2)
  })

  test('team-scoped aliases use the workspace as the team', async () => {
    const created = await h.call('POST', `/api/teams/${ws.id}/agents`, {
      token: ws.key,
      body: { name: 'Summarizer Agent', description: 'Reads documents' },
    })
    expect(created.status).toBe(201)
    expect(created.body.token).toMatch(/^tk_/)
    const list = await h.call('GET', `/api/teams/${ws.id}/agents?limit=500`, { token: ws.key })
    expect(list.body.agents.map((a: any) => a.id)).toContain(created.body.agent.id)
    expect((await h.call('GET', `/api/teams/${crypto.randomUUID()}/agents`, { token: ws.key })).status).toBe(
      404,
    )
  })
})

describe('GET /api/agents/orchestration', () => {
  test('agents with capabilities, protocols and connections', async () => {
    const w = await h.workspace()
    const a = await registerAgent(h, w.key, {
      name: 'planner',
      capabilities: [{ name: 'plan' }],
      protocols: { mcp: { enabled: true } },
    })
    const b = await registerAgent(h, w.key, { name: 'worker' })
    const archived = await registerAgent(h, w.key, { name: 'old' })
    await h.call('PATCH', `/api/agents/${archived.id}`, { token: w.key, body: { archived: true } })
    const conn = await h.call('POST', '/api/connections', {
      token: w.key,
      body: { agentId: a.id, targetAgentId: b.permanentId, type: 'private' },
    })
    const res = await h.call('GET', '/api/agents/orchestration', { token: w.key })
    expect(res.status).toBe(200)
    expect(res.body.agents.map((x: any) => x.name)).toEqual(['planner', 'worker'])
    const [planner, worker] = res.body.agents
    expect(planner.capabilities).toEqual([{ name: 'plan', metadata: {} }])
    expect(planner.protocols).toEqual({ mcp: { enabled: true, url: null } })
    expect(planner.connections).toEqual([
      {
        id: conn.body.id,
        type: 'private',
        status: 'active',
        direction: 'outgoing',
        peerAgentId: b.id,
        peerPermanentId: b.permanentId,
      },
    ])
    expect(worker.connections[0]).toMatchObject({ direction: 'incoming', peerAgentId: a.id })
    expect((await h.call('GET', '/api/agents/orchestration', { token: a.token })).status).toBe(403)
  })
})
