import { describe, expect, test } from 'bun:test'
import { Webhook } from 'standardwebhooks'
import { liveServer, upstream } from '../helpers'
import { connected, waitFor } from '../jobs/fixtures'

/**
 * Callbacks end to end on a running Switchboard: signed per Standard Webhooks (checked with
 * the reference library), retried with the schedule shrunk by SWITCHBOARD_CALLBACK_RETRY_SCALE,
 * 410 stops, rotation signs with both secrets.
 */
const sb = await liveServer({ env: { SWITCHBOARD_CALLBACK_RETRY_SCALE: '0.001' } })
const ws = await sb.workspace()

type Hit = { path: string; headers: Record<string, string>; body: string }
const hits: Hit[] = []
const failuresLeft = new Map<string, number>()
const receiver = upstream(async (req) => {
  const url = new URL(req.url)
  hits.push({ path: url.pathname, headers: Object.fromEntries(req.headers), body: await req.text() })
  if (url.pathname.startsWith('/gone')) return new Response('gone', { status: 410 })
  if (url.pathname.startsWith('/redirect')) return Response.redirect('http://127.0.0.1:1/elsewhere', 302)
  const left = failuresLeft.get(url.pathname) ?? 0
  if (left > 0) {
    failuresLeft.set(url.pathname, left - 1)
    return new Response('not now', { status: 503 })
  }
  return new Response('thanks')
})
const agent = upstream(async (req) => {
  const path = new URL(req.url).pathname
  if (path === '/fail') return new Response('broken', { status: 500 })
  return Response.json({ done: true, body: await req.text() })
})

const secret = async () =>
  (await sb.call('GET', '/api/workspace/webhook-secret', { token: ws.key })).body.secret
const hitsAt = (path: string) => hits.filter((h) => h.path === path)

async function jobWithCallback(path: string, agentPath = '/ok') {
  const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}${agentPath}` })
  const res = await sb.call('POST', `/api/proxy/${conn.id}/async`, {
    token: caller.token,
    body: { question: 'q', _switchboard: { callback_url: `${receiver.url}${path}` } },
  })
  expect(res.status).toBe(202)
  return { jobId: res.body.jobId as string, caller }
}

const callbackOf = (jobId: string, token: string, status: string) =>
  waitFor(async () => {
    const j = (await sb.call('GET', `/api/jobs/${jobId}`, { token })).body
    return j.callback?.status === status ? j : undefined
  }, `callback ${status}`)

describe('callback delivery', () => {
  test('the final state arrives signed; the reference library verifies it', async () => {
    const key = await secret()
    const { jobId, caller } = await jobWithCallback('/ok')
    const job = await callbackOf(jobId, caller.token, 'delivered')
    const [hit] = hitsAt('/ok')
    expect(hit).toBeDefined()
    const payload = new Webhook(key).verify(hit!.body, hit!.headers) as any
    expect(payload.type).toBe('job.completed')
    expect(payload.data).toMatchObject({
      jobId,
      status: 'completed',
      error: null,
      httpStatus: 200,
      result: { done: true, body: '{"question":"q"}' },
      callerAgentId: caller.agent.id,
    })
    expect(hit!.headers['webhook-id']).toBe(`msg_${jobId}`)
    expect(hit!.headers['content-type']).toBe('application/json')
    expect(hit!.body).not.toContain(caller.token)
    expect(JSON.stringify(hit!.headers)).not.toContain(caller.token)
    expect(job.callback).toMatchObject({
      status: 'delivered',
      attempts: 1,
      lastHttpStatus: 200,
      nextAttemptAt: null,
    })
    expect(job.callback.finishedAt).not.toBeNull()
  })

  test('a failed job sends job.failed', async () => {
    const { jobId, caller } = await jobWithCallback('/failed-job', '/fail')
    await callbackOf(jobId, caller.token, 'delivered')
    const payload = new Webhook(await secret()).verify(
      hitsAt('/failed-job')[0]!.body,
      hitsAt('/failed-job')[0]!.headers,
    ) as any
    expect(payload.type).toBe('job.failed')
    expect(payload.data.status).toBe('failed')
    expect(payload.data.httpStatus).toBe(500)
    expect(payload.data.error).toContain('HTTP 500')
  })

  test('failures are retried with backoff until delivered; the same webhook-id every time', async () => {
    failuresLeft.set('/flaky', 3)
    const { jobId, caller } = await jobWithCallback('/flaky')
    const job = await callbackOf(jobId, caller.token, 'delivered')
    const seen = hitsAt('/flaky')
    expect(seen).toHaveLength(4)
    expect(new Set(seen.map((s) => s.headers['webhook-id']))).toEqual(new Set([`msg_${jobId}`]))
    const key = await secret()
    for (const s of seen) expect(() => new Webhook(key).verify(s.body, s.headers)).not.toThrow()
    expect(job.callback.attempts).toBe(4)
    expect(job.callback.attemptLog.map((a: any) => a.httpStatus)).toEqual([503, 503, 503, 200])
    expect(job.callback.attemptLog.map((a: any) => a.attempt)).toEqual([1, 2, 3, 4])
    // Each retry came after the one before (backoff, not a burst at once).
    const at = job.callback.attemptLog.map((a: any) => Date.parse(a.at))
    for (let i = 1; i < at.length; i++) expect(at[i]).toBeGreaterThan(at[i - 1])
  })

  test('410 Gone stops at once', async () => {
    const { jobId, caller } = await jobWithCallback('/gone')
    const job = await callbackOf(jobId, caller.token, 'gone')
    await sb.deps.callbacks.flush()
    expect(hitsAt('/gone')).toHaveLength(1)
    expect(job.callback).toMatchObject({ attempts: 1, lastHttpStatus: 410, nextAttemptAt: null })
  })

  test('a redirect is not followed; it counts as a failure and is retried', async () => {
    const { jobId, caller } = await jobWithCallback('/redirect')
    const job = await waitFor(async () => {
      const j = (await sb.call('GET', `/api/jobs/${jobId}`, { token: caller.token })).body
      return j.callback?.attempts >= 2 ? j : undefined
    }, 'a retry')
    expect(job.callback.attemptLog[0].httpStatus).toBe(302)
    expect(hits.some((h) => h.path === '/elsewhere')).toBe(false)
  })

  test('after a rotation both the new and the old secret verify, for 24 h', async () => {
    const old = await secret()
    const rotated = await sb.call('POST', '/api/workspace/webhook-secret/rotate', { token: ws.key })
    expect(rotated.status).toBe(200)
    const fresh = rotated.body.secret as string
    expect(fresh).not.toBe(old)
    const { jobId, caller } = await jobWithCallback('/rotated')
    await callbackOf(jobId, caller.token, 'delivered')
    const hit = hitsAt('/rotated')[0]!
    expect(hit.headers['webhook-signature']!.split(' ')).toHaveLength(2)
    expect(() => new Webhook(fresh).verify(hit.body, hit.headers)).not.toThrow()
    expect(() => new Webhook(old).verify(hit.body, hit.headers)).not.toThrow()
  })
})
