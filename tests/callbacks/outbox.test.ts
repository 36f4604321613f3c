import { afterAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { claimDue, insertCallback, recordAttempt } from '../../src/modules/callbacks/outbox'
import { CALLBACK_MAX_ATTEMPTS } from '../../src/modules/callbacks/schedule'
import { signingSecrets } from '../../src/modules/callbacks/secret'
import { buildDeps } from '../../src/server'
import { harness, TestClock, upstream } from '../helpers'
import { connected, waitFor } from '../jobs/fixtures'

/**
 * The outbox under a test clock: the whole retry schedule run to exhaustion, claims that two
 * instances (two database connections) race for, and a crashed instance's claim expiring.
 */
const clock = new TestClock()
const h = await harness({ clock })
const worker = h.deps.callbacks
afterAll(() => worker.stop())
const ws = await h.workspace()

let refusals = 0
const receiver = upstream(() => {
  refusals++
  return new Response('down for maintenance', { status: 500 })
})
const agent = upstream(() => Response.json({ ok: true }))

const { webhookDeliveries: d } = h.deps.db.t
const deliveryOf = async (jobId: string) =>
  (await h.deps.db.orm.select().from(d).where(eq(d.jobId, jobId)))[0]!

describe('retries', () => {
  test('a receiver that never answers 2xx gets every attempt, then the delivery fails', async () => {
    const { caller, conn } = await connected(h.call, ws.key, { endpointUrl: `${agent.url}/` })
    const res = await h.call('POST', `/api/proxy/${conn.id}/async`, {
      token: caller.token,
      body: { _switchboard: { callback_url: `${receiver.url}/hook` } },
    })
    const jobId = res.body.jobId as string
    await waitFor(
      async () => (await deliveryOf(jobId))?.attempts === 1 && refusals === 1,
      'the first attempt',
    )
    const first = Date.parse((await deliveryOf(jobId)).createdAt.toISOString())
    for (let i = 0; i < 50 && (await deliveryOf(jobId)).status === 'pending'; i++) {
      // Not due yet: a round sends nothing.
      const before = refusals
      await worker.flush()
      expect(refusals).toBe(before)
      clock.advance(13 * 3600_000)
      await worker.flush()
    }
    const done = await deliveryOf(jobId)
    expect(done.status).toBe('failed')
    expect(done.attempts).toBe(CALLBACK_MAX_ATTEMPTS)
    expect(refusals).toBe(CALLBACK_MAX_ATTEMPTS)
    expect(done.lastHttpStatus).toBe(500)
    const job = (await h.call('GET', `/api/jobs/${jobId}`, { token: caller.token })).body
    expect(job.callback.status).toBe('failed')
    expect(job.callback.attemptLog).toHaveLength(CALLBACK_MAX_ATTEMPTS)
    expect(job.callback.nextAttemptAt).toBeNull()
    const last = Date.parse(job.callback.attemptLog.at(-1).at)
    expect(last - first).toBeGreaterThanOrEqual(24 * 3600_000)
  })
})

describe('claims', () => {
  const due = async () => {
    const jobId = crypto.randomUUID()
    await h.deps.db.tx((tx) =>
      insertCallback(h.deps, tx, {
        workspaceId: ws.id,
        jobId,
        eventType: 'job.completed',
        url: `${receiver.url}/never-sent`,
        payload: { type: 'job.completed', data: { jobId } },
        traceparent: null,
        tracestate: null,
      }),
    )
    return jobId
  }

  test('two instances racing for the same due rows: each row goes to exactly one', async () => {
    const other = await buildDeps(h.deps.config, { clock, log: h.deps.log })
    afterAll(() => other.db.close())
    const ids: string[] = await Promise.all(Array.from({ length: 20 }, due))
    const lease = { limit: 7, leaseMs: 60_000 }
    // Each instance claims round after round until nothing is left (a shared database may
    // hold other suites' due rows too); ours are counted.
    const drain = async (deps: typeof h.deps) => {
      const got: Awaited<ReturnType<typeof claimDue>> = []
      for (;;) {
        const round = await claimDue(deps, lease)
        if (round.length === 0) return got
        got.push(...round)
      }
    }
    const rounds = await Promise.all([drain(h.deps), drain(other), drain(h.deps), drain(other)])
    const claimed = rounds.flat().filter((r) => ids.includes(r.jobId!))
    expect(claimed).toHaveLength(20)
    expect(new Set(claimed.map((c) => c.id)).size).toBe(20)
    expect(claimed.every((c) => c.attempts === 1)).toBe(true)
    // Leased: nobody can claim them again until the lease runs out.
    expect((await claimDue(other, lease)).filter((r) => ids.includes(r.jobId!))).toEqual([])
  })

  test('a crashed instance’s claim expires; its late result does not overwrite the new claim', async () => {
    const jobId = await due()
    const mine = (await claimDue(h.deps, { limit: 500, leaseMs: 60_000 })).find((r) => r.jobId === jobId)!
    expect(mine.attempts).toBe(1)
    clock.advance(59_000)
    expect((await claimDue(h.deps, { limit: 500, leaseMs: 60_000 })).some((r) => r.jobId === jobId)).toBe(
      false,
    )
    clock.advance(2_000)
    const theirs = (await claimDue(h.deps, { limit: 500, leaseMs: 60_000 })).find((r) => r.jobId === jobId)!
    expect(theirs.attempts).toBe(2)
    // The first claimant comes back late with a success: the row stays with the second claim.
    await recordAttempt(h.deps, mine, { at: clock.now(), httpStatus: 200, error: null, durationMs: 1 })
    const row = await deliveryOf(jobId)
    expect(row.status).toBe('pending')
    expect(row.attempts).toBe(2)
    expect(row.lockedUntil).not.toBeNull()
    await recordAttempt(h.deps, theirs, { at: clock.now(), httpStatus: 204, error: null, durationMs: 1 })
    expect((await deliveryOf(jobId)).status).toBe('delivered')
  })
})

describe('signing secrets', () => {
  test('created on first use; after a rotation the old one signs too, until the overlap ends', async () => {
    const first = await signingSecrets(h.deps, ws.id)
    expect(first).toHaveLength(1)
    expect(await signingSecrets(h.deps, ws.id)).toEqual(first)
    const rotated = await h.call('POST', '/api/workspace/webhook-secret/rotate', { token: ws.key })
    expect(await signingSecrets(h.deps, ws.id)).toEqual([rotated.body.secret, first[0]])
    clock.advance(24 * 3600_000 - 1000)
    expect(await signingSecrets(h.deps, ws.id)).toHaveLength(2)
    clock.advance(2000)
    expect(await signingSecrets(h.deps, ws.id)).toEqual([rotated.body.secret])
    expect((await h.call('GET', '/api/workspace/webhook-secret', { token: ws.key })).body).toEqual({
      secret: rotated.body.secret,
      previousSecretValidUntil: null,
    })
  })
})
