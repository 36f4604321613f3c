import { describe, expect, test } from 'bun:test'
import { upstream } from '../helpers'
import { waitFor } from '../jobs/fixtures'
import { liveServer } from '../ws/live'
import { receiver, verified } from './fixtures'

/**
 * Agent webhooks end to end on a running Switchboard: every kind of event that concerns an
 * agent reaches its webhook URL, signed (checked with the reference library), as the same
 * frame the WebSocket sends, and never an event that concerns another agent.
 */
const live = await liveServer({ SWITCHBOARD_CALLBACK_RETRY_SCALE: '0.001' })
const ws = await live.workspace()
const other = await live.workspace()
const hooks = receiver()
const agentUp = upstream(() => Response.json({ answer: 42 }))

const secretOf = async (key: string) =>
  (await live.call('GET', '/api/workspace/webhook-secret', { token: key })).body.secret as string

/** An agent whose webhooks go to `/<name>` on the receiver. */
const hooked = (key: string, name: string, extra: Record<string, unknown> = {}) =>
  live.agent(key, { name, webhookUrl: `${hooks.url}/${name}`, ...extra })

describe('agent webhooks', () => {
  test('each event that concerns an agent arrives signed, as its WebSocket frame; others never do', async () => {
    const alice = await hooked(ws.key, 'alice')
    const bob = await hooked(ws.key, 'bob', { endpointUrl: agentUp.url })
    await hooked(ws.key, 'bystander')
    const remote = await hooked(other.key, 'remote')

    // Presence: alice's own heartbeat.
    expect((await live.heartbeat(alice)).status).toBe(200)
    // A job alice starts for bob: job.created for bob, job.completed for alice.
    const line = await live.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: alice.id, targetAgentId: bob.id, type: 'private' },
    })
    const job = await live.call('POST', `/api/proxy/${line.body.id}/async`, {
      token: alice.token,
      body: { q: 1 },
    })
    expect(job.status).toBe(202)
    // A message for bob, a command for bob.
    const msg = await live.call('POST', `/api/agents/${alice.id}/messages/send`, {
      token: ws.key,
      body: { toAgentId: bob.id, payload: { hello: 'bob' } },
    })
    expect(msg.status).toBe(200)
    const cmd = await live.call('POST', `/api/agents/${bob.id}/command`, {
      token: ws.key,
      body: { action: 'status' },
    })
    expect(cmd.status).toBe(200)
    // A board connection alice asks of remote (another workspace), accepted, then revoked;
    // another one declined.
    const board = await live.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: alice.id, targetPermanentId: remote.permanentId, type: 'board' },
    })
    expect(board.status).toBe(201)
    expect(
      (await live.call('POST', `/api/connections/${board.body.id}/accept`, { token: other.key })).status,
    ).toBe(200)
    expect((await live.call('DELETE', `/api/connections/${board.body.id}`, { token: ws.key })).status).toBe(
      200,
    )
    const asked = await live.call('POST', '/api/connections', {
      token: ws.key,
      body: { agentId: bob.id, targetPermanentId: remote.permanentId, type: 'board' },
    })
    expect(
      (await live.call('POST', `/api/connections/${asked.body.id}/decline`, { token: other.key })).status,
    ).toBe(200)

    const types = (path: string) => hooks.at(path).map((h) => h.frame.type)
    await waitFor(
      async () => types('/alice').includes('job.completed') && types('/bob').includes('connection.declined'),
      'all webhooks',
    )
    await waitFor(
      async () => types('/remote').filter((t) => t.startsWith('connection.')).length >= 5,
      'remote',
    )
    await live.deps.callbacks.flush()

    expect(types('/alice').sort()).toEqual(
      ['agent.status_changed', 'job.completed', 'connection.accepted', 'connection.revoked'].sort(),
    )
    expect(types('/bob').sort()).toEqual(
      [
        'connection.created',
        'job.created',
        'message.received',
        'command.queued',
        'connection.declined',
      ].sort(),
    )
    expect(types('/remote').sort()).toEqual(
      [
        'connection.created',
        'connection.accepted',
        'connection.revoked',
        'connection.created',
        'connection.declined',
      ].sort(),
    )
    // Nothing concerned the bystander.
    expect(hooks.at('/bystander')).toEqual([])

    // Each one verifies with its workspace's secret, and webhook-id is the event id.
    const secrets = { [ws.key]: await secretOf(ws.key), [other.key]: await secretOf(other.key) }
    for (const [path, key] of [
      ['/alice', ws.key],
      ['/bob', ws.key],
      ['/remote', other.key],
    ] as const) {
      for (const hit of hooks.at(path)) {
        const body = verified(secrets[key]!, hit)
        expect(hit.headers['webhook-id']).toBe(String(body.id))
        expect(hit.headers['content-type']).toBe('application/json')
        expect(Object.keys(body).sort()).toEqual(['at', 'data', 'id', 'type'])
      }
    }
    // The body is the frame the live stream carries for the same event (read here by the
    // workspace's socket: an agent's own socket would count as presence and add events).
    for (const [key, paths] of [
      [ws.key, ['/alice', '/bob']],
      [other.key, ['/remote']],
    ] as const) {
      const sock = await live.socket(`?token=${key}&since=0`)
      for (const hit of paths.flatMap((p) => hooks.at(p))) {
        const frame = await sock.until((f) => f.id === hit.frame.id)
        expect(hit.frame).toEqual(frame)
      }
      await sock.close()
    }
    // What the data says: the message for bob is bob's, the job is the one alice started.
    const got = hooks.at('/bob').find((h) => h.frame.type === 'message.received')!.frame
    expect(got.data).toMatchObject({
      messageId: msg.body.messageId,
      agentId: bob.id,
      payload: { hello: 'bob' },
    })
    const done = hooks.at('/alice').find((h) => h.frame.type === 'job.completed')!.frame
    expect(done.data).toMatchObject({ jobId: job.body.jobId, callerAgentId: alice.id, status: 'completed' })
    const requested = hooks.at('/remote').find((h) => h.frame.type === 'connection.created')!.frame
    expect(requested.data).toMatchObject({
      connectionId: board.body.id,
      agentId: alice.id,
      targetAgentId: remote.id,
    })
    // The agent token never leaves in a webhook.
    for (const hit of hooks.hits)
      for (const t of [alice.token, bob.token, remote.token]) expect(hit.body).not.toContain(t)
  })

  test('webhookEvents picks the types; null is all of them again, [] none', async () => {
    const picky = await hooked(ws.key, 'picky', { webhookEvents: ['message.received'] })
    const view = await live.call('GET', `/api/agents/${picky.id}`, { token: ws.key })
    expect(view.body.webhookEvents).toEqual(['message.received'])
    const sender = await live.agent(ws.key)
    const send = (n: number) =>
      live.call('POST', `/api/agents/${sender.id}/messages/send`, {
        token: ws.key,
        body: { toAgentId: picky.id, payload: { n } },
      })
    await live.heartbeat(picky)
    await send(1)
    await hooks.until('/picky', (f) => f.data.payload?.n === 1)
    await live.deps.callbacks.flush()
    expect(hooks.at('/picky').map((h) => h.frame.type)).toEqual(['message.received'])

    const none = await live.call('PATCH', `/api/agents/${picky.id}`, {
      token: ws.key,
      body: { webhookEvents: [] },
    })
    expect(none.body.webhookEvents).toEqual([])
    await send(2)
    await live.deps.callbacks.flush()
    expect(hooks.at('/picky')).toHaveLength(1)

    const all = await live.call('PATCH', `/api/agents/${picky.id}`, {
      token: ws.key,
      body: { webhookEvents: null },
    })
    expect(all.body.webhookEvents).toContain('agent.status_changed')
    expect(all.body.webhookEvents).toHaveLength(10)
    await live.heartbeat(picky, 'idle')
    await hooks.until('/picky', (f) => f.type === 'agent.status_changed')
  })

  test("the agent's own secret signs instead of the workspace's; a new one overlaps 24 h; null goes back", async () => {
    const own = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`
    const a = await hooked(ws.key, 'own-secret', { webhookSecret: own })
    expect(a).toBeDefined()
    const view = await live.call('GET', `/api/agents/${a.id}`, { token: ws.key })
    expect(view.body.hasWebhookSecret).toBe(true)
    expect(view.text).not.toContain(own)
    const audit = await live.call('GET', `/api/agents/${a.id}/audit-logs`, { token: ws.key })
    expect(audit.body.logs.map((l: any) => l.action)).toContain('agent_webhook_secret_set')
    expect(audit.text).not.toContain(own.slice(6))

    await live.heartbeat(a)
    const first = await hooks.until('/own-secret', (f) => f.type === 'agent.status_changed')
    expect(verified(own, first).type).toBe('agent.status_changed')
    const workspaceSecret = await secretOf(ws.key)
    expect(() => verified(workspaceSecret, first)).toThrow()

    const next = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`
    expect(
      (await live.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { webhookSecret: next } }))
        .status,
    ).toBe(200)
    await live.heartbeat(a, 'idle')
    const second = await hooks.until('/own-secret', (f) => f.data.to === 'idle')
    expect(second.headers['webhook-signature']!.split(' ')).toHaveLength(2)
    expect(verified(next, second).data.to).toBe('idle')
    expect(verified(own, second).data.to).toBe('idle')

    const cleared = await live.call('PATCH', `/api/agents/${a.id}`, {
      token: ws.key,
      body: { webhookSecret: null },
    })
    expect(cleared.body.hasWebhookSecret).toBe(false)
    await live.heartbeat(a, 'online')
    const third = await hooks.until('/own-secret', (f) => f.data.to === 'online' && f.id > second.frame.id)
    expect(verified(await secretOf(ws.key), third).data.to).toBe('online')
    expect(() => verified(next, third)).toThrow()
  })

  test('after a workspace secret rotation both secrets verify an agent webhook', async () => {
    const key = (await live.workspace()).key
    const before = await secretOf(key)
    const a = await hooked(key, 'rotated')
    const rotated = await live.call('POST', '/api/workspace/webhook-secret/rotate', { token: key })
    await live.heartbeat(a)
    const hit = await hooks.until('/rotated', (f) => f.type === 'agent.status_changed')
    expect(verified(rotated.body.secret, hit).id).toBe(hit.frame.id)
    expect(verified(before, hit).id).toBe(hit.frame.id)
  })

  test('a deactivated agent, or one without a webhook URL, gets none', async () => {
    const a = await hooked(ws.key, 'quiet')
    await live.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { webhookUrl: null } })
    await live.call('POST', `/api/agents/${a.id}/command`, { token: ws.key, body: { action: 'status' } })
    const b = await hooked(ws.key, 'inactive')
    await live.call('PATCH', `/api/agents/${b.id}`, { token: ws.key, body: { status: 'inactive' } })
    const sender = await live.agent(ws.key)
    await live.call('POST', `/api/agents/${sender.id}/messages/send`, {
      token: ws.key,
      body: { toAgentId: b.id, payload: {} },
    })
    await live.deps.callbacks.flush()
    expect(hooks.at('/quiet')).toEqual([])
    expect(hooks.at('/inactive')).toEqual([])
  })
})
