import { describe, expect, test } from 'bun:test'
import { Webhook } from 'standardwebhooks'
import { upstream } from '../helpers'
import { settled, waitFor } from '../jobs/fixtures'
import { liveServer } from '../ws/live'
import { agentEndpoint, githubSignature, stored, stripeSignature } from './fixtures'

/**
 * Webhook triggers end to end on a running Switchboard: an outside system's call, verified as
 * the trigger says, becomes a job for the agent as the async lane makes one; a wrong or missing
 * signature is a 401 that stores nothing; a repeated delivery id makes no second job.
 */
const live = await liveServer()
const ws = await live.workspace()
const endpoint = agentEndpoint()
const agent = await live.agent(ws.key, { name: 'builder', endpointUrl: `${endpoint.url}/jobs` })

const makeTrigger = async (body: Record<string, unknown>, key = ws.key, agentId = agent.id) => {
  const res = await live.call('POST', '/api/triggers', { token: key, body: { name: 't', agentId, ...body } })
  expect(res.status).toBe(201)
  return res.body as { trigger: { id: string; url: string }; secret: string | null }
}
/** A workspace where nothing else happens, to count what a call stored. */
const quiet = async (verify: Record<string, unknown>) => {
  const w = await live.workspace()
  const a = await live.agent(w.key, { endpointUrl: `${endpoint.url}/quiet` })
  return { workspaceId: w.id, ...(await makeTrigger({ verify }, w.key, a.id)) }
}
const hook = (id: string, body: string, headers: Record<string, string> = {}, query = '') =>
  fetch(`${live.base}/hooks/${id}${query}`, { method: 'POST', headers, body })
const jobSeen = (jobId: string) =>
  waitFor(
    async () => endpoint.seen.find((s) => s.headers['x-switchboard-job-id'] === jobId),
    `job ${jobId} delivered`,
  )

describe('webhook triggers', () => {
  const SECRET = 'github-shared-secret-0123456789'

  test('a GitHub-style HMAC computed with node:crypto passes: 202 {jobId}, the agent gets the body as sent', async () => {
    const { trigger } = await makeTrigger({ verify: { type: 'hmac_sha256', secret: SECRET } })
    expect(trigger.url).toBe(`/hooks/${trigger.id}`)
    const payload = JSON.stringify({ ref: 'refs/heads/main', commits: [{ id: 'abc' }] })
    const delivery = crypto.randomUUID()
    const res = await hook(trigger.id, payload, {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': delivery,
      'x-hub-signature-256': githubSignature(SECRET, payload),
    })
    expect(res.status).toBe(202)
    const { jobId } = (await res.json()) as { jobId: string }
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/)
    const seen = await jobSeen(jobId)
    expect(seen.body).toBe(payload)
    expect(seen.headers).toMatchObject({
      'x-github-event': 'push',
      'x-switchboard-trigger': trigger.id,
      'x-switchboard-job-status-url': `/api/jobs/${jobId}`,
      'content-type': 'application/json',
    })
    expect(seen.headers['x-switchboard-caller']).toBeUndefined()
    // Poll and outcome as for any job: the agent answered 200, so it completed.
    const job = await settled(live.call, ws.key, jobId)
    expect(job).toMatchObject({
      status: 'completed',
      triggerId: trigger.id,
      callerAgentId: null,
      targetAgentId: agent.id,
      connectionId: null,
      result: { handled: true },
    })
    // The agent's token sees its job too.
    expect((await live.call('GET', `/api/jobs/${jobId}`, { token: agent.token })).status).toBe(200)
    // The call log: accepted, its job, its delivery id.
    const calls = await live.call('GET', `/api/triggers/${trigger.id}/calls`, { token: ws.key })
    expect(calls.body.calls).toEqual([
      {
        id: expect.any(String),
        receivedAt: expect.any(String),
        outcome: 'accepted',
        jobId,
        job: { status: 'completed', httpStatus: 200 },
        deliveryId: delivery,
        sourceIp: expect.any(String),
        contentType: 'application/json',
        bytes: payload.length,
      },
    ])
  })

  test('a wrong or missing signature is 401 and stores nothing', async () => {
    const { trigger, workspaceId } = await quiet({ type: 'hmac_sha256', secret: SECRET })
    const payload = '{"action":"opened"}'
    const before = await stored(live.deps, workspaceId, trigger.id)
    const attempts: Record<string, string>[] = [
      {},
      { 'x-hub-signature-256': githubSignature('another-secret-0123456789', payload) },
      { 'x-hub-signature-256': githubSignature(SECRET, `${payload} `) },
      { 'x-hub-signature-256': githubSignature(SECRET, payload).replace('sha256=', 'sha1=') },
      { 'x-hub-signature-256': 'sha256=' },
      { 'x-hub-signature-256': `${githubSignature(SECRET, payload)}00` },
    ]
    for (const headers of attempts) {
      const res = await hook(trigger.id, payload, { ...headers, 'x-github-delivery': crypto.randomUUID() })
      expect({ headers, status: res.status }).toEqual({ headers, status: 401 })
      expect(((await res.json()) as any).code).toBe('unauthorized')
    }
    await live.deps.callbacks.flush()
    expect(await stored(live.deps, workspaceId, trigger.id)).toEqual(before)
  })

  test('a replayed delivery id makes no second job: the same 202, marked replayed', async () => {
    const { trigger } = await makeTrigger({ verify: { type: 'hmac_sha256', secret: SECRET } })
    const payload = '{"n":1}'
    const headers = {
      'x-github-delivery': crypto.randomUUID(),
      'x-hub-signature-256': githubSignature(SECRET, payload),
    }
    const first = await hook(trigger.id, payload, headers)
    expect(first.status).toBe(202)
    const { jobId } = (await first.json()) as { jobId: string }
    const before = await stored(live.deps, ws.id, trigger.id)
    const again = await hook(trigger.id, payload, headers)
    expect(again.status).toBe(202)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.json()).toEqual({ jobId })
    const after = await stored(live.deps, ws.id, trigger.id)
    expect(after.jobs).toBe(before.jobs)
    expect(after.calls).toBe(before.calls + 1)
    await jobSeen(jobId)
    expect(endpoint.seen.filter((s) => s.headers['x-switchboard-trigger'] === trigger.id)).toHaveLength(1)
    const calls = (await live.call('GET', `/api/triggers/${trigger.id}/calls`, { token: ws.key })).body.calls
    expect(calls.map((c: any) => [c.outcome, c.jobId])).toEqual([
      ['duplicate', jobId],
      ['accepted', jobId],
    ])
    // Idempotency-Key works the same; a different key is a new job.
    const k = {
      'idempotency-key': `k-${crypto.randomUUID()}`,
      'x-hub-signature-256': headers['x-hub-signature-256'],
    }
    const a = (await (await hook(trigger.id, payload, k)).json()) as any
    const b = (await (await hook(trigger.id, payload, k)).json()) as any
    expect(a.jobId).toBe(b.jobId)
    const c = (await (await hook(trigger.id, payload, { ...k, 'idempotency-key': 'other' })).json()) as any
    expect(c.jobId).not.toBe(a.jobId)
  })

  test('the same delivery arriving five times at once makes one job', async () => {
    const { trigger, workspaceId } = await quiet({ type: 'none' })
    const before = await stored(live.deps, workspaceId, trigger.id)
    const delivery = crypto.randomUUID()
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => hook(trigger.id, '{}', { 'x-github-delivery': delivery })),
    )
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202])
    const ids = new Set(await Promise.all(answers.map(async (a) => ((await a.json()) as any).jobId)))
    expect(ids.size).toBe(1)
    const after = await stored(live.deps, workspaceId, trigger.id)
    expect(after.jobs).toBe(before.jobs + 1)
    expect(after.calls).toBe(5)
  })

  test('a 2 MB body is 413, declared or chunked, and stores nothing', async () => {
    const { trigger, workspaceId } = await quiet({ type: 'none' })
    const before = await stored(live.deps, workspaceId, trigger.id)
    const big = 'x'.repeat(2 * 1024 * 1024)
    const declared = await hook(trigger.id, big)
    expect(declared.status).toBe(413)
    expect(((await declared.json()) as any).code).toBe('payload_too_large')
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 32; i++) c.enqueue(new TextEncoder().encode('y'.repeat(64 * 1024)))
        c.close()
      },
    })
    const chunked = await fetch(`${live.base}/hooks/${trigger.id}`, { method: 'POST', body: chunks })
    expect(chunked.status).toBe(413)
    expect(await stored(live.deps, workspaceId, trigger.id)).toEqual(before)
    // Exactly at the limit is fine.
    expect((await hook(trigger.id, 'z'.repeat(1024 * 1024))).status).toBe(202)
  })

  test('Stripe-style signatures: t=…,v1=… within 5 minutes', async () => {
    const { trigger } = await makeTrigger({
      verify: { type: 'hmac_sha256', secret: 'whsec_stripe_like_secret_123', header: 'Stripe-Signature' },
    })
    const payload = '{"id":"evt_1","type":"invoice.paid"}'
    const ok = await hook(trigger.id, payload, {
      'stripe-signature': stripeSignature('whsec_stripe_like_secret_123', payload),
    })
    expect(ok.status).toBe(202)
    const old = stripeSignature('whsec_stripe_like_secret_123', payload, Math.floor(Date.now() / 1000) - 600)
    expect((await hook(trigger.id, payload, { 'stripe-signature': old })).status).toBe(401)
    // Several v1 entries (during Stripe's secret roll): any one that matches passes.
    const t = Math.floor(Date.now() / 1000)
    const v1 = stripeSignature('whsec_stripe_like_secret_123', payload, t).split('v1=')[1]
    const both = `t=${t},v1=${'0'.repeat(64)},v1=${v1}`
    expect((await hook(trigger.id, payload, { 'stripe-signature': both })).status).toBe(202)
    expect(
      (await hook(trigger.id, payload, { 'stripe-signature': `t=${t},v1=${'0'.repeat(64)}` })).status,
    ).toBe(401)
  })

  test('Standard Webhooks: signed by the reference library passes; webhook-id deduplicates', async () => {
    const made = await makeTrigger({ verify: { type: 'standard_webhooks' } })
    expect(made.secret).toStartWith('whsec_')
    const wh = new Webhook(made.secret!)
    const payload = '{"type":"order.created"}'
    const id = `msg_${crypto.randomUUID()}`
    const now = new Date()
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': wh.sign(id, now, payload),
    }
    const first = await hook(made.trigger.id, payload, headers)
    expect(first.status).toBe(202)
    const again = await hook(made.trigger.id, payload, headers)
    expect(await again.json()).toEqual(await first.json())
    expect((await hook(made.trigger.id, '{"type":"order.deleted"}', headers)).status).toBe(401)
    expect((await hook(made.trigger.id, payload, { ...headers, 'webhook-timestamp': '1000' })).status).toBe(
      401,
    )
  })

  test('a token in a header; it never reaches the agent', async () => {
    const bearer = await makeTrigger({ verify: { type: 'token' } })
    expect(bearer.secret).toBeString()
    const ok = await hook(bearer.trigger.id, 'hi', { authorization: `Bearer ${bearer.secret}` })
    expect(ok.status).toBe(202)
    expect((await hook(bearer.trigger.id, 'hi', { authorization: 'Bearer nope' })).status).toBe(401)
    expect((await hook(bearer.trigger.id, 'hi', { authorization: bearer.secret! })).status).toBe(401)
    const gitlab = await makeTrigger({
      verify: { type: 'token', header: 'X-Gitlab-Token', secret: 'gitlab-token-0123456789' },
    })
    expect(gitlab.secret).toBeNull()
    const res = await hook(gitlab.trigger.id, 'body', { 'x-gitlab-token': 'gitlab-token-0123456789' })
    expect(res.status).toBe(202)
    const seen = await jobSeen(((await res.json()) as any).jobId)
    expect(seen.headers['x-gitlab-token']).toBeUndefined()
    expect(JSON.stringify(seen)).not.toContain('gitlab-token-0123456789')
    const first = await jobSeen(((await ok.json()) as any).jobId)
    expect(JSON.stringify(first)).not.toContain(bearer.secret!)
  })

  test('json_envelope: one JSON document with the headers (no credentials), the query and the body', async () => {
    const { trigger, secret } = await makeTrigger({
      verify: { type: 'token', header: 'X-Token' },
      transform: 'json_envelope',
    })
    const res = await hook(
      trigger.id,
      '{"form":"contact","email":"a@example.com"}',
      { 'x-token': secret!, 'content-type': 'application/json', 'x-source': 'form', cookie: 'sid=1' },
      '?campaign=spring',
    )
    expect(res.status).toBe(202)
    const seen = await jobSeen(((await res.json()) as any).jobId)
    expect(seen.headers['content-type']).toBe('application/json')
    const doc = JSON.parse(seen.body)
    expect(doc).toMatchObject({
      trigger: { id: trigger.id, name: 't' },
      contentType: 'application/json',
      query: { campaign: 'spring' },
      body: { form: 'contact', email: 'a@example.com' },
    })
    expect(doc.headers['x-source']).toBe('form')
    expect(doc.headers['x-token']).toBeUndefined()
    expect(doc.headers.cookie).toBeUndefined()
    expect(Date.parse(doc.receivedAt)).not.toBeNaN()
  })

  test('callbacks as usual: _switchboard.callback_url in the body gets the final state', async () => {
    const hits: string[] = []
    const receiver = upstream(async (req) => {
      hits.push(await req.text())
      return new Response('ok')
    })
    const { trigger } = await makeTrigger({ verify: { type: 'none' } })
    const res = await hook(
      trigger.id,
      JSON.stringify({ x: 1, _switchboard: { callback_url: `${receiver.url}/cb` } }),
      {
        'content-type': 'application/json',
      },
    )
    const { jobId } = (await res.json()) as any
    const seen = await jobSeen(jobId)
    expect(JSON.parse(seen.body)).toEqual({ x: 1 })
    await waitFor(async () => hits.length > 0, 'the callback')
    expect(JSON.parse(hits[0]!)).toMatchObject({
      type: 'job.completed',
      data: { jobId, triggerId: trigger.id },
    })
  })

  test('unknown, malformed, disabled or deleted: the same 404', async () => {
    const { trigger } = await makeTrigger({ verify: { type: 'none' } })
    expect((await hook(trigger.id, '{}')).status).toBe(202)
    await live.call('PATCH', `/api/triggers/${trigger.id}`, { token: ws.key, body: { enabled: false } })
    const disabled = await hook(trigger.id, '{}')
    expect(disabled.status).toBe(404)
    const unknown = await hook(`trg_${'a'.repeat(32)}`, '{}')
    const malformed = await hook('nope', '{}')
    const nul = await hook('trg_%00', '{}')
    for (const r of [unknown, malformed, nul]) expect(r.status).toBe(404)
    expect(await unknown.json()).toEqual(await disabled.json())
    await live.call('DELETE', `/api/triggers/${trigger.id}`, { token: ws.key })
    expect((await hook(trigger.id, '{}')).status).toBe(404)
  })

  test('an agent that cannot take jobs: 400 that names no agent', async () => {
    const off = await live.agent(ws.key, { name: 'off', endpointUrl: `${endpoint.url}/off` })
    const res = await live.call('POST', '/api/triggers', {
      token: ws.key,
      body: { name: 'to-off', agentId: off.id, verify: { type: 'none' } },
    })
    await live.call('PATCH', `/api/agents/${off.id}`, { token: ws.key, body: { status: 'inactive' } })
    const refused = await hook(res.body.trigger.id, '{}')
    expect(refused.status).toBe(400)
    const text = await refused.text()
    expect(text).not.toContain(off.permanentId)
    expect(text).not.toContain(endpoint.url)
  })
})
