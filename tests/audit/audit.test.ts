import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { harness, registerAgent } from '../helpers'

const h = await harness()
const ws = await h.workspace()
const other = await h.workspace()

describe('audit trail', () => {
  test('every security-relevant act is recorded, with prefixes and never a secret', async () => {
    const a = await registerAgent(h, ws.key, {
      endpointCredential: 'endpoint-secret-4242',
      tokenTtlSeconds: 600,
    })
    const rot = await h.call('POST', `/api/agents/${a.id}/rotate-token`, { token: ws.key, body: {} })
    await h.call('PUT', `/api/agents/${a.id}/endpoint-credential`, {
      token: ws.key,
      body: { endpointCredential: 'second-secret-5555' },
    })
    await h.call('DELETE', `/api/agents/${a.id}/endpoint-credential`, { token: ws.key })
    await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { status: 'inactive' } })
    await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { status: 'active' } })
    await h.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { archived: true } })
    await h.call('DELETE', `/api/agents/${a.id}`, { token: ws.key })
    const key = await h.call('POST', '/api/workspace/keys', { token: ws.key, body: { name: 'temp' } })
    await h.call('DELETE', `/api/workspace/keys/${key.body.key.id}`, { token: ws.key })
    const p = await h.call('POST', '/api/agents/provision', { token: ws.key, body: { clientType: 'bolt' } })

    const logs = await h.call('GET', '/api/audit-logs?limit=500', { token: ws.key })
    expect(logs.status).toBe(200)
    const actions = logs.body.logs.map((l: any) => l.action).reverse()
    expect(actions).toEqual([
      'workspace_created',
      'agent_registered',
      'token_issued',
      'endpoint_credential_set',
      'token_rotated',
      'endpoint_credential_set',
      'endpoint_credential_cleared',
      'agent_deactivated',
      'agent_reactivated',
      'agent_archived',
      'agent_deleted',
      'workspace_key_created',
      'workspace_key_revoked',
      'agent_provisioned',
    ])
    const text = JSON.stringify(logs.body)
    for (const secret of [
      a.token,
      rot.body.token,
      'endpoint-secret-4242',
      'second-secret-5555',
      key.body.apiKey,
      ws.key,
      p.body.token,
    ]) {
      expect(text).not.toContain(secret)
    }
    const rotated = logs.body.logs.find((l: any) => l.action === 'token_rotated')
    expect(rotated).toMatchObject({
      agentId: a.id,
      actorType: 'workspace_key',
      metadata: { oldTokenPrefixes: [a.token.slice(0, 10)], newTokenPrefix: rot.body.token.slice(0, 10) },
    })
    // Deleted agents keep their trail, reachable by UUID filter.
    const byAgent = await h.call('GET', `/api/audit-logs?agentId=${a.id}&action=agent_deleted`, {
      token: ws.key,
    })
    expect(byAgent.body.logs).toHaveLength(1)
    expect(byAgent.body.logs[0].metadata).toEqual({ permanentId: a.permanentId, name: 'agent' })
  })

  test('per-agent log, filters, pagination and isolation', async () => {
    const a = await registerAgent(h, ws.key)
    for (let i = 0; i < 3; i++)
      await h.call('POST', `/api/agents/${a.id}/rotate-token`, { token: a.token, body: { graceSeconds: 60 } })
    const all = await h.call('GET', `/api/agents/${a.permanentId}/audit-logs`, { token: ws.key })
    expect(all.body.logs.map((l: any) => l.action)).toEqual([
      'token_rotated',
      'token_rotated',
      'token_rotated',
      'token_issued',
      'agent_registered',
    ])
    expect(all.body.logs[0].actorType).toBe('agent')
    const first = await h.call('GET', `/api/agents/${a.id}/audit-logs?limit=2`, { token: ws.key })
    const second = await h.call(
      'GET',
      `/api/agents/${a.id}/audit-logs?limit=2&cursor=${first.body.nextCursor}`,
      { token: ws.key },
    )
    expect([...first.body.logs, ...second.body.logs].map((l: any) => l.id)).toEqual(
      all.body.logs.slice(0, 4).map((l: any) => l.id),
    )
    const future = await h.call(
      'GET',
      `/api/audit-logs?since=${new Date(Date.now() + 60_000).toISOString()}`,
      { token: ws.key },
    )
    expect(future.body.logs).toEqual([])
    expect((await h.call('GET', '/api/audit-logs?since=yesterday', { token: ws.key })).status).toBe(400)
    const theirs = await h.call('GET', '/api/audit-logs', { token: other.key })
    expect(theirs.body.logs.every((l: any) => l.agentId !== a.id)).toBe(true)
    expect((await h.call('GET', `/api/agents/${a.id}/audit-logs`, { token: other.key })).status).toBe(404)
  })

  test('a change that fails leaves no audit row behind', async () => {
    const before = await h.deps.db.orm
      .select()
      .from(h.deps.db.t.auditLogs)
      .where(eq(h.deps.db.t.auditLogs.workspaceId, ws.id))
    // A pre-generated token already in use: the agent row, its audit rows and the token insert all roll back.
    const pre = `dup-token-${crypto.randomUUID()}`
    await registerAgent(h, ws.key, { token: pre })
    const mid = await h.deps.db.orm
      .select()
      .from(h.deps.db.t.auditLogs)
      .where(eq(h.deps.db.t.auditLogs.workspaceId, ws.id))
    const res = await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'clash', token: pre } })
    expect(res.status).toBe(409)
    const after = await h.deps.db.orm
      .select()
      .from(h.deps.db.t.auditLogs)
      .where(eq(h.deps.db.t.auditLogs.workspaceId, ws.id))
    expect(after.length).toBe(mid.length)
    expect(mid.length).toBe(before.length + 2)
    const agents = await h.call('GET', '/api/agents?q=clash', { token: ws.key })
    expect(agents.body.agents).toEqual([])
  })
})
