import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { insertDelivery } from '../../src/modules/callbacks/outbox'
import { ADMIN_TOKEN } from '../helpers'
import { waitFor } from '../jobs/fixtures'
import { liveServer } from '../ws/live'
import { receiver, verified } from './fixtures'

/**
 * What an owner sees of an agent's webhook: the deliveries with every attempt (status,
 * duration, the start of the answer, the next attempt), a retry, a test send, the order of
 * one agent's deliveries, and the outbound guard on every attempt.
 */
const live = await liveServer({ SWITCHBOARD_CALLBACK_RETRY_SCALE: '0.001' })
const ws = await live.workspace()
const other = await live.workspace()

const failuresLeft = new Map<string, number>()
let inFlight = 0
let mostInFlight = 0
const hooks = receiver(async (req) => {
  const path = new URL(req.url).pathname
  if (path === '/down') return new Response('down for maintenance', { status: 500 })
  if (path === '/redirect') return Response.redirect(`http://127.0.0.1:1/elsewhere`, 302)
  if (path === '/slow') {
    inFlight++
    mostInFlight = Math.max(mostInFlight, inFlight)
    await Bun.sleep(15)
    inFlight--
  }
  const left = failuresLeft.get(path) ?? 0
  if (left > 0) {
    failuresLeft.set(path, left - 1)
    return new Response('not now', { status: 503 })
  }
  return new Response(`thanks ${'!'.repeat(2000)}`)
})

const hooked = (name: string, extra: Record<string, unknown> = {}) =>
  live.agent(ws.key, { name, webhookUrl: `${hooks.url}/${name}`, ...extra })
const deliveries = (a: { id: string }, token = ws.key, query = '') =>
  live.call('GET', `/api/agents/${a.id}/webhook-deliveries${query}`, { token })
const command = (a: { id: string }) =>
  live.call('POST', `/api/agents/${a.id}/command`, { token: ws.key, body: { action: 'status' } })
const deliveryWhere = (a: { id: string }, pred: (d: any) => boolean, what: string) =>
  waitFor(async () => (await deliveries(a)).body.deliveries.find(pred), what)

describe('webhook deliveries', () => {
  test('the log: every attempt with status, duration and the start of the answer', async () => {
    failuresLeft.set('/flaky', 2)
    const a = await hooked('flaky')
    await command(a)
    const d = await deliveryWhere(a, (x) => x.status === 'delivered', 'delivered')
    expect(d).toMatchObject({
      eventType: 'command.queued',
      url: `${hooks.url}/flaky`,
      status: 'delivered',
      attempts: 3,
      nextAttemptAt: null,
      lastHttpStatus: 200,
      lastError: null,
      webhookId: String(d.eventId),
    })
    expect(d.attemptLog.map((x: any) => [x.attempt, x.httpStatus, x.responseExcerpt.slice(0, 7)])).toEqual([
      [1, 503, 'not now'],
      [2, 503, 'not now'],
      [3, 200, 'thanks '],
    ])
    // At most 1 KB of an answer is kept.
    expect(d.lastResponseExcerpt.length).toBeLessThanOrEqual(1025)
    for (const x of d.attemptLog) expect(x.durationMs).toBeGreaterThanOrEqual(0)
    expect(d.payload).toMatchObject({ id: d.eventId, type: 'command.queued' })
    expect(new Set(hooks.at('/flaky').map((h) => h.headers['webhook-id']))).toEqual(new Set([d.webhookId]))
    const one = await live.call('GET', `/api/agents/${a.id}/webhook-deliveries/${d.id}`, { token: a.token })
    expect(one.status).toBe(200)
    expect(one.body).toEqual(d)
  })

  test('a failing receiver: pending, with the next attempt due and the answer shown', async () => {
    const a = await hooked('down')
    await command(a)
    const d = await deliveryWhere(a, (x) => x.attempts >= 1 && x.attemptLog.length >= 1, 'a failed attempt')
    expect(d.status).toBe('pending')
    // Due after the first attempt (the schedule is shrunk: it may be under way again already).
    expect(Date.parse(d.nextAttemptAt)).toBeGreaterThan(Date.parse(d.attemptLog[0].at))
    expect(d.lastHttpStatus).toBe(500)
    expect(d.lastError).toBe('HTTP 500')
    expect(d.lastResponseExcerpt).toBe('down for maintenance')
    const pending = await deliveries(a, ws.key, '?status=pending')
    expect(pending.body.deliveries.map((x: any) => x.id)).toContain(d.id)
    expect((await deliveries(a, ws.key, '?status=delivered')).body.deliveries).toEqual([])
  })

  test('a redirect is not followed: it is an attempt that failed', async () => {
    const a = await hooked('redirect')
    await command(a)
    const d = await deliveryWhere(a, (x) => x.attemptLog.length >= 1, 'an attempt')
    expect(d.attemptLog[0].httpStatus).toBe(302)
    expect(hooks.hits.some((h) => h.path === '/elsewhere')).toBe(false)
  })

  test('retry sends the same delivery again, now; not while it is being sent', async () => {
    const a = await hooked('retried')
    await command(a)
    const d = await deliveryWhere(a, (x) => x.status === 'delivered', 'delivered')
    const res = await live.call('POST', `/api/agents/${a.permanentId}/webhook-deliveries/${d.id}/retry`, {
      token: a.token,
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: d.id, status: 'pending', attempts: 1 })
    const again = await deliveryWhere(
      a,
      (x) => x.id === d.id && x.attempts === 2 && x.status === 'delivered',
      'resent',
    )
    expect(again.attemptLog.map((x: any) => x.httpStatus)).toEqual([200, 200])
    const seen = hooks.at('/retried')
    expect(seen).toHaveLength(2)
    expect(seen[0]!.headers['webhook-id']).toBe(seen[1]!.headers['webhook-id'])
    expect(seen[0]!.body).toBe(seen[1]!.body)
    const audit = await live.call('GET', `/api/agents/${a.id}/audit-logs`, { token: ws.key })
    expect(audit.body.logs.map((l: any) => l.action)).toContain('agent_webhook_retried')

    // Claimed by the worker right now: 409.
    const d2 = live.deps.db.t.webhookDeliveries
    await live.deps.db.write(() =>
      live.deps.db.orm
        .update(d2)
        .set({ status: 'pending', lockedUntil: new Date(Date.now() + 60_000) })
        .where(eq(d2.id, d.id)),
    )
    const busy = await live.call('POST', `/api/agents/${a.id}/webhook-deliveries/${d.id}/retry`, {
      token: ws.key,
    })
    expect(busy.status).toBe(409)
  })

  test('the test send: a signed webhook.test, whatever webhookEvents says', async () => {
    const a = await hooked('tested', { webhookEvents: [] })
    const res = await live.call('POST', `/api/agents/${a.id}/webhook-deliveries/test`, { token: ws.key })
    expect(res.status).toBe(202)
    expect(res.body).toMatchObject({ eventType: 'webhook.test', status: 'pending', attempts: 0 })
    const hit = await hooks.until('/tested', (f) => f.type === 'webhook.test')
    const secret = (await live.call('GET', '/api/workspace/webhook-secret', { token: ws.key })).body.secret
    const body = verified(secret, hit)
    expect(body).toMatchObject({ id: res.body.eventId, type: 'webhook.test', data: { agentId: a.id } })
    expect(hit.headers['webhook-id']).toBe(res.body.webhookId)
    await deliveryWhere(a, (x) => x.id === res.body.id && x.status === 'delivered', 'the test delivered')
    // Without a webhook URL there is nothing to test.
    const bare = await live.agent(ws.key)
    const none = await live.call('POST', `/api/agents/${bare.id}/webhook-deliveries/test`, {
      token: bare.token,
    })
    expect(none.status).toBe(400)
    expect(none.body.code).toBe('invalid_state')
  })

  test("one agent's deliveries go one at a time, in event order", async () => {
    const a = await hooked('slow')
    mostInFlight = 0
    const sender = await live.agent(ws.key)
    for (let n = 0; n < 8; n++) {
      await live.call('POST', `/api/agents/${sender.id}/messages/send`, {
        token: ws.key,
        body: { toAgentId: a.id, payload: { n } },
      })
    }
    await waitFor(async () => hooks.at('/slow').length >= 8, 'eight webhooks')
    const ids = hooks.at('/slow').map((h) => h.frame.id)
    expect(ids).toEqual([...ids].sort((x, y) => x - y))
    expect(hooks.at('/slow').map((h) => h.frame.data.payload.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(mostInFlight).toBe(1)
  })

  test('the outbound guard applies to every attempt: a refused address is never dialled', async () => {
    const a = await hooked('guarded')
    await live.deps.db.tx((tx) =>
      insertDelivery(live.deps, tx, {
        workspaceId: ws.id,
        agentId: a.id,
        eventId: 1,
        messageId: '1',
        eventType: 'webhook.test',
        url: 'http://169.254.169.254/latest/meta-data',
        payload: { id: 1 },
      }),
    )
    live.deps.callbacks.wake()
    const d = await deliveryWhere(a, (x) => x.attemptLog.length >= 1, 'a refused attempt')
    expect(d.attemptLog[0]).toMatchObject({ httpStatus: null })
    expect(d.attemptLog[0].error).toStartWith('refused')
  })

  test('auth: none 401, admin 403, another agent 403, another workspace 404', async () => {
    const a = await hooked('auth')
    const b = await live.agent(ws.key)
    const stranger = await live.agent(other.key)
    await command(a)
    const d = await deliveryWhere(a, (x) => x.status === 'delivered', 'delivered')
    const routes: [string, string][] = [
      ['GET', `/api/agents/${a.id}/webhook-deliveries`],
      ['GET', `/api/agents/${a.id}/webhook-deliveries/${d.id}`],
      ['POST', `/api/agents/${a.id}/webhook-deliveries/${d.id}/retry`],
      ['POST', `/api/agents/${a.id}/webhook-deliveries/test`],
    ]
    for (const [method, path] of routes) {
      expect({ path, s: (await live.call(method, path)).status }).toEqual({ path, s: 401 })
      expect({ path, s: (await live.call(method, path, { token: 'wk_nope' })).status }).toEqual({
        path,
        s: 401,
      })
      expect({ path, s: (await live.call(method, path, { token: ADMIN_TOKEN })).status }).toEqual({
        path,
        s: 403,
      })
      expect({ path, s: (await live.call(method, path, { token: b.token })).status }).toEqual({
        path,
        s: 403,
      })
      expect({ path, s: (await live.call(method, path, { token: other.key })).status }).toEqual({
        path,
        s: 404,
      })
      expect({ path, s: (await live.call(method, path, { token: stranger.token })).status }).toEqual({
        path,
        s: 403,
      })
    }
    // Another agent's delivery under this agent's path is not found.
    const mine = await live.call('GET', `/api/agents/${b.id}/webhook-deliveries/${d.id}`, { token: ws.key })
    expect(mine.status).toBe(404)
  })

  test('bad input: wrong types, oversize, deep nesting, NUL bytes', async () => {
    const a = await hooked('input')
    const base = `/api/agents/${a.id}/webhook-deliveries`
    const bad: [string, string, Record<string, unknown>?][] = [
      ['GET', `${base}?limit=many`],
      ['GET', `${base}?limit=0`],
      ['GET', `${base}?status=lost`],
      ['GET', `${base}?cursor=${'x'.repeat(600)}`],
      ['GET', `${base}?cursor=nope`],
      ['GET', `${base}?status=%00`],
      ['GET', `${base}/not-a-uuid`],
      ['GET', `/api/agents/agt-%00abcdef/webhook-deliveries`],
      ['POST', `${base}/test`, { body: { extra: true } }],
      ['POST', `${base}/test`, { raw: `${'['.repeat(5000)}${']'.repeat(5000)}` }],
      ['POST', `${base}/test`, { body: { '\u0000': 1 } }],
      ['POST', `${base}/${crypto.randomUUID()}/retry`, { body: { now: 'yes' } }],
    ]
    for (const [method, path, opts] of bad) {
      const res = await live.call(method, path, { token: ws.key, ...opts })
      expect({ path: path.slice(0, 120), status: res.status }).toEqual({
        path: path.slice(0, 120),
        status: 400,
      })
      expect(res.body.code).toBeString()
    }
    const huge = await live.call('POST', `${base}/test`, {
      token: ws.key,
      raw: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
    })
    expect(huge.status).toBe(413)
    // Unknown delivery: 404.
    expect((await live.call('POST', `${base}/${crypto.randomUUID()}/retry`, { token: ws.key })).status).toBe(
      404,
    )
  })

  test('the webhook fields of an agent refuse bad input', async () => {
    const a = await hooked('fields')
    const bad: Record<string, unknown>[] = [
      { webhookEvents: 'all' },
      { webhookEvents: ['job.exploded'] },
      { webhookEvents: ['job.created', 'job.created'] },
      { webhookEvents: [[[[['job.created']]]]] },
      { webhookSecret: 'not-a-secret' },
      { webhookSecret: `whsec_${'A'.repeat(5000)}` },
      { webhookSecret: 'whsec_\u0000AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      { webhookSecret: 12 },
      { webhookEnabled: 'yes' },
    ]
    for (const body of bad) {
      const res = await live.call('PATCH', `/api/agents/${a.id}`, { token: ws.key, body })
      expect({ body, status: res.status }).toEqual({ body, status: 400 })
    }
    const reg = await live.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'x', webhookUrl: `${hooks.url}/x`, webhookEvents: ['nope'] },
    })
    expect(reg.status).toBe(400)
  })
})
