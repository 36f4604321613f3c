import { describe, expect, test } from 'bun:test'
import { ADMIN_TOKEN } from '../helpers'
import { eventually, liveServer } from '../ws/live'

const live = await liveServer()
const ws = await live.workspace()
const other = await live.workspace()

const command = (a: { id: string }, body: Record<string, unknown>, token = ws.key) =>
  live.call('POST', `/api/agents/${a.id}/command`, { token, body })
const list = (a: { id: string }, token: string, query = '') =>
  live.call('GET', `/api/agents/${a.id}/commands${query}`, { token })
const ack = (a: { id: string }, id: string, body: Record<string, unknown>, token: string) =>
  live.call('POST', `/api/agents/${a.id}/commands/${id}/ack`, { token, body })

describe('commands', () => {
  test('queued while the agent is away, pushed when it connects, marked delivered', async () => {
    const a = await live.agent(ws.key)
    const first = await command(a, {
      action: 'expose',
      params: { target: 'localhost:5432', name: 'prod-db' },
    })
    expect(first.status).toBe(200)
    expect(first.body).toEqual({
      success: true,
      commandId: expect.any(String),
      message: "Command 'expose' queued until the agent connects",
      agentOnline: false,
      status: 'queued',
    })
    const second = await command(a, { action: 'status' })
    expect((await list(a, a.token, '?pending=true')).body.commands.map((c: any) => c.status)).toEqual([
      'queued',
      'queued',
    ])
    const s = await live.socket(`?token=${a.token}`)
    const ready = await s.ready()
    const pushed = await s.eventsMatching((e) => e.type === 'command.queued', 2)
    expect(pushed.map((e) => e.data.commandId)).toEqual([first.body.commandId, second.body.commandId])
    expect(pushed[0]).toMatchObject({
      id: ready.cursor,
      data: {
        agentId: a.id,
        permanentId: a.permanentId,
        action: 'expose',
        params: { target: 'localhost:5432', name: 'prod-db' },
      },
    })
    const delivered = await eventually(async () => {
      const c = (await list(a, ws.key)).body.commands
      return c.every((x: any) => x.status === 'delivered') ? c : null
    })
    expect(delivered[0].deliveredAt).toBeTruthy()

    // Connected now (its socket signal recorded): the next one is pushed at once, and agentOnline says so.
    await eventually(
      async () =>
        (await live.call('GET', `/api/agents/${a.id}`, { token: ws.key })).body.presence === 'online',
    )
    const third = await command(a, { action: 'restart' })
    expect(third.body).toMatchObject({ agentOnline: true, message: "Command 'restart' sent to agent" })
    await s.until((e) => e.type === 'command.queued' && e.data.commandId === third.body.commandId)
    await s.close()

    // A reconnect with ?since from before replays the events, each command once.
    const again = await live.socket(`?token=${a.token}&since=${ready.cursor}`)
    await again.until((e) => e.type === 'command.queued' && e.data.commandId === third.body.commandId)
    const queued = again.events.filter((e) => e.type === 'command.queued').map((e) => e.data.commandId)
    expect(queued).toEqual([third.body.commandId])
    await again.close()
  })

  test('a command queued while the agent is away is delivered on its reconnect, once, with ?since too', async () => {
    const a = await live.agent(ws.key)
    const s = await live.socket(`?token=${a.token}`)
    const ready = await s.ready()
    await s.until((e) => e.type === 'agent.status_changed' && e.data.to === 'online')
    await s.close()
    // Its socket signal is cleared once the server has seen the close.
    await eventually(
      async () =>
        (await live.call('GET', `/api/agents/${a.id}`, { token: ws.key })).body.presence === 'offline',
    )
    const c = await command(a, { action: 'stop' })
    expect(c.body.agentOnline).toBe(false)
    const back = await live.socket(`?token=${a.token}&since=${ready.cursor}`)
    await back.until((e) => e.type === 'command.queued')
    await live.heartbeat(a, 'idle')
    await back.until((e) => e.type === 'agent.status_changed' && e.data.to === 'idle')
    expect(back.events.filter((e) => e.type === 'command.queued').map((e) => e.data.commandId)).toEqual([
      c.body.commandId,
    ])
    await back.close()
  })

  test('ack: done or failed with a result, once (409 after); command.acknowledged for the workspace', async () => {
    const a = await live.agent(ws.key)
    const watcher = await live.socket(`?token=${ws.key}`)
    await watcher.ready()
    const c = await command(a, { action: 'reach', params: { host: 'db' } })
    const done = await ack(a, c.body.commandId, { status: 'done', result: { reachable: true } }, a.token)
    expect(done.status).toBe(200)
    expect(done.body).toMatchObject({ id: c.body.commandId, status: 'done', result: { reachable: true } })
    expect(done.body.ackedAt).toBeTruthy()
    const event = await watcher.until((e) => e.type === 'command.acknowledged')
    expect(event.data).toMatchObject({
      commandId: c.body.commandId,
      agentId: a.id,
      permanentId: a.permanentId,
      action: 'reach',
      status: 'done',
      result: { reachable: true },
    })
    const twice = await ack(a, c.body.commandId, { status: 'failed' }, a.token)
    expect(twice.status).toBe(409)
    expect(twice.body.code).toBe('conflict')
    const f = await command(a, { action: 'restart' })
    expect((await ack(a, f.body.commandId, { status: 'failed' }, ws.key)).body).toMatchObject({
      status: 'failed',
      result: null,
    })
    expect((await list(a, a.token, '?pending=true')).body.commands).toEqual([])
    expect((await list(a, a.token, '?pending=false')).body.commands.map((x: any) => x.status)).toEqual([
      'done',
      'failed',
    ])
    const page = await list(a, a.token, '?limit=1')
    expect(page.body.commands).toHaveLength(1)
    const rest = await list(a, a.token, `?limit=1&cursor=${page.body.nextCursor}`)
    expect(rest.body.commands[0].id).toBe(f.body.commandId)
    await watcher.close()
  })
})

describe('commands: auth and input', () => {
  test('every route: missing → 401, wrong kind → 403, another workspace → 404', async () => {
    const a = await live.agent(ws.key)
    const b = await live.agent(ws.key)
    const c = await command(a, { action: 'status' })
    const cmd = c.body.commandId
    // Queuing takes the workspace key only.
    expect(
      (await live.call('POST', `/api/agents/${a.id}/command`, { body: { action: 'status' } })).status,
    ).toBe(401)
    expect((await command(a, { action: 'status' }, a.token)).status).toBe(403)
    expect((await command(a, { action: 'status' }, ADMIN_TOKEN)).status).toBe(403)
    expect((await command(a, { action: 'status' }, other.key)).status).toBe(404)
    // Listing and acknowledging: the workspace key or the agent itself.
    expect((await live.call('GET', `/api/agents/${a.id}/commands`)).status).toBe(401)
    expect((await list(a, b.token)).status).toBe(403)
    expect((await list(a, other.key)).status).toBe(404)
    expect(
      (await live.call('POST', `/api/agents/${a.id}/commands/${cmd}/ack`, { body: { status: 'done' } }))
        .status,
    ).toBe(401)
    expect((await ack(a, cmd, { status: 'done' }, b.token)).status).toBe(403)
    expect((await ack(a, cmd, { status: 'done' }, other.key)).status).toBe(404)
    // Another agent's command is not found through this agent.
    expect((await ack(b, cmd, { status: 'done' }, b.token)).status).toBe(404)
    expect((await ack(a, crypto.randomUUID(), { status: 'done' }, a.token)).status).toBe(404)
  })

  test('bad input → 400; an inactive agent cannot be commanded', async () => {
    const a = await live.agent(ws.key)
    for (const body of [
      {},
      { action: 'dance' },
      { action: 'stop', params: [1] },
      { action: 'stop', extra: 1 },
    ]) {
      expect({ body, s: (await command(a, body)).status }).toEqual({ body, s: 400 })
    }
    const c = await command(a, { action: 'status' })
    expect((await ack(a, c.body.commandId, { status: 'maybe' }, a.token)).status).toBe(400)
    expect((await ack(a, 'not-a-uuid', { status: 'done' }, a.token)).status).toBe(400)
    expect((await list(a, a.token, '?pending=yes')).status).toBe(400)
    await live.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { status: 'inactive' } })
    const refused = await command(a, { action: 'status' })
    expect(refused.status).toBe(400)
    expect(refused.body.code).toBe('invalid_state')
  })
})
