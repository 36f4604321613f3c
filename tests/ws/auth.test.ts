import { describe, expect, test } from 'bun:test'
import { ADMIN_TOKEN } from '../helpers'
import { eventually, liveServer } from './live'

const live = await liveServer({ SWITCHBOARD_WS_AUTH_TIMEOUT_MS: '300' })
const ws = await live.workspace()
const agent = await live.agent(ws.key)

describe('GET /api/ws: three ways to authenticate', () => {
  test('Authorization header: a workspace key, and an agent token', async () => {
    const a = await live.socket('', { authorization: `Bearer ${ws.key}` })
    expect(await a.ready()).toMatchObject({ type: 'ready', actor: { kind: 'workspace', workspaceId: ws.id } })
    const b = await live.socket('', { authorization: `Bearer ${agent.token}` })
    expect(await b.ready()).toMatchObject({
      actor: { kind: 'agent', agentId: agent.id, permanentId: agent.permanentId, workspaceId: ws.id },
    })
    const c = await live.socket('', { 'x-api-key': ws.key })
    expect((await c.ready()).actor.kind).toBe('workspace')
    await Promise.all([a.close(), b.close(), c.close()])
  })

  test('?token=', async () => {
    const s = await live.socket(`?token=${ws.key}`)
    expect((await s.ready()).actor.kind).toBe('workspace')
    await s.close()
  })

  test('a first frame {type:"auth", token}, which may carry since and types', async () => {
    const s = await live.socket()
    s.send({ type: 'auth', token: agent.token, since: 0, types: ['agent.*'] })
    expect(await s.ready()).toMatchObject({ cursor: 0, types: ['agent.*'], actor: { agentId: agent.id } })
    await s.close()
  })

  test('two auth frames sent at once authenticate once; the agent is offline again after the close', async () => {
    const a = await live.agent(ws.key)
    const s = await live.socket()
    // Both leave before the first is checked (on Postgres that check is a round trip).
    s.send({ type: 'auth', token: a.token })
    s.send({ type: 'auth', token: a.token })
    await s.ready()
    await s.until((f) => f.type === 'error')
    expect(s.frames.filter((f) => f.type === 'ready')).toHaveLength(1)
    expect(s.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'invalid_frame' })
    const presence = async () =>
      (await live.call('GET', `/api/agents/${a.id}`, { token: ws.key })).body.presence
    expect(await eventually(async () => (await presence()) === 'online')).toBe(true)
    await s.close()
    expect(await eventually(async () => (await presence()) === 'offline')).toBe(true)
  })

  test('a bad credential on the upgrade is refused before it: 401, 403, 400', async () => {
    const bad = await live.upgrade('', { authorization: 'Bearer wk_not-a-real-key' })
    expect(bad.status).toBe(401)
    expect(((await bad.json()) as any).code).toBe('unauthorized')
    expect((await live.upgrade('?token=tk_nope')).status).toBe(401)
    expect((await live.upgrade('', { 'x-api-key': agent.token })).status).toBe(401)
    const admin = await live.upgrade('', { authorization: `Bearer ${ADMIN_TOKEN}` })
    expect(admin.status).toBe(403)
    expect((await live.upgrade(`?token=${ADMIN_TOKEN}`)).status).toBe(403)
    const since = await live.upgrade(`?token=${ws.key}&since=abc`)
    expect(since.status).toBe(400)
    expect(((await since.json()) as any).code).toBe('invalid_request')
    expect((await live.upgrade(`?token=${ws.key}&since=-1`)).status).toBe(400)
  })

  test('a bad first frame closes with 4001 (unknown), 4003 (admin), 4000 (malformed); silence past the deadline with 4001', async () => {
    const unknown = await live.socket()
    unknown.send({ type: 'auth', token: 'wk_nope' })
    expect((await unknown.closed).code).toBe(4001)
    const admin = await live.socket()
    admin.send({ type: 'auth', token: ADMIN_TOKEN })
    expect((await admin.closed).code).toBe(4003)
    const silent = await live.socket()
    expect((await silent.closed).code).toBe(4001)
    const rude = await live.socket()
    rude.send({ type: 'subscribe', types: ['*'] })
    expect((await rude.closed).code).toBe(4001)
    const garbage = await live.socket()
    garbage.send('not json')
    expect((await garbage.closed).code).toBe(4001)
    const malformed = await live.socket()
    malformed.send({ type: 'auth', token: ws.key, since: 'yesterday' })
    expect((await malformed.closed).code).toBe(4000)
  })

  test('a plain GET answers the current cursor and the vocabulary; it takes a credential', async () => {
    const info = await live.call('GET', '/api/ws', { token: agent.token })
    expect(info.status).toBe(200)
    expect(typeof info.body.cursor).toBe('number')
    expect(info.body.eventTypes).toContain('agent.status_changed')
    expect(info.body.closeCodes.map((c: any) => c.code)).toEqual([1001, 1011, 4000, 4001, 4003, 4008, 4009])
    expect((await live.call('GET', '/api/ws')).status).toBe(401)
    expect((await live.call('GET', '/api/ws', { token: ADMIN_TOKEN })).status).toBe(403)
  })
})

describe('frames', () => {
  test('ping → pong (with its id); a malformed frame is answered with an error and the socket stays', async () => {
    const s = await live.socket(`?token=${ws.key}`)
    await s.ready()
    s.send({ type: 'ping', id: 7 })
    expect(await s.until((f) => f.type === 'pong')).toEqual({ type: 'pong', id: 7 })
    s.send({ type: 'subscribe', types: ['no.such'] })
    const err = await s.until((f) => f.type === 'error')
    expect(err.code).toBe('invalid_frame')
    s.send('{"type":"auth","token":"x"}')
    await s.until((f) => f.type === 'error' && f.error === 'Already authenticated')
    s.send({ type: 'ping' })
    await s.until((f) => f.type === 'pong' && f.id === undefined)
    expect(s.closeInfo).toBeNull()
    await s.close()
  })
})

describe('a credential that ends closes its sockets (4009)', () => {
  test('a revoked workspace key', async () => {
    const extra = await live.call('POST', '/api/workspace/keys', { token: ws.key, body: { name: 'watcher' } })
    const s = await live.socket('', { authorization: `Bearer ${extra.body.apiKey}` })
    await s.ready()
    const other = await live.socket(`?token=${ws.key}`)
    await other.ready()
    expect(
      (await live.call('DELETE', `/api/workspace/keys/${extra.body.key.id}`, { token: ws.key })).status,
    ).toBe(200)
    expect((await s.closed).code).toBe(4009)
    // The other key's socket is untouched.
    other.send({ type: 'ping' })
    await other.until((f) => f.type === 'pong')
    await other.close()
  })

  test('a rotated agent token; with a grace the old token keeps its socket', async () => {
    const a = await live.agent(ws.key)
    const s = await live.socket(`?token=${a.token}`)
    await s.ready()
    const graced = await live.call('POST', `/api/agents/${a.id}/rotate-token`, {
      token: ws.key,
      body: { graceSeconds: 300 },
    })
    expect(graced.status).toBe(200)
    const onNew = await live.socket(`?token=${graced.body.token}`)
    await onNew.ready()
    s.send({ type: 'ping' })
    await s.until((f) => f.type === 'pong')
    expect(s.closeInfo).toBeNull()
    await live.call('POST', `/api/agents/${a.id}/rotate-token`, { token: ws.key, body: {} })
    expect((await s.closed).code).toBe(4009)
    expect((await onNew.closed).code).toBe(4009)
  })

  test('a deactivated, then a deleted agent', async () => {
    const a = await live.agent(ws.key)
    const s = await live.socket('', { authorization: `Bearer ${a.token}` })
    await s.ready()
    await live.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body: { status: 'inactive' } })
    expect((await s.closed).code).toBe(4009)
    const b = await live.agent(ws.key)
    const t = await live.socket('', { authorization: `Bearer ${b.token}` })
    await t.ready()
    await live.call('DELETE', `/api/agents/${b.id}`, { token: ws.key })
    expect((await t.closed).code).toBe(4009)
  })
})
