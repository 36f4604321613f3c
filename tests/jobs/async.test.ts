import { describe, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import { and, eq } from 'drizzle-orm'
import { liveServer, upstream } from '../helpers'
import { connected, settled, waitFor } from './fixtures'

/**
 * The async lane against a real Switchboard and real local agents: what the agent receives,
 * every outcome rule, the body limit (also chunked), callback URL checks, fallback and protocols.
 */
const sb = await liveServer({ env: { SWITCHBOARD_ASYNC_TIMEOUT_MS: '800' } })
const ws = await sb.workspace()
const other = await sb.workspace()

/** What the agent received, by job id. */
const received = new Map<string, { path: string; headers: Record<string, string>; body: string }>()
let hits = 0
const agent = upstream(async (req) => {
  hits++
  const url = new URL(req.url)
  const body = await req.text()
  const jobId = req.headers.get('x-switchboard-job-id')
  if (jobId) received.set(jobId, { path: url.pathname, headers: Object.fromEntries(req.headers), body })
  switch (url.pathname) {
    case '/json':
      return Response.json({ answer: 42, echoed: body })
    case '/text':
      return new Response('plain words', { headers: { 'content-type': 'text/plain' } })
    case '/empty':
      return new Response(null, { status: 204 })
    case '/accept':
      return new Response('queued', { status: 202 })
    case '/status':
      return new Response('upstream says no', { status: Number(url.searchParams.get('s')) })
    case '/binary':
      return new Response(new Uint8Array([0x00, 0xff, 0x00, 0x41]), {
        headers: { 'content-type': 'application/octet-stream' },
      })
    case '/nul-error':
      return new Response('broken\u0000 badly', { status: 500 })
    case '/gzip':
      return new Response(gzipSync(JSON.stringify({ zipped: true })), {
        headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
      })
    case '/hang':
      await new Promise<void>((r) => req.signal.addEventListener('abort', () => r()))
      return new Response('late')
    default:
      return Response.json({ path: url.pathname })
  }
})

const post = (connId: string, token: string, raw?: string, headers: Record<string, string> = {}) =>
  sb.call('POST', `/api/proxy/${connId}/async`, { token, raw: raw ?? '{}', headers })

async function agentView(id: string) {
  return (await sb.call('GET', `/api/agents/${id}`, { token: ws.key })).body
}

describe('async lane: delivery and outcomes', () => {
  test('202 at once; the agent gets the job headers, the credential, the body without _switchboard; 2xx completes', async () => {
    const { caller, target, conn } = await connected(sb.call, ws.key, {
      endpointUrl: `${agent.url}/json`,
      endpointCredential: 'endpoint-secret-9876',
    })
    const res = await post(
      conn.id,
      caller.token,
      JSON.stringify({ task: 'sum', _switchboard: { callback_url: `${agent.url}/cb`, trace: 't-1' } }),
      { 'content-type': 'application/json', cookie: 'session=1', 'x-custom': 'kept' },
    )
    expect(res.status).toBe(202)
    expect(Object.keys(res.body).sort()).toEqual(['jobId', 'poll_url', 'status'])
    expect(res.body.status).toBe('running')
    expect(res.body.poll_url).toBe(`/api/jobs/${res.body.jobId}`)
    expect(res.headers.get('location')).toBe(res.body.poll_url)
    const jobId = res.body.jobId as string

    const job = await settled(sb.call, caller.token, jobId)
    expect(job.status).toBe('completed')
    expect(job.httpStatus).toBe(200)
    expect(job.handledByAgentId).toBe(target.agent.id)
    const seen = received.get(jobId)!
    // Other keys of _switchboard stay; the callback URL does not reach the agent.
    expect(JSON.parse(seen.body)).toEqual({ task: 'sum', _switchboard: { trace: 't-1' } })
    expect(job.result).toEqual({ answer: 42, echoed: seen.body })
    expect(seen.headers['x-switchboard-job-id']).toBe(jobId)
    // No SWITCHBOARD_PUBLIC_URL: the path alone, never an origin taken from the request.
    expect(seen.headers['x-switchboard-job-status-url']).toBe(`/api/jobs/${jobId}`)
    expect(seen.headers['x-switchboard-caller']).toBe(caller.agent.permanentId)
    expect(seen.headers['x-switchboard-connection']).toBe(conn.id)
    expect(seen.headers.authorization).toBe('Bearer endpoint-secret-9876')
    expect(seen.headers['x-custom']).toBe('kept')
    expect(seen.headers.cookie).toBeUndefined()
    expect(JSON.stringify(seen)).not.toContain(caller.token)
    expect(JSON.stringify(seen)).not.toContain('callback_url')
    // The whole _switchboard object goes when the callback URL was all it held.
    const only = await post(
      conn.id,
      caller.token,
      JSON.stringify({ a: 1, _switchboard: { callback_url: `${agent.url}/cb` } }),
    )
    await settled(sb.call, caller.token, only.body.jobId)
    expect(JSON.parse(received.get(only.body.jobId)!.body)).toEqual({ a: 1 })

    expect((await agentView(target.agent.id)).taskCount).toBe(2)
    expect((await agentView(caller.agent.id)).taskCount).toBe(0)
    const { events: e } = sb.deps.db.t
    const types = (
      await sb.deps.db.orm
        .select({ type: e.type, data: e.data })
        .from(e)
        .where(and(eq(e.workspaceId, ws.id)))
    )
      .filter((r) => r.data.jobId === jobId)
      .map((r) => r.type)
    expect(types).toEqual(['job.created', 'job.completed'])
  })

  test('a body that is not JSON passes byte for byte; a text answer is stored as text, an empty one as null', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/text` })
    const raw = '{"not json: "_switchboard"'
    const res = await post(conn.id, caller.token, raw)
    const job = await settled(sb.call, caller.token, res.body.jobId)
    expect(received.get(res.body.jobId)!.body).toBe(raw)
    expect(job.result).toBe('plain words')
    const empty = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/empty` })
    const done = await settled(
      sb.call,
      empty.caller.token,
      (await post(empty.conn.id, empty.caller.token)).body.jobId,
    )
    expect(done.status).toBe('completed')
    expect(done.httpStatus).toBe(204)
    expect(done.result).toBeNull()
  })

  test('a binary answer is kept as base64, on both databases; NULs never reach an error text', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/binary` })
    const job = await settled(sb.call, caller.token, (await post(conn.id, caller.token)).body.jobId)
    expect(job.status).toBe('completed')
    expect(job.result).toEqual({ encoding: 'base64', data: 'AP8AQQ==' })
    const nul = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/nul-error` })
    const failed = await settled(
      sb.call,
      nul.caller.token,
      (await post(nul.conn.id, nul.caller.token)).body.jobId,
    )
    expect(failed.error).toBe('The agent answered HTTP 500: broken badly')
  })

  test('a gzip answer is stored decoded', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/gzip` })
    const job = await settled(sb.call, caller.token, (await post(conn.id, caller.token)).body.jobId)
    expect(job.result).toEqual({ zipped: true })
    expect(received.get(job.id)!.headers['accept-encoding']).toBe('identity')
  })

  test('202 from the agent keeps the job running until the target reports', async () => {
    const { caller, target, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/accept` })
    const jobId = (await post(conn.id, caller.token)).body.jobId
    const running = await waitFor(async () => {
      const j = (await sb.call('GET', `/api/jobs/${jobId}`, { token: caller.token })).body
      return j.httpStatus === 202 ? j : undefined
    }, 'the delivery to be accepted')
    expect(running.status).toBe('running')
    expect(running.completedAt).toBeNull()
    const report = (token: string, body: unknown) =>
      sb.call('POST', `/api/jobs/${jobId}/status`, { token, body })
    expect((await report(caller.token, { status: 'completed' })).status).toBe(403)
    const done = await report(target.token, { status: 'completed', result: { rows: [1, 2] } })
    expect(done.status).toBe(200)
    expect(done.body.status).toBe('completed')
    expect(done.body.result).toEqual({ rows: [1, 2] })
    expect(done.body.httpStatus).toBe(202)
    expect(done.body.completedAt).not.toBeNull()
    const again = await report(target.token, { status: 'failed', error: 'late' })
    expect(again.status).toBe(409)
    expect(again.body.code).toBe('conflict')
    expect((await agentView(target.agent.id)).taskCount).toBe(1)
  })

  test('500 and 503 fail the job with the status and an excerpt of the answer', async () => {
    for (const s of [500, 503]) {
      const { caller, target, conn } = await connected(sb.call, ws.key, {
        endpointUrl: `${agent.url}/status?s=${s}`,
      })
      const job = await settled(sb.call, caller.token, (await post(conn.id, caller.token)).body.jobId)
      expect(job.status).toBe('failed')
      expect(job.httpStatus).toBe(s)
      expect(job.error).toBe(`The agent answered HTTP ${s}: upstream says no`)
      expect(job.result).toBeNull()
      expect((await agentView(target.agent.id)).taskCount).toBe(0)
    }
  })

  test('a refused port fails the job without a status', async () => {
    const dead = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const port = dead.port
    dead.stop(true)
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `http://127.0.0.1:${port}/` })
    const job = await settled(sb.call, caller.token, (await post(conn.id, caller.token)).body.jobId)
    expect(job.status).toBe('failed')
    expect(job.httpStatus).toBeNull()
    expect(job.error).toContain('could not be reached')
  })

  test('an agent that does not answer within the async timeout fails the job', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/hang` })
    const res = await post(conn.id, caller.token)
    expect(res.status).toBe(202)
    const job = await settled(sb.call, caller.token, res.body.jobId)
    expect(job.status).toBe('failed')
    expect(job.error).toBe('The agent did not answer within 800 ms')
  })
})

describe('async lane: limits and refusals', () => {
  test('a body over 1 MB is a 413, with Content-Length and chunked; nothing is created or sent', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/json` })
    const before = hits
    const big = 'x'.repeat(1024 * 1024 + 1)
    const declared = await post(conn.id, caller.token, big)
    expect(declared.status).toBe(413)
    expect(declared.body.code).toBe('payload_too_large')
    // Chunked: no Content-Length, so the limit is counted as the bytes arrive.
    let sent = 0
    const chunk = new Uint8Array(64 * 1024).fill(120)
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        // Far more than the limit: the server must stop reading long before the end.
        if (sent >= 64 * 1024 * 1024) return c.close()
        sent += chunk.byteLength
        c.enqueue(chunk)
      },
    })
    const chunked = await fetch(`${sb.url}/api/proxy/${conn.id}/async`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}` },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(chunked.status).toBe(413)
    expect(((await chunked.json()) as any).code).toBe('payload_too_large')
    expect(sent).toBeLessThan(64 * 1024 * 1024)
    // Exactly the limit is fine.
    const ok = await post(conn.id, caller.token, 'y'.repeat(1024 * 1024))
    expect(ok.status).toBe(202)
    await settled(sb.call, caller.token, ok.body.jobId)
    expect(hits).toBe(before + 1)
    const list = await sb.call('GET', '/api/jobs?role=caller', { token: caller.token })
    expect(list.body.jobs.map((j: any) => j.id)).toEqual([ok.body.jobId])
  })

  test('auth: none 401, a workspace key 403, a non-participant or another workspace 404, a bad id 400', async () => {
    const { conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/json` })
    const stranger = (await sb.call('POST', '/api/agents', { token: ws.key, body: { name: 's' } })).body
    const foreign = (await sb.call('POST', '/api/agents', { token: other.key, body: { name: 'f' } })).body
    expect((await sb.call('POST', `/api/proxy/${conn.id}/async`, { raw: '{}' })).status).toBe(401)
    expect((await post(conn.id, ws.key)).status).toBe(403)
    expect((await post(conn.id, stranger.token)).status).toBe(404)
    expect((await post(conn.id, foreign.token)).status).toBe(404)
    expect((await post(crypto.randomUUID(), stranger.token)).status).toBe(404)
    expect((await post('not-a-uuid', stranger.token)).status).toBe(400)
  })

  test('callback URLs: http(s) only, refused by the guard’s rules at once, an unresolvable name accepted', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/json` })
    const withCallback = (meta: unknown) =>
      post(conn.id, caller.token, JSON.stringify({ q: 1, _switchboard: meta }))
    const ftp = await withCallback({ callback_url: 'ftp://example.com/cb' })
    expect(ftp.status).toBe(400)
    expect(ftp.body.code).toBe('invalid_url')
    const metadata = await withCallback({ callback_url: 'http://169.254.169.254/latest' })
    expect(metadata.status).toBe(400)
    expect(metadata.body.details.rule).toBe('metadata')
    const privateNet = await withCallback({ callback_url: 'http://10.1.2.3/cb' })
    expect(privateNet.status).toBe(400)
    expect((await withCallback({ callback_url: 'not a url' })).status).toBe(400)
    expect((await withCallback({ callback_url: 7 })).body.code).toBe('invalid_request')
    expect((await withCallback('https://example.com')).body.code).toBe('invalid_request')
    const later = await withCallback({ callback_url: 'https://callbacks.does-not-exist.invalid/hook' })
    expect(later.status).toBe(202)
    await settled(sb.call, caller.token, later.body.jobId)
    // Checked again when it is sent: it does not resolve, so the attempt fails and waits for a retry.
    const job = await waitFor(async () => {
      const j = (await sb.call('GET', `/api/jobs/${later.body.jobId}`, { token: caller.token })).body
      return j.callback?.attempts === 1 && j.callback.lastError ? j : undefined
    }, 'the first callback attempt')
    expect(job.callback.url).toBe('https://callbacks.does-not-exist.invalid/hook')
    expect(job.callback.status).toBe('pending')
    expect(job.callback.lastError).toContain('unresolvable')
    expect(job.callback.attemptLog).toHaveLength(1)
  })
})

describe('async lane: routing as on the sync lane', () => {
  test('an offline target with a valid fallback: the fallback handles it and says so on the 202', async () => {
    const fallback = (
      await sb.call('POST', '/api/agents', {
        token: ws.key,
        body: { name: 'fb', endpointUrl: `${agent.url}/accept` },
      })
    ).body
    const { caller, target, conn } = await connected(sb.call, ws.key, {
      endpointUrl: `${agent.url}/json`,
      fallbackAgentId: fallback.agent.id,
    })
    await sb.call('POST', `/api/agents/${target.agent.id}/heartbeat`, {
      token: target.token,
      body: { status: 'offline' },
    })
    const res = await post(conn.id, caller.token)
    expect(res.status).toBe(202)
    expect(res.headers.get('x-switchboard-fallback')).toBe(fallback.agent.permanentId)
    const jobId = res.body.jobId
    await waitFor(async () => received.get(jobId)?.path === '/accept', 'the fallback to get the job')
    const job = (await sb.call('GET', `/api/jobs/${jobId}`, { token: fallback.token })).body
    expect(job.targetAgentId).toBe(target.agent.id)
    expect(job.handledByAgentId).toBe(fallback.agent.id)
    // The handling fallback reports, and its task count grows (it did the work).
    const done = await sb.call('POST', `/api/jobs/${jobId}/status`, {
      token: fallback.token,
      body: { status: 'completed', result: 'done by fallback' },
    })
    expect(done.status).toBe(200)
    expect((await agentView(fallback.agent.id)).taskCount).toBe(1)
  })

  test('an offline target without a fallback still gets it, marked offline on the 202', async () => {
    const { caller, target, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/json` })
    await sb.call('POST', `/api/agents/${target.agent.id}/heartbeat`, {
      token: target.token,
      body: { status: 'offline' },
    })
    const res = await post(conn.id, caller.token)
    expect(res.headers.get('x-switchboard-agent-status')).toBe('offline')
    expect((await settled(sb.call, caller.token, res.body.jobId)).status).toBe('completed')
  })

  test('X-Switchboard-Protocol picks the override URL; unknown or disabled protocols are 400s', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, {
      endpointUrl: `${agent.url}/json`,
      protocols: { mcp: { enabled: true, url: `${agent.url}/mcp` }, openai: { enabled: false } },
    })
    const res = await post(conn.id, caller.token, '{}', { 'x-switchboard-protocol': 'mcp' })
    const job = await settled(sb.call, caller.token, res.body.jobId)
    expect(job.result).toEqual({ path: '/mcp' })
    expect(received.get(job.id)!.headers['x-switchboard-protocol']).toBeUndefined()
    expect((await post(conn.id, caller.token, '{}', { 'x-switchboard-protocol': 'openai' })).body.code).toBe(
      'protocol_not_enabled',
    )
    expect((await post(conn.id, caller.token, '{}', { 'x-switchboard-protocol': 'smtp' })).body.code).toBe(
      'unknown_protocol',
    )
  })
})
