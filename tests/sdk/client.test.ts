import { describe, expect, test } from 'bun:test'
import { Switchboard, SwitchboardError } from '../../sdk/src/index'
import { liveServer, upstream } from '../helpers'
import { waitFor } from '../jobs/fixtures'

/** The SDK against a real server and real local agents: every call as a runtime makes it. */
const live = await liveServer()
const ws = await live.workspace()
const owner = new Switchboard({ baseUrl: live.url, token: ws.key })

/** An agent endpoint: echoes, answers 404 on /missing, keeps jobs running on /job (202). */
const endpoint = upstream(async (req) => {
  const path = new URL(req.url).pathname
  if (path === '/missing') return new Response('no such page here', { status: 404 })
  if (path === '/job') return new Response(null, { status: 202 })
  return Response.json({ path, got: await req.text(), caller: req.headers.get('x-switchboard-caller') })
})

async function runtime(name: string, path = '/') {
  const { agent, token } = await owner.register({ name, endpointUrl: `${endpoint.url}${path}` })
  return { agent, token, sb: new Switchboard({ baseUrl: live.url, token }) }
}

async function connect(from: { agent: { id: string } }, to: { agent: { id: string } }) {
  const res = await live.call('POST', '/api/connections', {
    token: ws.key,
    body: { agentId: from.agent.id, targetAgentId: to.agent.id, type: 'private' },
  })
  expect(res.status).toBe(201)
  return res.body.id as string
}

/** The SwitchboardError a call rejects with. */
async function failure(call: Promise<unknown>): Promise<SwitchboardError> {
  const e = await call.then(
    () => null,
    (err) => err,
  )
  expect(e).toBeInstanceOf(SwitchboardError)
  return e as SwitchboardError
}

describe('SDK: registry and identity', () => {
  test('register with a workspace key, then me() with the agent token', async () => {
    const { agent, token, sb } = await runtime('alpha')
    expect(token).toStartWith('tk_')
    expect(agent.permanentId).toMatch(/^agt-/)
    expect(await sb.me()).toMatchObject({ id: agent.id, name: 'alpha', workspaceId: ws.id })
    const listed = await owner.listAgents({ q: 'alpha' })
    expect(listed.agents.map((a) => a.id)).toContain(agent.id)
  })

  test('provision: a short-lived token for a tool runtime', async () => {
    const p = await owner.provision({ clientType: 'cursor', name: 'cursor-laptop', ttlSeconds: 600 })
    expect(p.workspaceId).toBe(ws.id)
    const me = await new Switchboard({ baseUrl: live.url, token: p.token }).me()
    expect(me).toMatchObject({ id: p.agentId, clientType: 'cursor' })
  })

  test('heartbeat defaults to the calling agent', async () => {
    const { agent, sb } = await runtime('beater')
    expect(await sb.heartbeat('idle')).toMatchObject({ agentId: agent.id, status: 'idle', presence: 'idle' })
  })
})

describe('SDK: typed errors', () => {
  test('each failure is a SwitchboardError with the code and status of the answer', async () => {
    const bad = await failure(new Switchboard({ baseUrl: live.url, token: 'tk_not-a-token' }).me())
    expect({ status: bad.status, code: bad.code, retryable: bad.retryable }).toEqual({
      status: 401,
      code: 'unauthorized',
      retryable: false,
    })
    expect(bad.requestId).toBeTruthy()
    const wrongKind = await failure(owner.me())
    expect([wrongKind.status, wrongKind.code]).toEqual([403, 'forbidden'])
    const invalid = await failure(owner.register({ name: '' }))
    expect([invalid.status, invalid.code]).toEqual([400, 'invalid_request'])
    expect(invalid.details).toEqual([expect.objectContaining({ path: 'name' })])
    const missing = await failure(owner.getJob(crypto.randomUUID()))
    expect([missing.status, missing.code, missing.message]).toEqual([404, 'not_found', 'Job not found'])
  })

  test('no answer at all is a retryable network_error (status 0)', async () => {
    const closed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const url = `http://127.0.0.1:${closed.port}`
    closed.stop(true)
    const e = await failure(new Switchboard({ baseUrl: url, token: ws.key }).listAgents())
    expect({ status: e.status, code: e.code, retryable: e.retryable }).toEqual({
      status: 0,
      code: 'network_error',
      retryable: true,
    })
  })
})

describe('SDK: messages and commands', () => {
  test('send, read the inbox, mark read', async () => {
    const a = await runtime('sender')
    const b = await runtime('reader')
    const sent = await a.sb.sendMessage({
      toAgentId: b.agent.permanentId,
      channel: 'tasks',
      payload: { n: 1 },
    })
    const inbox = await b.sb.inbox({ channel: 'tasks' })
    expect(inbox.messages.map((m) => [m.id, m.from, m.payload])).toEqual([
      [sent.messageId, a.agent.id, { n: 1 }],
    ])
    expect(await b.sb.markRead([sent.messageId])).toEqual({ success: true, marked: 1 })
    expect((await b.sb.inbox()).messages).toEqual([])
    expect((await b.sb.inbox({ unreadOnly: 'false' })).messages[0]!.readAt).toBeTruthy()
  })

  test('the poller runs each pending command, acknowledges its result, and a throw as failed', async () => {
    const { agent, sb } = await runtime('commanded')
    const queue = (action: string) =>
      live.call('POST', `/api/agents/${agent.id}/command`, { token: ws.key, body: { action, params: {} } })
    const restart = (await queue('restart')).body.commandId
    const stop = (await queue('stop')).body.commandId
    const seen: string[] = []
    const poller = sb.pollCommands(
      (c) => {
        seen.push(c.action)
        if (c.action === 'stop') throw new Error('cannot stop now')
        return { restarted: true }
      },
      { intervalMs: 20 },
    )
    await waitFor(async () => poller.handled === 2, 'two commands handled')
    await poller.stop()
    expect(await poller.done).toBeNull()
    expect(seen).toEqual(['restart', 'stop'])
    const { commands } = await sb.commands()
    const byId = Object.fromEntries(commands.map((c) => [c.id, [c.status, c.result]]))
    expect(byId[restart]).toEqual(['done', { restarted: true }])
    expect(byId[stop]).toEqual(['failed', { error: 'cannot stop now' }])
    expect((await sb.commands({ pending: 'true' })).commands).toEqual([])
    // A second report of the same command is the documented 409.
    expect((await failure(sb.ack(restart, { status: 'done' }))).code).toBe('conflict')
  })
})

describe('SDK: the proxy lanes', () => {
  test("sync: the agent's answer whatever its status; only Switchboard's refusals throw", async () => {
    const caller = await runtime('caller')
    const target = await runtime('target')
    const connectionId = await connect(caller, target)
    const ok = await caller.sb.callSync(connectionId, { hello: 'there' })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ path: '/', got: '{"hello":"there"}', caller: caller.agent.permanentId })

    const lost = await runtime('lost-page', '/missing')
    const toLost = await connect(caller, lost)
    const agent404 = await caller.sb.callSync(toLost, 'plain text')
    expect([agent404.status, await agent404.text()]).toEqual([404, 'no such page here'])

    const refused = await failure(caller.sb.callSync(crypto.randomUUID(), 'x'))
    expect([refused.status, refused.code]).toEqual([404, 'not_found'])
  })

  test('async: a job at once; the target reports how it ended', async () => {
    const caller = await runtime('async-caller')
    const target = await runtime('async-target', '/job')
    const connectionId = await connect(caller, target)
    const accepted = await caller.sb.callAsync(connectionId, { work: 1 })
    expect(accepted.status).toBe('running')
    await waitFor(async () => (await caller.sb.getJob(accepted.jobId)).httpStatus === 202, 'the delivery')
    const reported = await target.sb.reportJob(accepted.jobId, {
      status: 'completed',
      result: { done: true },
    })
    expect(reported).toMatchObject({ status: 'completed', result: { done: true } })
    expect(await caller.sb.getJob(accepted.jobId)).toMatchObject({
      status: 'completed',
      result: { done: true },
    })
  })

  test('broadcast: one result per member; pool: one member answers', async () => {
    const caller = await runtime('fan-caller')
    const m1 = await runtime('m1', '/one')
    const m2 = await runtime('m2', '/two')
    const group = await live.call('POST', '/api/broadcast-groups', {
      token: ws.key,
      body: { name: 'g', memberIds: [m1.agent.id, m2.agent.id] },
    })
    const answer = await caller.sb.callBroadcast(group.body.id, { q: 1 })
    expect(
      answer.results.map((r) => [r.permanentId, r.status, r.httpStatus, (r.body as any).path]).sort(),
    ).toEqual(
      [
        [m1.agent.permanentId, 'fulfilled', 200, '/one'],
        [m2.agent.permanentId, 'fulfilled', 200, '/two'],
      ].sort(),
    )
    const pool = await live.call('POST', '/api/pools', {
      token: ws.key,
      body: { name: 'p', strategy: 'failover', members: [{ agentId: m2.agent.id, priority: 0 }] },
    })
    const res = await caller.sb.callPool(pool.body.id, 'hi')
    expect(res.headers.get('x-switchboard-pool')).toBe(pool.body.id)
    expect(await res.json()).toMatchObject({ path: '/two', got: 'hi' })
    const unknownPool = await failure(caller.sb.callPool(crypto.randomUUID(), 'hi'))
    expect(unknownPool.code).toBe('not_found')
  })
})
