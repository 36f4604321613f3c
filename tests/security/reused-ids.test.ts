import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { newId } from '../../src/lib/ids'
import { appendEvent } from '../../src/modules/events/append'
import { upstream } from '../helpers'
import { waitFor } from '../jobs/fixtures'
import { liveServer } from '../ws/live'

/**
 * A deleted agent's identity is never handed out again, and nothing it left behind (jobs,
 * events, messages, commands, connections, cached routes and credentials) can reach whoever
 * holds an agent with the same id — in another workspace above all.
 */
const live = await liveServer()
const { deps } = live
const A = await live.workspace()
const B = await live.workspace()

const calls: string[] = []
const agentA = upstream(async (req) => {
  calls.push(new URL(req.url).pathname)
  return req.headers.get('x-switchboard-job-id')
    ? new Response('later', { status: 202 })
    : Response.json({ ok: true })
})

describe('a deleted agent', () => {
  test('its UUID and permanent id stay reserved, in every workspace, with the same 409 as any conflict', async () => {
    const caller = await live.agent(A.key, { name: 'caller' })
    const x = await live.agent(A.key, {
      name: 'x',
      endpointUrl: `${agentA.url}/x`,
      endpointCredential: 'A-endpoint-secret-1234',
    })
    const conn = await live.call('POST', '/api/connections', {
      token: A.key,
      body: { agentId: caller.id, targetAgentId: x.id, type: 'private' },
    })
    // A's past: a running job received by X, a message and a command for X; warm caches.
    const job = await live.call('POST', `/api/proxy/${conn.body.id}/async`, {
      token: caller.token,
      raw: '{"secret":1}',
    })
    await waitFor(async () => {
      const j = await live.call('GET', `/api/jobs/${job.body.jobId}`, { token: A.key })
      return j.body.httpStatus === 202 ? j : undefined
    }, 'the job delivery')
    await live.call('POST', `/api/agents/${caller.id}/messages/send`, {
      token: caller.token,
      body: { toAgentId: x.id, payload: { for: 'x only' } },
    })
    await live.call('POST', `/api/agents/${x.id}/command`, {
      token: A.key,
      body: { action: 'status', params: { a: 1 } },
    })
    expect(
      (await live.call('POST', `/api/proxy/${conn.body.id}`, { token: caller.token, raw: '{}' })).status,
    ).toBe(200)
    expect((await live.call('GET', '/api/agents/me', { token: x.token })).status).toBe(200)

    const deleted = await live.call('DELETE', `/api/agents/${x.id}`, { token: A.key })
    expect(deleted.status).toBe(200)

    // Nothing routes to it or accepts its token once DELETE has answered.
    const before = calls.length
    expect((await live.call('GET', '/api/agents/me', { token: x.token })).status).toBe(401)
    expect(
      (await live.call('POST', `/api/proxy/${conn.body.id}`, { token: caller.token, raw: '{}' })).status,
    ).toBe(404)
    expect(calls.length).toBe(before)

    // Its id cannot be registered again — not by B, not by A — and the answer is the one any
    // conflict gets, so it does not tell B that X is gone.
    const liveConflict = await live.call('POST', '/api/agents', {
      token: B.key,
      body: { name: 'y', agentId: caller.id },
    })
    expect(liveConflict.status).toBe(409)
    for (const key of [B.key, A.key]) {
      const again = await live.call('POST', '/api/agents', {
        token: key,
        body: { name: 'thief', agentId: x.id },
      })
      expect(again.status).toBe(409)
      expect(again.body).toEqual(liveConflict.body)
      const upper = await live.call('POST', '/api/agents', {
        token: key,
        body: { name: 'thief', agentId: x.id.toUpperCase() },
      })
      expect(upper.status).toBe(409)
    }
    // The reservation is in the database, with both ids.
    const { agentIds } = deps.db.t
    const [kept] = await deps.db.orm.select().from(agentIds).where(eq(agentIds.id, x.id))
    expect(kept).toMatchObject({ id: x.id, permanentId: x.permanentId, workspaceId: A.id })
    expect(kept!.deletedAt).not.toBeNull()
    // The permanent id is not reachable either: a board connection to it finds nothing.
    const board = await live.call('POST', '/api/connections', {
      token: B.key,
      body: { agentId: (await live.agent(B.key)).id, targetPermanentId: x.permanentId, type: 'board' },
    })
    expect(board.status).toBe(404)
  })
})

describe('rows that name an agent of another workspace', () => {
  // Rows written before ids were reserved could name an id that now belongs to another
  // workspace's agent. Made here directly; the API must treat them as someone else's.
  test('jobs, messages, commands, events and connections are read by workspace as well as agent', async () => {
    const aAgent = await live.agent(A.key, { name: 'a-target', endpointUrl: `${agentA.url}/a` })
    const y = await live.agent(B.key, { name: 'y' })
    const now = new Date()
    const t = deps.db.t
    const jobId = newId()
    await deps.db.tx(async (tx) => {
      await tx.insert(t.jobs).values({
        id: jobId,
        workspaceId: A.id,
        targetWorkspaceId: A.id,
        connectionId: null,
        callerAgentId: y.id,
        targetAgentId: y.id,
        handledByAgentId: y.id,
        status: 'running',
        httpStatus: 202,
        result: null,
        error: null,
        callbackUrl: null,
        deadlineAt: new Date(now.getTime() + 3_600_000),
        createdAt: now,
        updatedAt: now,
        completedAt: null,
      })
      await tx.insert(t.messages).values({
        id: newId(),
        workspaceId: A.id,
        fromAgentId: aAgent.id,
        toAgentId: y.id,
        channel: null,
        type: 'request',
        payload: { secret: 'A' },
        correlationId: null,
        expiresAt: new Date(now.getTime() + 3_600_000),
        readAt: null,
        createdAt: now,
      })
      await tx.insert(t.commands).values({
        id: newId(),
        workspaceId: A.id,
        agentId: y.id,
        action: 'expose',
        params: { secret: 'A' },
        status: 'queued',
        result: null,
        createdAt: now,
        deliveredAt: null,
        ackedAt: null,
      })
      await tx.insert(t.connections).values({
        id: newId(),
        workspaceId: A.id,
        agentId: y.id,
        targetWorkspaceId: A.id,
        targetAgentId: aAgent.id,
        type: 'private',
        status: 'active',
        lastHeartbeatAt: null,
        acceptedAt: now,
        createdAt: now,
        updatedAt: now,
      })
      await appendEvent(deps, tx, {
        workspaceId: A.id,
        type: 'message.received',
        agentId: y.id,
        data: { agentId: y.id, payload: { secret: 'A' } },
      })
    })

    // Jobs: not listed, not readable, not reportable, not clearable.
    const jobs = await live.call('GET', '/api/jobs', { token: y.token })
    expect(jobs.body.jobs.map((j: any) => j.id)).not.toContain(jobId)
    expect((await live.call('GET', `/api/jobs/${jobId}`, { token: y.token })).status).toBe(404)
    const forged = await live.call('POST', `/api/jobs/${jobId}/status`, {
      token: y.token,
      body: { status: 'completed', result: { forged: true } },
    })
    expect(forged.status).toBe(404)
    expect((await live.call('DELETE', `/api/jobs/${jobId}`, { token: y.token })).status).toBe(404)
    expect((await live.call('GET', `/api/jobs/${jobId}`, { token: A.key })).body.status).toBe('running')

    // Messages and commands of A never show in Y's inbox or queue.
    for (const token of [y.token, B.key]) {
      const inbox = await live.call('GET', `/api/agents/${y.id}/messages?unreadOnly=false`, { token })
      expect(inbox.status).toBe(200)
      expect(inbox.text).not.toContain('secret')
      const commands = await live.call('GET', `/api/agents/${y.id}/commands`, { token })
      expect(commands.status).toBe(200)
      expect(commands.body.commands).toEqual([])
    }

    // The connection is not Y's to call over.
    const [conn] = await deps.db.orm.select().from(t.connections).where(eq(t.connections.agentId, y.id))
    const before = calls.length
    expect((await live.call('POST', `/api/proxy/${conn!.id}`, { token: y.token, raw: '{}' })).status).toBe(
      404,
    )
    expect(calls.length).toBe(before)
    expect(
      (await live.call('POST', `/api/board/connections/${conn!.id}/heartbeat`, { token: y.token })).status,
    ).toBe(404)

    // The stream: neither the replay nor the queued-command push carries A's rows.
    const s = await live.socket(`?token=${y.token}&since=0`)
    await s.ready()
    await live.heartbeat(y, 'online')
    await s.until((f) => f.type === 'agent.status_changed' && f.data.agentId === y.id)
    expect(JSON.stringify(s.frames)).not.toContain('secret')
    await s.close()
  })
})
