import { afterAll, describe, expect, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { harness, registerAgent, TestClock } from '../helpers'
import { waitFor } from '../jobs/fixtures'
import { receiver } from './fixtures'

/**
 * An agent webhook that fails for the set time (default 3 days) is disabled, with an
 * `agent.webhook_disabled` event and an audit row; 410 Gone disables it at once; PATCH
 * `webhookEnabled: true` turns it back on. Run under a test clock, the worker driven by hand.
 */
const clock = new TestClock()
const h = await harness({ clock })
afterAll(() => h.deps.callbacks.stop())
const ws = await h.workspace()
const DAY = 24 * 3600_000

let healthy = false
const hooks = receiver((req) => {
  if (new URL(req.url).pathname === '/gone') return new Response('gone', { status: 410 })
  return healthy ? new Response('ok') : new Response('nope', { status: 500 })
})

const { webhookDeliveries: d, events: e, auditLogs: al } = h.deps.db.t
const hooked = async (name: string) => registerAgent(h, ws.key, { name, webhookUrl: `${hooks.url}/${name}` })
const poke = async (a: { id: string }) => {
  const res = await h.call('POST', `/api/agents/${a.id}/command`, {
    token: ws.key,
    body: { action: 'status' },
  })
  expect(res.status).toBe(200)
  await h.deps.callbacks.flush()
}
const agentView = async (a: { id: string }) =>
  (await h.call('GET', `/api/agents/${a.id}`, { token: ws.key })).body
const rowsOf = (a: { id: string }) => h.deps.db.orm.select().from(d).where(eq(d.agentId, a.id))

describe('disabling a failing webhook', () => {
  test('failing for 3 days disables it: event, audit row, pending ended, nothing more queued', async () => {
    healthy = false
    const a = await hooked('failing')
    const t0 = clock.now()
    await poke(a)
    expect((await agentView(a)).webhookFailingSince).toBe(t0.toISOString())
    clock.advance(2 * DAY)
    await poke(a)
    let view = await agentView(a)
    expect(view).toMatchObject({ webhookEnabled: true, webhookFailingSince: t0.toISOString() })
    clock.advance(DAY + 1000)
    await poke(a)
    view = await agentView(a)
    expect(view).toMatchObject({
      webhookEnabled: false,
      webhookDisabledReason: 'failing',
      webhookDisabledAt: clock.now().toISOString(),
    })
    const [event] = await h.deps.db.orm
      .select()
      .from(e)
      .where(and(eq(e.agentId, a.id), eq(e.type, 'agent.webhook_disabled')))
    expect(event!.data).toMatchObject({ agentId: a.id, reason: 'failing', failingSince: t0.toISOString() })
    const [audit] = await h.deps.db.orm
      .select()
      .from(al)
      .where(and(eq(al.agentId, a.id), eq(al.action, 'agent_webhook_disabled')))
    expect(audit).toMatchObject({ actorType: 'system', metadata: { reason: 'failing' } })
    const rows = await rowsOf(a)
    expect(rows.every((r) => r.status !== 'pending')).toBe(true)
    expect(rows.filter((r) => r.lastError?.includes('disabled')).length).toBeGreaterThan(0)

    // Disabled: new events are not queued; a retry is refused.
    const before = rows.length
    await poke(a)
    expect(await rowsOf(a)).toHaveLength(before)
    const retry = await h.call('POST', `/api/agents/${a.id}/webhook-deliveries/${rows[0]!.id}/retry`, {
      token: ws.key,
    })
    expect(retry.status).toBe(400)

    // Re-enabled by PATCH: the failure record is cleared and events flow again.
    healthy = true
    const patched = await h.call('PATCH', `/api/agents/${a.id}`, {
      token: ws.key,
      body: { webhookEnabled: true },
    })
    expect(patched.body).toMatchObject({
      webhookEnabled: true,
      webhookDisabledAt: null,
      webhookFailingSince: null,
    })
    const enabled = await h.call('GET', `/api/agents/${a.id}/audit-logs?action=agent_webhook_enabled`, {
      token: ws.key,
    })
    expect(enabled.body.logs).toHaveLength(1)
    const seen = hooks.at('/failing').length
    await poke(a)
    await waitFor(async () => hooks.at('/failing').length > seen, 'a webhook after re-enabling')
    expect((await rowsOf(a)).filter((r) => r.status === 'delivered')).toHaveLength(1)
  })

  test('a success in between starts the count again', async () => {
    healthy = false
    const a = await hooked('recovering')
    await poke(a)
    clock.advance(2 * DAY)
    healthy = true
    await poke(a)
    expect((await agentView(a)).webhookFailingSince).toBeNull()
    healthy = false
    clock.advance(DAY)
    const t1 = clock.now()
    await poke(a)
    clock.advance(2 * DAY)
    await poke(a)
    expect(await agentView(a)).toMatchObject({ webhookEnabled: true, webhookFailingSince: t1.toISOString() })
  })

  test('410 Gone disables it at once', async () => {
    const a = await hooked('gone')
    await poke(a)
    const view = await agentView(a)
    expect(view).toMatchObject({ webhookEnabled: false, webhookDisabledReason: 'gone' })
    const [row] = await rowsOf(a)
    expect(row).toMatchObject({ status: 'gone', lastHttpStatus: 410 })
  })

  test('disabled by hand with webhookEnabled: false; the test send still goes', async () => {
    healthy = true
    const a = await hooked('manual')
    const off = await h.call('PATCH', `/api/agents/${a.id}`, {
      token: ws.key,
      body: { webhookEnabled: false },
    })
    expect(off.body).toMatchObject({ webhookEnabled: false, webhookDisabledReason: 'manual' })
    const audit = await h.call('GET', `/api/agents/${a.id}/audit-logs?action=agent_webhook_disabled`, {
      token: ws.key,
    })
    expect(audit.body.logs[0]).toMatchObject({ actorType: 'workspace_key', metadata: { reason: 'manual' } })
    await poke(a)
    expect(await rowsOf(a)).toHaveLength(0)
    const sent = await h.call('POST', `/api/agents/${a.id}/webhook-deliveries/test`, { token: ws.key })
    expect(sent.status).toBe(202)
    await h.deps.callbacks.flush()
    expect(hooks.at('/manual').map((x) => x.frame.type)).toEqual(['webhook.test'])
  })

  test('once the endpoint answers again, the waiting backlog goes at once, oldest first', async () => {
    healthy = false
    const a = await hooked('backlog')
    await poke(a)
    await poke(a)
    const waiting = await rowsOf(a)
    expect(waiting.map((r) => [r.status, r.attempts])).toEqual([
      ['pending', 1],
      ['pending', 1],
    ])
    // Their retries are hours away; a new event is due now.
    await h.deps.db.write(() =>
      h.deps.db.orm
        .update(d)
        .set({ nextAttemptAt: new Date(clock.now().getTime() + 10 * 3600_000) })
        .where(eq(d.agentId, a.id)),
    )
    healthy = true
    const seen = hooks.at('/backlog').length
    await poke(a)
    await h.deps.callbacks.flush()
    const rows = await rowsOf(a)
    expect(rows.every((r) => r.status === 'delivered')).toBe(true)
    const order = hooks
      .at('/backlog')
      .slice(seen)
      .map((x) => x.frame.id)
    const [older1, older2] = waiting.map((r) => r.eventId!).sort((x, y) => x - y)
    expect(order.slice(1)).toEqual([older1, older2])
  })
})
