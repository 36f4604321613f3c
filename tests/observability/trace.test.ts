import { describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/lib/log'
import { checkEndpoint } from '../../src/modules/health/check'
import { liveServer } from '../helpers'
import { connected, settled, waitFor } from '../jobs/fixtures'
import { CALLER_SPAN, logLines, parts, recorder, TRACE_ID, TRACEPARENT } from './fixtures'

/**
 * W3C trace context through every lane, against a running Switchboard and real local agents:
 * the caller's trace reaches each upstream under a new parent id, an async job carries it to
 * its delivery, callback and status report, and the request's log lines name it.
 */
const logs = logLines()
const sb = await liveServer({ log: createLogger('info', logs.write) })
const ws = await sb.workspace()
const agent = recorder()
const receiver = recorder()

const withTrace = { traceparent: TRACEPARENT, tracestate: 'vendor=opaque,other=1' }
const requestLine = (route: string, traceId: string) =>
  waitFor(
    async () => logs.parsed().find((l) => l.msg === 'request' && l.route === route && l.traceId === traceId),
    `request line for ${route}`,
  )

const lineOf = (requestId: string) =>
  waitFor(
    async () => logs.parsed().find((l) => l.msg === 'request' && l.requestId === requestId),
    `the line of request ${requestId}`,
  )

async function member(path: string, extra: Record<string, unknown> = {}) {
  const res = await sb.call('POST', '/api/agents', {
    token: ws.key,
    body: { name: 'member', endpointUrl: `${agent.url}${path}`, ...extra },
  })
  expect(res.status).toBe(201)
  return {
    id: res.body.agent.id as string,
    permanentId: res.body.agent.permanentId as string,
    token: res.body.token,
  }
}

describe('trace context on every lane', () => {
  test('sync: the caller’s trace reaches the agent under a new parent, with its tracestate', async () => {
    const { caller, target, conn } = await connected(sb.call, ws.key, {
      endpointUrl: `${agent.url}/sync`,
      endpointCredential: 'sync-endpoint-secret-31',
    })
    const res = await sb.call('POST', `/api/proxy/${conn.id}`, {
      token: caller.token,
      raw: '{}',
      headers: withTrace,
    })
    expect(res.status).toBe(200)
    const [hit] = agent.at('/sync')
    const up = parts(hit!.headers.traceparent)
    expect(up.traceId).toBe(TRACE_ID)
    expect(up.spanId).not.toBe(CALLER_SPAN)
    expect(up.flags).toBe('01')
    expect(hit!.headers.tracestate).toBe('vendor=opaque,other=1')

    // The request's log line: its trace, and the hop with the target's permanent id, status and latency.
    const line = await requestLine('/api/proxy/:connectionId', TRACE_ID)
    expect(line.upstream).toEqual([
      { lane: 'sync', agent: target.agent.permanentId, status: 200, outcome: '2xx', ms: expect.any(Number) },
    ])
    expect(logs.raw.join('\n')).not.toContain('sync-endpoint-secret-31')
  })

  test('no traceparent: a new trace starts (not sampled: nothing records it) and is logged', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/fresh` })
    await sb.call('POST', `/api/proxy/${conn.id}`, { token: caller.token, raw: '{}' })
    const up = parts(agent.at('/fresh')[0]!.headers.traceparent)
    expect(up.flags).toBe('00')
    expect(agent.at('/fresh')[0]!.headers.tracestate).toBeUndefined()
    await requestLine('/api/proxy/:connectionId', up.traceId)
  })

  test('a malformed traceparent is not continued, and its tracestate goes with it', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/malformed` })
    for (const bad of [
      `00-${'0'.repeat(32)}-${CALLER_SPAN}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `ff-${TRACE_ID}-${CALLER_SPAN}-01`,
      `00-${TRACE_ID.toUpperCase()}-${CALLER_SPAN}-01`,
      `00-${TRACE_ID}-${CALLER_SPAN}-01-extra`,
      'garbage',
    ]) {
      await sb.call('POST', `/api/proxy/${conn.id}`, {
        token: caller.token,
        raw: '{}',
        headers: { traceparent: bad, tracestate: 'vendor=x' },
      })
    }
    const seen = agent.at('/malformed')
    expect(seen).toHaveLength(6)
    for (const s of seen) {
      expect(parts(s.headers.traceparent).traceId).not.toBe(TRACE_ID)
      expect(s.headers.tracestate).toBeUndefined()
    }
    // A later version's extra fields are allowed: the trace continues as version 00.
    await sb.call('POST', `/api/proxy/${conn.id}`, {
      token: caller.token,
      raw: '{}',
      headers: { traceparent: `01-${TRACE_ID}-${CALLER_SPAN}-01-future` },
    })
    expect(parts(agent.at('/malformed')[6]!.headers.traceparent).traceId).toBe(TRACE_ID)
  })

  test('broadcast: every member gets the trace, each under its own new parent', async () => {
    const caller = await member('/caller')
    const members = [await member('/b1'), await member('/b2'), await member('/b3')]
    const g = await sb.call('POST', '/api/broadcast-groups', {
      token: ws.key,
      body: { name: 'g', memberIds: [...members.map((m) => m.id), caller.id] },
    })
    expect(g.status).toBe(201)
    const res = await sb.call('POST', `/api/proxy/broadcast/${g.body.id}`, {
      token: caller.token,
      raw: '{}',
      headers: withTrace,
    })
    expect(res.status).toBe(200)
    const got = ['/b1', '/b2', '/b3'].map((p) => parts(agent.at(p)[0]!.headers.traceparent))
    for (const p of got) expect(p.traceId).toBe(TRACE_ID)
    expect(new Set([CALLER_SPAN, ...got.map((p) => p.spanId)]).size).toBe(4)
    const line = await requestLine('/api/proxy/broadcast/:groupId', TRACE_ID)
    expect(line.upstream.map((h: any) => h.agent).sort()).toEqual(members.map((m) => m.permanentId).sort())
  })

  test('pool: each attempt carries the trace under its own parent', async () => {
    const caller = await member('/caller')
    const first = await member('/fail-pool')
    const second = await member('/p2')
    const p = await sb.call('POST', '/api/pools', {
      token: ws.key,
      body: {
        name: 'p',
        strategy: 'failover',
        members: [
          { agentId: first.id, priority: 0 },
          { agentId: second.id, priority: 1 },
        ],
      },
    })
    expect(p.status).toBe(201)
    const res = await sb.call('POST', `/api/proxy/pool/${p.body.id}`, {
      token: caller.token,
      raw: '{}',
      headers: withTrace,
    })
    expect(res.status).toBe(200)
    const a = parts(agent.at('/fail-pool')[0]!.headers.traceparent)
    const b = parts(agent.at('/p2')[0]!.headers.traceparent)
    expect([a.traceId, b.traceId]).toEqual([TRACE_ID, TRACE_ID])
    expect(new Set([CALLER_SPAN, a.spanId, b.spanId]).size).toBe(3)
    const line = await requestLine('/api/proxy/pool/:poolId', TRACE_ID)
    expect(line.upstream).toEqual([
      { lane: 'pool', agent: first.permanentId, status: 500, outcome: '5xx', ms: expect.any(Number) },
      { lane: 'pool', agent: second.permanentId, status: 200, outcome: '2xx', ms: expect.any(Number) },
    ])
  })
})

describe('trace context on the relays', () => {
  test('an outside client’s traceparent reaches the agent through the relay, under a new parent', async () => {
    const reg = await sb.call('POST', '/api/agents', {
      token: ws.key,
      body: {
        name: 'relayed',
        endpointUrl: `${agent.url}/relayed`,
        externalInvocation: true,
        protocols: { openai: { enabled: true, url: `${agent.url}/relayed-openai` } },
      },
    })
    expect(reg.status).toBe(201)
    const res = await fetch(`${sb.url}/relay/${reg.body.agent.permanentId}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...withTrace },
      body: JSON.stringify({ model: 'm', messages: [] }),
    })
    expect(res.status).toBe(200)
    const up = parts(agent.at('/relayed-openai/v1/chat/completions')[0]!.headers.traceparent)
    expect(up.traceId).toBe(TRACE_ID)
    expect(up.spanId).not.toBe(CALLER_SPAN)
    const line = await lineOf(res.headers.get('x-request-id')!)
    expect(line.upstream).toEqual([
      {
        lane: 'relay',
        agent: reg.body.agent.permanentId,
        status: 200,
        outcome: '2xx',
        ms: expect.any(Number),
      },
    ])
    const relayLine = await waitFor(
      async () =>
        logs.parsed().find((l) => l.msg === 'relay call' && l.permanentId === reg.body.agent.permanentId),
      'the relay call line',
    )
    expect(relayLine.traceId).toBe(TRACE_ID)
    const metrics = await (await fetch(`${sb.url}/metrics`)).text()
    expect(metrics).toMatch(
      /switchboard_upstream_requests_total\{lane="relay",outcome="2xx",protocol="openai"\} [1-9]/,
    )
  })
})

describe('trace context on app execution', () => {
  test('an agent’s app call carries its trace under a new parent, counted on the app lane', async () => {
    const caller = await member('/app-caller')
    const created = await sb.call('POST', '/api/app-connections', {
      token: ws.key,
      body: { name: 'crm', baseUrl: `${agent.url}/app`, auth: { type: 'bearer', value: 'app-secret-0009' } },
    })
    expect(created.status).toBe(201)
    const res = await sb.call('POST', `/api/agents/${caller.id}/app-connections/${created.body.id}/execute`, {
      token: caller.token,
      body: { method: 'GET', path: '/contacts' },
      headers: withTrace,
    })
    expect(res.status).toBe(200)
    const hit = agent.at('/app/contacts')[0]!
    const up = parts(hit.headers.traceparent)
    expect(up.traceId).toBe(TRACE_ID)
    expect(up.spanId).not.toBe(CALLER_SPAN)
    expect(hit.headers.tracestate).toBe('vendor=opaque,other=1')
    const line = await lineOf(res.headers.get('x-request-id')!)
    expect(line.upstream).toEqual([
      { lane: 'app', agent: null, status: 200, outcome: '2xx', ms: expect.any(Number) },
    ])
    const metrics = await (await fetch(`${sb.url}/metrics`)).text()
    expect(metrics).toMatch(
      /switchboard_upstream_requests_total\{lane="app",outcome="2xx",protocol="none"\} [1-9]/,
    )
    expect(logs.raw.join('\n')).not.toContain('app-secret-0009')
  })
})

describe('trace context through async jobs', () => {
  test('the delivery and the callback carry the caller’s trace; the job view names it', async () => {
    const { caller, conn } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/async-ok` })
    const res = await sb.call('POST', `/api/proxy/${conn.id}/async`, {
      token: caller.token,
      body: { q: 1, _switchboard: { callback_url: `${receiver.url}/hooks/T0ps3cr3t-path` } },
      headers: withTrace,
    })
    expect(res.status).toBe(202)
    const job = await settled(sb.call, caller.token, res.body.jobId)
    expect(job.traceId).toBe(TRACE_ID)
    const delivery = parts(agent.at('/async-ok')[0]!.headers.traceparent)
    expect(delivery.traceId).toBe(TRACE_ID)
    expect(delivery.spanId).not.toBe(CALLER_SPAN)
    await waitFor(async () => receiver.at('/hooks/T0ps3cr3t-path').length === 1, 'the callback')
    const callback = receiver.at('/hooks/T0ps3cr3t-path')[0]!
    const cb = parts(callback.headers.traceparent)
    expect(cb.traceId).toBe(TRACE_ID)
    expect(new Set([CALLER_SPAN, delivery.spanId, cb.spanId]).size).toBe(3)
    expect(callback.headers.tracestate).toBe('vendor=opaque,other=1')
    // The attempt's log line names the trace; the URL (and the secret in its path) is never logged.
    const attempt = await waitFor(
      async () => logs.parsed().find((l) => l.msg === 'callback attempt' && l.jobId === job.id),
      'the callback attempt line',
    )
    expect(attempt).toMatchObject({ traceId: TRACE_ID, httpStatus: 200, status: 'delivered' })
    // The delivery ends after the 202 was logged: it has a line of its own.
    const delivered = await waitFor(
      async () => logs.parsed().find((l) => l.msg === 'async delivery' && l.jobId === job.id),
      'the delivery line',
    )
    expect(delivered).toMatchObject({
      traceId: TRACE_ID,
      agent: expect.stringMatching(/^.+$/),
      httpStatus: 200,
      status: 'completed',
      durationMs: expect.any(Number),
    })
    expect(logs.raw.join('\n')).not.toContain('T0ps3cr3t')
  })

  test('an agent’s status report without a traceparent joins the job’s trace, and so does the callback after it', async () => {
    const { caller, target, conn } = await connected(sb.call, ws.key, {
      endpointUrl: `${agent.url}/accept-later`,
    })
    const res = await sb.call('POST', `/api/proxy/${conn.id}/async`, {
      token: caller.token,
      body: { q: 2, _switchboard: { callback_url: `${receiver.url}/after-report` } },
      headers: withTrace,
    })
    const jobId = res.body.jobId as string
    await waitFor(async () => agent.at('/accept-later').length === 1, 'the delivery')
    const report = await waitFor(async () => {
      const r = await sb.call('POST', `/api/jobs/${jobId}/status`, {
        token: target.token,
        body: { status: 'completed', result: { done: true } },
      })
      return r.status === 200 ? r : undefined
    }, 'the report to be taken')
    expect(report.body.traceId).toBe(TRACE_ID)
    await requestLine('/api/jobs/:jobId/status', TRACE_ID)
    await waitFor(async () => receiver.at('/after-report').length === 1, 'the callback')
    expect(parts(receiver.at('/after-report')[0]!.headers.traceparent).traceId).toBe(TRACE_ID)
  })

  test('a report with a traceparent of its own keeps it; the job keeps its trace', async () => {
    const { caller, target, conn } = await connected(sb.call, ws.key, {
      endpointUrl: `${agent.url}/accept-own`,
    })
    const res = await sb.call('POST', `/api/proxy/${conn.id}/async`, { token: caller.token, body: {} })
    const jobId = res.body.jobId as string
    await waitFor(async () => agent.at('/accept-own').length === 1, 'the delivery')
    const own = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`
    const report = await waitFor(async () => {
      const r = await sb.call('POST', `/api/jobs/${jobId}/status`, {
        token: target.token,
        body: { status: 'failed', error: 'no' },
        headers: { traceparent: own },
      })
      return r.status === 200 ? r : undefined
    }, 'the report')
    await requestLine('/api/jobs/:jobId/status', 'a'.repeat(32))
    expect(report.body.traceId).toBe(parts(agent.at('/accept-own')[0]!.headers.traceparent).traceId)
    expect(report.body.traceId).not.toBe('a'.repeat(32))
  })
})

describe('health checks', () => {
  test('a check goes through the engine and carries the sweep’s trace', async () => {
    const trace = sb.deps.tracer.root('health sweep')
    const result = await checkEndpoint(sb.deps.forward, `${agent.url}/health-probe`, {
      timeoutMs: 2000,
      trace,
    })
    expect(result).toMatchObject({ ok: true, httpStatus: 200 })
    const hit = agent.at('/health-probe')[0]!
    expect(parts(hit.headers.traceparent).traceId).toBe(trace.traceId)
    expect(hit.headers['user-agent']).toBe('Switchboard-Health/1')
    const failed = await checkEndpoint(sb.deps.forward, `${agent.url}/fail-health`, {
      timeoutMs: 2000,
      trace,
    })
    expect(failed).toMatchObject({ ok: false, httpStatus: 500, error: 'HTTP 500' })
  })
})

describe('log lines that answer why', () => {
  test('a 4xx line names the client address, the caller’s workspace and the error code', async () => {
    const { caller } = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/x` })
    const missing = crypto.randomUUID()
    const res = await sb.call('POST', `/api/proxy/${missing}`, {
      token: caller.token,
      raw: '{}',
      headers: withTrace,
    })
    expect(res.status).toBe(404)
    const line = await lineOf(res.headers.get('x-request-id')!)
    expect(line).toMatchObject({ code: 'not_found', ip: '127.0.0.1', workspaceId: ws.id, status: 404 })
    const anonymous = await sb.call('GET', '/api/agents')
    expect(anonymous.status).toBe(401)
    const unauth = await lineOf(anonymous.headers.get('x-request-id')!)
    expect(unauth).toMatchObject({ code: 'unauthorized', ip: '127.0.0.1', workspaceId: null })
    // A success names none of them.
    const ok = logs.parsed().find((l) => l.msg === 'request' && l.status === 200)
    expect(ok).not.toHaveProperty('ip')
    expect(ok).not.toHaveProperty('code')
  })

  test('a failed async delivery says why without quoting the agent’s body', async () => {
    const { caller, target, conn } = await connected(sb.call, ws.key, {
      endpointUrl: `${agent.url}/fail-delivery`,
    })
    const res = await sb.call('POST', `/api/proxy/${conn.id}/async`, { token: caller.token, raw: '{}' })
    const job = await settled(sb.call, caller.token, res.body.jobId)
    expect(job.error).toContain('broken')
    const line = await waitFor(
      async () => logs.parsed().find((l) => l.msg === 'async delivery' && l.jobId === job.id),
      'the failed delivery line',
    )
    expect(line).toMatchObject({
      level: 'warn',
      agent: target.agent.permanentId,
      httpStatus: 500,
      status: 'failed',
      cause: 'HTTP 500',
    })
    expect(JSON.stringify(line)).not.toContain('broken')
  })

  test('no token, key or credential in any line', () => {
    const all = logs.raw.join('\n')
    expect(all).not.toContain(ws.key)
    expect(all).not.toMatch(/tk_[0-9A-Za-z]{20,}/)
    expect(all).not.toContain('sync-endpoint-secret-31')
  })
})
