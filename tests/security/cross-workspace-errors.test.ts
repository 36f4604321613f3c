import { afterAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { Registry } from '../../src/lib/metrics'
import { createOutboundClient } from '../../src/lib/outbound/client'
import { ForwardingEngine } from '../../src/modules/forward/engine'
import { UpstreamMeter } from '../../src/modules/forward/meter'
import { harness, registerAgent, upstream } from '../helpers'
import { waitFor } from '../jobs/fixtures'

/**
 * A failure on the far side of a board connection is the other workspace's business: a
 * caller in workspace B must not learn where A's agent lives (its host, its address, the
 * rule that refused it), and A must not learn where B's callbacks go. The owner keeps the
 * details (same-workspace callers, its own side of a job).
 */
const h = await harness()
afterAll(() => h.deps.callbacks.stop())
const a = await h.workspace()
const b = await h.workspace()
const live = upstream(() => new Response('later', { status: 202 }))
const { port } = new URL(live.url)

// A's agent lives at a name only A should know; B's caller connects to it over a board line.
const target = await registerAgent(h, a.key, {
  name: 'secret-target',
  endpointUrl: `http://localhost:${port}/run`,
})
const neighbour = await registerAgent(h, a.key, { name: 'neighbour' })
const caller = await registerAgent(h, b.key, { name: 'foreign-caller' })
const board = await h.call('POST', '/api/connections', {
  token: b.key,
  body: { agentId: caller.id, targetPermanentId: target.permanentId, type: 'board' },
})
expect((await h.call('POST', `/api/connections/${board.body.id}/accept`, { token: a.key })).status).toBe(200)
const internal = await h.call('POST', '/api/connections', {
  token: a.key,
  body: { agentId: neighbour.id, targetAgentId: target.id, type: 'private' },
})

/** From now on the outbound guard allows nothing: A's endpoint (on loopback) is refused. */
const guardedBy = (allowedNetworks: string[]) => {
  h.deps.forward = new ForwardingEngine({
    outbound: createOutboundClient({ allowedNetworks }),
    routes: h.deps.routes,
    tracer: h.deps.tracer,
    meter: new UpstreamMeter(new Registry(), h.deps.config.metrics.idLabels),
  })
}
const refuseEverything = () => guardedBy([])
const allowLoopback = () => guardedBy(['127.0.0.0/8'])

const leaks = (text: string) =>
  ['localhost', '127.0.0.1', String(port), 'loopback'].filter((s) => text.includes(s))

describe('the proxy lanes across workspaces', () => {
  test('sync: a refused endpoint is a bare 502 for the foreign caller, detailed for the owner', async () => {
    refuseEverything()
    try {
      const foreign = await h.call('POST', `/api/proxy/${board.body.id}`, { token: caller.token, raw: '{}' })
      expect(foreign.status).toBe(502)
      expect(foreign.body).toEqual({ error: 'The agent could not be reached', code: 'bad_gateway' })
      expect(leaks(foreign.text)).toEqual([])

      const own = await h.call('POST', `/api/proxy/${internal.body.id}`, {
        token: neighbour.token,
        raw: '{}',
      })
      expect(own.status).toBe(502)
      expect(own.text).toContain('localhost')
      expect(own.body.details?.rule).toBe('loopback')
    } finally {
      allowLoopback()
    }
  })

  test('sync: an unreachable endpoint says nothing about it either', async () => {
    await h.call('PATCH', `/api/agents/${target.id}`, {
      token: a.key,
      body: { endpointUrl: 'http://localhost:9/closed' },
    })
    try {
      const foreign = await h.call('POST', `/api/proxy/${board.body.id}`, { token: caller.token, raw: '{}' })
      expect(foreign.status).toBe(502)
      expect(foreign.body.error).toBe('The agent could not be reached')
      expect(leaks(foreign.text)).toEqual([])
    } finally {
      await h.call('PATCH', `/api/agents/${target.id}`, {
        token: a.key,
        body: { endpointUrl: `http://localhost:${port}/run` },
      })
    }
  })

  test("async: the foreign caller's job says the agent could not be reached", async () => {
    refuseEverything()
    try {
      const res = await h.call('POST', `/api/proxy/${board.body.id}/async`, {
        token: caller.token,
        raw: '{}',
      })
      expect(res.status).toBe(202)
      const job = await waitFor(async () => {
        const j = await h.call('GET', `/api/jobs/${res.body.jobId}`, { token: caller.token })
        return j.body.status === 'failed' ? j : undefined
      }, 'the job to fail')
      expect(job.body.error).toBe('The agent could not be reached')
      expect(leaks(job.text)).toEqual([])
    } finally {
      allowLoopback()
    }
  })
})

describe('callbacks seen from the target side', () => {
  test("the target never sees where the caller's callback went, nor why it failed", async () => {
    // The caller's callback goes to a closed port: the attempt fails with a network error.
    const res = await h.call('POST', `/api/proxy/${board.body.id}/async`, {
      token: caller.token,
      raw: JSON.stringify({ _switchboard: { callback_url: 'http://localhost:9/hook' } }),
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(202)
    const jobId = res.body.jobId
    await waitFor(async () => {
      const j = await h.call('GET', `/api/jobs/${jobId}`, { token: caller.token })
      return j.body.httpStatus === 202 ? j : undefined
    }, 'the delivery')
    const done = await h.call('POST', `/api/jobs/${jobId}/status`, {
      token: target.token,
      body: { status: 'completed', result: { ok: true } },
    })
    expect(done.status).toBe(200)
    await h.deps.callbacks.flush()

    const callerSide = await h.call('GET', `/api/jobs/${jobId}`, { token: caller.token })
    expect(callerSide.body.callback.attempts).toBeGreaterThanOrEqual(1)
    expect(callerSide.body.callback.lastError).toContain('ECONNREFUSED')

    for (const token of [target.token, a.key]) {
      const targetSide = await h.call('GET', `/api/jobs/${jobId}`, { token })
      expect(targetSide.status).toBe(200)
      expect(targetSide.body.callback.url).toBeNull()
      expect(targetSide.body.callback.lastError).toBe('The callback was not delivered')
      expect(leaks(JSON.stringify(targetSide.body.callback))).toEqual([])
      const listed = await h.call('GET', '/api/jobs', { token })
      expect(leaks(JSON.stringify(listed.body.jobs.find((j: any) => j.id === jobId).callback))).toEqual([])
    }
  })

  test('leaves no callback behind for another instance to retry', async () => {
    const { webhookDeliveries: d } = h.deps.db.t
    await h.deps.db.write(() => h.deps.db.orm.delete(d).where(eq(d.workspaceId, b.id)))
    expect(await h.deps.db.orm.select().from(d).where(eq(d.workspaceId, b.id))).toEqual([])
  })
})
