import { afterAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { sweepJobDeadlines } from '../../src/modules/jobs/deadline'
import { ADMIN_TOKEN, harness, registerAgent, TestClock, upstream } from '../helpers'
import { connected, settled, waitFor } from './fixtures'

/**
 * The jobs API through app.handle: who may poll, list, clear and report; bad input; the
 * deadline sweep (driven by a test clock); the public URL in the status header.
 */
const clock = new TestClock()
const h = await harness({
  clock,
  env: { SWITCHBOARD_JOB_DEADLINE_SECONDS: '3600', SWITCHBOARD_PUBLIC_URL: 'https://sb.example.com' },
})
afterAll(() => h.deps.callbacks.stop())
const ws = await h.workspace()
const board = await h.workspace()
const outsider = await h.workspace()

const statusUrls = new Map<string, string>()
const agent = upstream(async (req) => {
  const id = req.headers.get('x-switchboard-job-id')
  if (id) statusUrls.set(id, req.headers.get('x-switchboard-job-status-url') ?? '')
  return new Response('accepted', { status: 202 })
})
const callbacks: string[] = []
const receiver = upstream(async (req) => {
  callbacks.push(await req.text())
  return new Response('ok')
})

const started = async (connId: string, token: string, body: unknown = {}) => {
  const res = await h.call('POST', `/api/proxy/${connId}/async`, { token, body })
  expect(res.status).toBe(202)
  const jobId = res.body.jobId as string
  // The agent answered 202: the job is running and will stay so.
  await waitFor(async () => statusUrls.has(jobId), 'the delivery')
  await waitFor(
    async () => (await h.call('GET', `/api/jobs/${jobId}`, { token })).body.httpStatus === 202,
    '202',
  )
  return jobId
}

const pair = await connected(h.call, ws.key, { endpointUrl: `${agent.url}/run` })
const stranger = await registerAgent(h, ws.key)
const foreign = await registerAgent(h, outsider.key)
// A board connection: the target lives in another workspace, which accepts it.
const remote = await registerAgent(h, board.key, { endpointUrl: `${agent.url}/remote` })
const boardCaller = await registerAgent(h, ws.key)
const boardConn = (
  await h.call('POST', '/api/connections', {
    token: ws.key,
    body: { agentId: boardCaller.id, targetPermanentId: remote.permanentId, type: 'board' },
  })
).body
expect((await h.call('POST', `/api/connections/${boardConn.id}/accept`, { token: board.key })).status).toBe(
  200,
)

describe('polling a job', () => {
  test('the caller, the target, the owning workspace and (board) the target’s workspace may; nobody else', async () => {
    const jobId = await started(pair.conn.id, pair.caller.token)
    const get = (token?: string) => h.call('GET', `/api/jobs/${jobId}`, token === undefined ? {} : { token })
    for (const t of [pair.caller.token, pair.target.token, ws.key]) {
      const res = await get(t)
      expect(res.status).toBe(200)
      expect(res.body.id).toBe(jobId)
      expect(res.body.jobId).toBe(jobId)
      expect(res.body.status).toBe('running')
      expect(res.body.callerAgentId).toBe(pair.caller.agent.id)
      expect(res.body.targetAgentId).toBe(pair.target.agent.id)
      expect(res.body.callback).toBeNull()
    }
    for (const t of [stranger.token, foreign.token, outsider.key, board.key])
      expect((await get(t)).status).toBe(404)
    expect((await get(ADMIN_TOKEN)).status).toBe(403)
    expect((await get()).status).toBe(401)
    expect((await get('tk_not_a_real_token')).status).toBe(401)
    expect((await h.call('GET', '/api/jobs/not-a-uuid', { token: ws.key })).status).toBe(400)
    expect((await h.call('GET', `/api/jobs/${crypto.randomUUID()}`, { token: ws.key })).status).toBe(404)

    const boardJob = await started(boardConn.id, boardCaller.token)
    expect((await h.call('GET', `/api/jobs/${boardJob}`, { token: board.key })).status).toBe(200)
    expect((await h.call('GET', `/api/jobs/${boardJob}`, { token: remote.token })).status).toBe(200)
    expect((await h.call('GET', `/api/jobs/${boardJob}`, { token: ws.key })).status).toBe(200)
    expect((await h.call('GET', `/api/jobs/${boardJob}`, { token: outsider.key })).status).toBe(404)
  })

  test('the status URL header is absolute, on the public URL when one is set', async () => {
    const jobId = await started(pair.conn.id, pair.caller.token)
    expect(statusUrls.get(jobId)).toBe(`https://sb.example.com/api/jobs/${jobId}`)
  })

  test('the callback URL shows to the caller’s side only', async () => {
    const jobId = await started(pair.conn.id, pair.caller.token, {
      _switchboard: { callback_url: `${receiver.url}/hook` },
    })
    await h.call('POST', `/api/jobs/${jobId}/status`, {
      token: pair.target.token,
      body: { status: 'completed' },
    })
    const asCaller = await waitFor(async () => {
      const j = (await h.call('GET', `/api/jobs/${jobId}`, { token: pair.caller.token })).body
      return j.callback?.status === 'delivered' ? j : undefined
    }, 'the callback')
    expect(asCaller.callback.url).toBe(`${receiver.url}/hook`)
    expect(asCaller.callback.webhookId).toBe(`msg_${jobId}`)
    expect(asCaller.callback.attemptLog).toEqual([
      expect.objectContaining({ attempt: 1, httpStatus: 200, error: null }),
    ])
    const asTarget = (await h.call('GET', `/api/jobs/${jobId}`, { token: pair.target.token })).body
    expect(asTarget.callback.url).toBeNull()
    expect(asTarget.callback.status).toBe('delivered')
  })
})

describe('listing jobs', () => {
  test('by role and status, newest first, paginated', async () => {
    const { caller, target, conn } = await connected(h.call, ws.key, { endpointUrl: `${agent.url}/run` })
    const a = await started(conn.id, caller.token)
    const b = await started(conn.id, caller.token)
    const c = await started(conn.id, caller.token)
    await h.call('POST', `/api/jobs/${b}/status`, {
      token: target.token,
      body: { status: 'failed', error: 'no' },
    })
    const ids = async (path: string, token: string) =>
      (await h.call('GET', path, { token })).body.jobs.map((j: any) => j.id)
    expect(await ids('/api/jobs', caller.token)).toEqual([c, b, a])
    expect(await ids('/api/jobs?role=caller', caller.token)).toEqual([c, b, a])
    expect(await ids('/api/jobs?role=target', caller.token)).toEqual([])
    expect(await ids('/api/jobs?role=target', target.token)).toEqual([c, b, a])
    expect(await ids('/api/jobs?status=failed', target.token)).toEqual([b])
    expect(await ids('/api/jobs?status=running', caller.token)).toEqual([c, a])
    expect(await ids('/api/jobs', stranger.token)).toEqual([])

    const first = await h.call('GET', '/api/jobs?limit=2', { token: caller.token })
    expect(first.body.jobs.map((j: any) => j.id)).toEqual([c, b])
    expect(first.body.nextCursor).toBeString()
    const second = await h.call('GET', `/api/jobs?limit=2&cursor=${first.body.nextCursor}`, {
      token: caller.token,
    })
    expect(second.body.jobs.map((j: any) => j.id)).toEqual([a])
    expect(second.body.nextCursor).toBeNull()

    // A workspace key sees its agents' jobs; the board target's workspace sees what was sent to it.
    expect(await ids('/api/jobs?role=caller', ws.key)).toEqual(expect.arrayContaining([a, b, c]))
    const boardJob = await started(boardConn.id, boardCaller.token)
    expect(await ids('/api/jobs', board.key)).toContain(boardJob)
    expect(await ids('/api/jobs?role=caller', board.key)).not.toContain(boardJob)
    expect(await ids('/api/jobs', outsider.key)).toEqual([])
  })

  test('bad filters and cursors are 400s; credentials as for polling', async () => {
    for (const q of ['status=done', 'role=owner', 'limit=0', 'limit=501', 'cursor=nope']) {
      const res = await h.call('GET', `/api/jobs?${q}`, { token: ws.key })
      expect({ q, status: res.status }).toEqual({ q, status: 400 })
    }
    expect((await h.call('GET', '/api/jobs')).status).toBe(401)
    expect((await h.call('GET', '/api/jobs', { token: ADMIN_TOKEN })).status).toBe(403)
  })
})

describe('clearing a job', () => {
  test('a participant clears it with its callback record; strangers get 404', async () => {
    const jobId = await started(pair.conn.id, pair.caller.token, {
      _switchboard: { callback_url: `${receiver.url}/hook` },
    })
    await h.call('POST', `/api/jobs/${jobId}/status`, {
      token: pair.target.token,
      body: { status: 'failed' },
    })
    for (const t of [stranger.token, foreign.token, outsider.key])
      expect((await h.call('DELETE', `/api/jobs/${jobId}`, { token: t })).status).toBe(404)
    expect((await h.call('DELETE', `/api/jobs/${jobId}`, { token: ADMIN_TOKEN })).status).toBe(403)
    expect((await h.call('DELETE', `/api/jobs/${jobId}`)).status).toBe(401)
    const res = await h.call('DELETE', `/api/jobs/${jobId}`, { token: pair.caller.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ id: jobId, deleted: true })
    expect((await h.call('GET', `/api/jobs/${jobId}`, { token: ws.key })).status).toBe(404)
    expect((await h.call('DELETE', `/api/jobs/${jobId}`, { token: ws.key })).status).toBe(404)
    const { webhookDeliveries: d } = h.deps.db.t
    expect(await h.deps.db.orm.select().from(d).where(eq(d.jobId, jobId))).toEqual([])
  })
})

describe('reporting a job’s status', () => {
  test('only the target’s token; bad bodies are 400s; a final job is 409', async () => {
    const jobId = await started(pair.conn.id, pair.caller.token)
    const report = (body: unknown, token: string | undefined = pair.target.token, raw?: string) =>
      h.call('POST', `/api/jobs/${jobId}/status`, raw !== undefined ? { token, raw } : { token, body })
    expect(
      (await h.call('POST', `/api/jobs/${jobId}/status`, { body: { status: 'completed' } })).status,
    ).toBe(401)
    expect((await report({ status: 'completed' }, ws.key)).status).toBe(403)
    expect((await report({ status: 'completed' }, pair.caller.token)).status).toBe(403)
    expect((await report({ status: 'completed' }, stranger.token)).status).toBe(404)
    expect((await report({ status: 'completed' }, foreign.token)).status).toBe(404)
    for (const bad of [
      {},
      { status: 'done' },
      { status: 'running' },
      { status: 'failed', error: 42 },
      { status: 'completed', extra: true },
      // Postgres cannot store NUL characters or lone surrogates; both databases refuse them alike.
      { status: 'completed', result: { text: 'a\u0000b' } },
      { status: 'completed', result: ['\ud800'] },
      { status: 'failed', error: 'a\u0000b' },
      [],
      'completed',
    ]) {
      const res = await report(bad)
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 })
    }
    expect((await report(undefined, undefined, '{"status":')).status).toBe(400)
    expect(
      (await report(undefined, undefined, `{"status":"completed","result":"${'x'.repeat(1_100_000)}"}`))
        .status,
    ).toBe(413)
    const ok = await report({ status: 'failed', error: 'ran out of tokens', result: [1, 'two', null] })
    expect(ok.status).toBe(200)
    expect(ok.body.status).toBe('failed')
    expect(ok.body.error).toBe('ran out of tokens')
    expect(ok.body.result).toEqual([1, 'two', null])
    expect((await report({ status: 'completed' })).status).toBe(409)
    expect(
      (
        await h.call('POST', `/api/jobs/${crypto.randomUUID()}/status`, {
          token: pair.target.token,
          body: { status: 'completed' },
        })
      ).status,
    ).toBe(404)
    const target = (await h.call('GET', `/api/agents/${pair.target.agent.id}`, { token: ws.key })).body
    expect(target.taskCount).toBe(1) // the completion in the callback test; a failure does not count
  })

  test('a failure reported without a message gets one; completion with a string result', async () => {
    const a = await started(pair.conn.id, pair.caller.token)
    const failed = await h.call('POST', `/api/jobs/${a}/status`, {
      token: pair.target.token,
      body: { status: 'failed' },
    })
    expect(failed.body.error).toBe('The agent reported a failure')
    const b = await started(pair.conn.id, pair.caller.token)
    const done = await h.call('POST', `/api/jobs/${b}/status`, {
      token: pair.target.token,
      body: { status: 'completed', result: 'a plain string' },
    })
    expect(done.body.result).toBe('a plain string')
    expect((await h.call('GET', `/api/jobs/${b}`, { token: pair.caller.token })).body.result).toBe(
      'a plain string',
    )
  })
})

describe('the deadline', () => {
  test('running jobs past their deadline fail, with job.failed and their callback; others are left', async () => {
    const { caller, target, conn } = await connected(h.call, ws.key, { endpointUrl: `${agent.url}/run` })
    const old = await started(conn.id, caller.token, {
      _switchboard: { callback_url: `${receiver.url}/late` },
    })
    clock.advance(1800_000)
    const young = await started(conn.id, caller.token)
    expect(await sweepJobDeadlines(h.deps)).toBe(0)
    clock.advance(1800_001)
    // Jobs other tests left running are past their deadline by now too.
    expect(await sweepJobDeadlines(h.deps)).toBeGreaterThanOrEqual(1)
    const job = (await h.call('GET', `/api/jobs/${old}`, { token: caller.token })).body
    expect(job.status).toBe('failed')
    expect(job.error).toContain('deadline')
    expect((await h.call('GET', `/api/jobs/${young}`, { token: caller.token })).body.status).toBe('running')
    // The late report finds the job final.
    expect(
      (
        await h.call('POST', `/api/jobs/${old}/status`, {
          token: target.token,
          body: { status: 'completed' },
        })
      ).status,
    ).toBe(409)
    const payload = JSON.parse(
      await waitFor(async () => callbacks.find((c) => c.includes(old)), 'the deadline callback'),
    )
    expect(payload.type).toBe('job.failed')
    expect(payload.data.jobId).toBe(old)
    const { events: e } = h.deps.db.t
    const failedEvents = (await h.deps.db.orm.select().from(e).where(eq(e.type, 'job.failed'))).filter(
      (r) => r.data.jobId === old,
    )
    expect(failedEvents).toHaveLength(1)
    expect(await sweepJobDeadlines(h.deps)).toBe(0)
  })
})

describe('events', () => {
  test('a board job is announced in both workspaces', async () => {
    const jobId = await started(boardConn.id, boardCaller.token)
    await h.call('POST', `/api/jobs/${jobId}/status`, { token: remote.token, body: { status: 'completed' } })
    const { events: e } = h.deps.db.t
    const rows = (await h.deps.db.orm.select().from(e)).filter((r) => r.data.jobId === jobId)
    const seen = rows.map(
      (r) => `${r.type}@${r.workspaceId === ws.id ? 'caller' : r.workspaceId === board.id ? 'target' : '?'}`,
    )
    expect(seen.sort()).toEqual([
      'job.completed@caller',
      'job.completed@target',
      'job.created@caller',
      'job.created@target',
    ])
    await settled(h.call, boardCaller.token, jobId)
  })
})
