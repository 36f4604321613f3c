import { describe, expect, test } from 'bun:test'
import { harness, registerAgent } from '../helpers'

const h = await harness()
const ws = await h.workspace()
const other = await h.workspace()

describe('POST /api/agents', () => {
  test('registers with every field and returns the token once', async () => {
    const res = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: {
        name: 'Research Agent',
        description: 'Handles research',
        endpointUrl: 'https://agent.example.com/run',
        webhookUrl: 'https://agent.example.com/hooks',
        version: '1.0',
        license: 'MIT',
        programmingLanguage: 'python',
        languagesSupported: ['en', 'de'],
        framework: 'LangChain',
        label: 'production',
        capabilities: [{ name: 'gpu', metadata: { model: 'A100' } }, { name: 'search' }],
        endpointCredential: 'sk-live-abcdef123456',
        endpointAuthHeader: 'x-api-key',
        protocols: { mcp: { enabled: true, url: 'https://agent.example.com/mcp' }, a2a: { enabled: false } },
        externalInvocation: true,
        tokenTtlSeconds: 3600,
      },
    })
    expect(res.status).toBe(201)
    const { agent, token } = res.body
    expect(token).toMatch(/^tk_[0-9A-Za-z]{38}$/)
    expect(agent.permanentId).toMatch(/^agt-[a-z0-9]{8}$/)
    expect(agent).toMatchObject({
      name: 'Research Agent',
      workspaceId: ws.id,
      status: 'active',
      archived: false,
      presence: 'offline',
      isOnline: false,
      hasEndpointCredential: true,
      endpointCredentialHint: '3456',
      endpointAuthHeader: 'x-api-key',
      languagesSupported: ['en', 'de'],
      externalInvocation: true,
      taskCount: 0,
      tokenPrefix: token.slice(0, 10),
      tokenTtlSeconds: 3600,
      protocols: {
        mcp: { enabled: true, url: 'https://agent.example.com/mcp' },
        a2a: { enabled: false, url: null },
      },
    })
    expect(agent.capabilities).toEqual([
      { name: 'gpu', metadata: { model: 'A100' } },
      { name: 'search', metadata: {} },
    ])
    expect(new Date(agent.tokenExpiresAt).getTime() - Date.now()).toBeGreaterThan(3500_000)
    expect(JSON.stringify(res.body)).not.toContain('sk-live-abcdef123456')

    const me = await h.call('GET', '/api/agents/me', { token })
    expect(me.status).toBe(200)
    expect(me.body.id).toBe(agent.id)
  })

  test('accepts a pre-generated token and an agent id (seed 004)', async () => {
    const pre = `agent_tok_${crypto.randomUUID().replaceAll('-', '')}`
    const id = crypto.randomUUID()
    const res = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'pre', token: pre, agentId: id },
    })
    expect(res.status).toBe(201)
    expect(res.body.token).toBe(pre)
    expect(res.body.agent.id).toBe(id)
    expect(res.body.agent.tokenPrefix).toBe('agent_')
    expect((await h.call('GET', '/api/agents/me', { token: pre })).body.id).toBe(id)
    // The same token twice is a conflict, not a silent share.
    const again = await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'pre2', token: pre } })
    expect(again.status).toBe(409)
    const sameId = await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'pre3', agentId: id } })
    expect(sameId.status).toBe(409)
  })

  test('refuses pre-generated tokens that are short or use a reserved prefix', async () => {
    for (const token of ['short-token', `tk_${'a'.repeat(40)}`, `wk_${'a'.repeat(40)}`]) {
      const res = await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'x', token } })
      expect(res.status).toBe(400)
      expect(res.body.code).toBe('invalid_request')
    }
  })

  test('fallback must be another agent of the same workspace', async () => {
    const a = await registerAgent(h, ws.key)
    const foreign = await registerAgent(h, other.key)
    const ok = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'f', fallbackAgentId: a.permanentId },
    })
    expect(ok.status).toBe(201)
    expect(ok.body.agent.fallbackAgentId).toBe(a.id)
    const bad = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'f', fallbackAgentId: foreign.id },
    })
    expect(bad.status).toBe(400)
  })

  test('bad input is a 400 with the envelope, never a 500', async () => {
    const cases: unknown[] = [
      {},
      { name: '' },
      { name: 'x'.repeat(101) },
      { name: 42 },
      { name: 'x', unknownField: true },
      { name: 'x', endpointUrl: 'ftp://example.com' },
      { name: 'x', endpointUrl: 'https://user:pw@example.com' },
      { name: 'x', endpointUrl: `https://example.com/${'a'.repeat(2100)}` },
      { name: 'x', capabilities: [{ name: 'a' }, { name: 'a' }] },
      { name: 'x', protocols: { smtp: { enabled: true } } },
      { name: 'x', endpointAuthHeader: 'Host' },
      { name: 'x', endpointAuthHeader: 'bad header' },
      { name: 'x', tokenTtlSeconds: 5 },
      { name: 'x', fallbackAgentId: 'nope' },
      [1, 2],
      'a string',
    ]
    for (const body of cases) {
      const res = await h.call('POST', '/api/agents', { token: ws.key, body })
      expect({ body, status: res.status }).toEqual({ body, status: 400 })
      expect(typeof res.body.error).toBe('string')
      expect(typeof res.body.code).toBe('string')
    }
    const malformed = await h.call('POST', '/api/agents', {
      token: ws.key,
      raw: '{"name":',
      headers: { 'content-type': 'application/json' },
    })
    expect(malformed.status).toBe(400)
    expect(malformed.body.code).toBe('invalid_json')
    const huge = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'x', description: 'y'.repeat(2 * 1024 * 1024) },
    })
    expect(huge.status).toBe(413)
    expect(huge.body.code).toBe('payload_too_large')
  })
})

describe('POST /api/agents/provision', () => {
  test('issues a TTL token (default 7200 s) with the workspace named', async () => {
    const res = await h.call('POST', '/api/agents/provision', {
      token: ws.key,
      body: { clientType: 'cursor', label: 'staging', name: 'cursor-agent-1' },
    })
    expect(res.status).toBe(201)
    expect(res.body.workspaceId).toBe(ws.id)
    expect(typeof res.body.workspaceName).toBe('string')
    const ttl = new Date(res.body.expiresAt).getTime() - Date.now()
    expect(ttl).toBeGreaterThan(7190_000)
    expect(ttl).toBeLessThanOrEqual(7200_000)
    const me = await h.call('GET', '/api/agents/me', { token: res.body.token })
    expect(me.body).toMatchObject({
      id: res.body.agentId,
      clientType: 'cursor',
      label: 'staging',
      name: 'cursor-agent-1',
    })
    // The token's expiry reads the same to the agent as to its workspace, to the millisecond.
    expect(me.body.tokenExpiresAt).toBe(new Date(res.body.expiresAt).toISOString())
    const read = await h.call('GET', `/api/agents/${res.body.agentId}`, { token: ws.key })
    expect({ ...me.body, lastActiveAt: null }).toEqual({ ...read.body, lastActiveAt: null })
  })

  test('TTL bounds and client types are enforced', async () => {
    for (const body of [
      { clientType: 'cursor', ttlSeconds: 59 },
      { clientType: 'cursor', ttlSeconds: 86_401 },
      { clientType: 'emacs' },
      { clientType: 'cursor', extra: 1 },
    ]) {
      expect((await h.call('POST', '/api/agents/provision', { token: ws.key, body })).status).toBe(400)
    }
    const max = await h.call('POST', '/api/agents/provision', {
      token: ws.key,
      body: { clientType: 'v0', ttlSeconds: 86_400 },
    })
    expect(max.status).toBe(201)
  })
})

describe('GET /api/agents/me', () => {
  test('is the view the workspace reads of the agent, field for field', async () => {
    const ag = await registerAgent(h, ws.key, {
      name: 'self-view',
      description: 'reads itself',
      label: 'prod',
      endpointUrl: 'https://agent.example.com/a2a',
      capabilities: [{ name: 'zeta' }, { name: 'alpha', metadata: { n: 1 } }],
    })
    const same = async (token: string) => {
      const me = await h.call('GET', '/api/agents/me', { token })
      const read = await h.call('GET', `/api/agents/${ag.id}`, { token: ws.key })
      expect(me.status).toBe(200)
      expect(read.status).toBe(200)
      // lastActiveAt moves with every call the agent makes; everything else is the same.
      expect({ ...me.body, lastActiveAt: null }).toEqual({ ...read.body, lastActiveAt: null })
      return me.body
    }
    expect((await same(ag.token)).capabilities.map((c: { name: string }) => c.name)).toEqual([
      'alpha',
      'zeta',
    ])
    // Webhook settings, a rotated token (the new one is shown; the old one is still valid in
    // its grace) and a heartbeat noted in memory show the same on both.
    await h.call('PATCH', `/api/agents/${ag.id}`, {
      token: ws.key,
      body: { webhookSecret: `whsec_${'a'.repeat(32)}`, webhookEvents: ['message.received'] },
    })
    const rot = await h.call('POST', `/api/agents/${ag.id}/rotate-token`, {
      token: ws.key,
      body: { graceSeconds: 600 },
    })
    expect(rot.status).toBe(200)
    await h.call('POST', `/api/agents/${ag.id}/heartbeat`, {
      token: rot.body.token,
      body: { status: 'online' },
    })
    const view = await same(ag.token)
    expect(view.tokenPrefix).toBe(rot.body.token.slice(0, view.tokenPrefix.length))
    expect(view.webhookEvents).toEqual(['message.received'])
    expect(view.hasWebhookSecret).toBe(true)
    // Another workspace's key never reads it; a deleted agent's token is refused.
    expect((await h.call('GET', `/api/agents/${ag.id}`, { token: other.key })).status).toBe(404)
    await h.call('DELETE', `/api/agents/${ag.id}`, { token: ws.key })
    expect((await h.call('GET', '/api/agents/me', { token: rot.body.token })).status).toBe(401)
  })
})
