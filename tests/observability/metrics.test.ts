import { describe, expect, test } from 'bun:test'
import { harness, liveServer, onPostgres } from '../helpers'
import { connected, settled, waitFor } from '../jobs/fixtures'
import { promtoolCheck, recorder, requirePromtool, scrape } from './fixtures'

/**
 * `/metrics` after a scripted session on a running Switchboard: a call on each lane, a failing
 * callback, a pool ejection, a rate-limit refusal. The counts this instance made are exact; the
 * database-wide gauges are exact on SQLite (a file of this suite's own) and at least the
 * session's on the Postgres database the suites share.
 */
const sb = await liveServer({
  env: {
    SWITCHBOARD_POOL_EJECT_FAILURES: '1',
    // A burst of 3 per caller, hardly refilled: the fourth call of one caller is refused.
    SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '0.001',
    SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '3',
  },
})
const ws = await sb.workspace()
const agent = recorder()
const receiver = recorder()

async function member(path: string) {
  const res = await sb.call('POST', '/api/agents', {
    token: ws.key,
    body: { name: 'member', endpointUrl: `${agent.url}${path}` },
  })
  expect(res.status).toBe(201)
  return { id: res.body.agent.id as string, token: res.body.token as string }
}

const atLeastOnPg = (v: number | undefined, n: number) =>
  onPostgres ? expect(v).toBeGreaterThanOrEqual(n) : expect(v).toBe(n)

describe('metrics after a scripted session', async () => {
  // Sync: three calls from one caller pass, its fourth is refused by the rate limit.
  const sync = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/ok-sync` })
  const statuses: number[] = []
  for (let i = 0; i < 4; i++)
    statuses.push(
      (await sb.call('POST', `/api/proxy/${sync.conn.id}`, { token: sync.caller.token, raw: '{}' })).status,
    )

  // Async, whose callback receiver fails: one attempt, retried in 30 s (after this suite).
  const async = await connected(sb.call, ws.key, { endpointUrl: `${agent.url}/ok-async` })
  const accepted = await sb.call('POST', `/api/proxy/${async.conn.id}/async`, {
    token: async.caller.token,
    body: { _switchboard: { callback_url: `${receiver.url}/fail-callback` } },
  })
  const job = await settled(sb.call, async.caller.token, accepted.body.jobId)
  const withAttempt = await waitFor(async () => {
    const j = (await sb.call('GET', `/api/jobs/${job.id}`, { token: async.caller.token })).body
    return j.callback?.attempts === 1 && j.callback.lastHttpStatus === 500 ? j : undefined
  }, 'the failed callback attempt')

  // Broadcast to two members: one answers 200, one 500.
  const caller = await member('/caller')
  const good = await member('/ok-b')
  const bad = await member('/fail-b')
  const group = await sb.call('POST', '/api/broadcast-groups', {
    token: ws.key,
    body: { name: 'g', memberIds: [good.id, bad.id] },
  })
  const broadcast = await sb.call('POST', `/api/proxy/broadcast/${group.body.id}`, {
    token: caller.token,
    raw: '{}',
  })

  // Pool: the first member fails once and is ejected (threshold 1); the second answers.
  const failing = await member('/fail-p')
  const working = await member('/ok-p')
  const pool = await sb.call('POST', '/api/pools', {
    token: ws.key,
    body: {
      name: 'p',
      strategy: 'failover',
      members: [
        { agentId: failing.id, priority: 0 },
        { agentId: working.id, priority: 1 },
      ],
    },
  })
  const pooled = await sb.call('POST', `/api/proxy/pool/${pool.body.id}`, { token: caller.token, raw: '{}' })

  const res = await fetch(`${sb.url}/metrics`)
  const text = await res.text()
  const m = scrape(text)

  test('the session ran as scripted', () => {
    expect(statuses).toEqual([200, 200, 200, 429])
    expect(accepted.status).toBe(202)
    expect(job.status).toBe('completed')
    expect(withAttempt.callback.status).toBe('pending')
    expect(broadcast.status).toBe(200)
    expect(pooled.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  })

  test('upstream calls by lane, protocol and outcome', () => {
    const calls = (lane: string, outcome: string) =>
      m.value('switchboard_upstream_requests_total', { lane, protocol: 'none', outcome })
    expect(calls('sync', '2xx')).toBe(3)
    expect(calls('async', '2xx')).toBe(1)
    expect(calls('broadcast', '2xx')).toBe(1)
    expect(calls('broadcast', '5xx')).toBe(1)
    expect(calls('pool', '5xx')).toBe(1)
    expect(calls('pool', '2xx')).toBe(1)
    expect(calls('callback', '5xx')).toBe(1)
    const latency = (lane: string) =>
      m.value('switchboard_upstream_request_duration_seconds_count', { lane, protocol: 'none' })
    expect([
      latency('sync'),
      latency('async'),
      latency('broadcast'),
      latency('pool'),
      latency('callback'),
    ]).toEqual([3, 1, 2, 2, 1])
    expect(
      m.value('switchboard_upstream_request_duration_seconds_bucket', {
        lane: 'sync',
        protocol: 'none',
        le: '+Inf',
      }),
    ).toBe(3)
    // No agent or workspace id is a label unless SWITCHBOARD_METRICS_ID_LABELS says so.
    expect(text).not.toContain(sync.target.agent.permanentId)
    expect(text).not.toContain(ws.id)
  })

  test('rate-limit refusals by scope, pool ejections, callback attempts', () => {
    expect(m.value('switchboard_rate_limited_total', { scope: 'proxy' })).toBe(1)
    expect(m.value('switchboard_rate_limited_total', { scope: 'ip' })).toBe(0)
    expect(m.value('switchboard_pool_ejections_total')).toBe(1)
    expect(m.value('switchboard_pool_members_ejected')).toBe(1)
    expect(m.value('switchboard_callback_attempts_total', { kind: 'callback', result: 'retry' })).toBe(1)
    expect(m.value('switchboard_callback_attempts_total', { kind: 'callback', result: 'delivered' })).toBe(0)
  })

  test('jobs, the callback outbox and agents, from the database', () => {
    atLeastOnPg(m.value('switchboard_jobs', { status: 'completed' }), 1)
    atLeastOnPg(m.value('switchboard_jobs', { status: 'running' }), 0)
    atLeastOnPg(m.value('switchboard_callback_outbox_pending'), 1)
    expect(m.value('switchboard_callback_outbox_lag_seconds')).toBeGreaterThanOrEqual(0)
    // Nobody heartbeats: every agent of the session is offline.
    atLeastOnPg(m.value('switchboard_agents', { presence: 'offline' }), 9)
  })

  test('HTTP requests, caches, the database, the process and the build', () => {
    expect(
      m.value('switchboard_http_requests_total', {
        route: '/api/proxy/:connectionId',
        method: 'POST',
        status: '429',
      }),
    ).toBe(1)
    const hits = m.value('switchboard_cache_lookups_total', { cache: 'credentials', result: 'hit' })
    expect(hits).toBeGreaterThan(5)
    expect(m.value('switchboard_cache_lookups_total', { cache: 'route_connections', result: 'hit' })).toBe(2)
    expect(m.value('switchboard_cache_entries', { cache: 'credentials' })).toBeGreaterThanOrEqual(4)
    const dialect = onPostgres ? 'postgres' : 'sqlite'
    expect(m.value('switchboard_db_up', { dialect })).toBe(1)
    expect(m.value('switchboard_db_connections_max', { dialect })).toBe(onPostgres ? 10 : 1)
    expect(m.value('switchboard_db_query_duration_seconds_count', { dialect })).toBeGreaterThan(10)
    expect(text).toContain(
      onPostgres
        ? 'Transactions and statements waiting for a free Postgres connection'
        : 'waiting for the SQLite writer',
    )
    expect(text).toMatch(/^switchboard_build_info\{runtime="bun [^"]+",version="\d+\.\d+\.\d+"\} 1$/m)
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_heap_bytes',
      'process_open_fds',
      'process_max_fds',
      'process_start_time_seconds',
    ])
      expect(m.value(name)).toBeGreaterThan(0)
    expect(m.value('switchboard_ws_connections', { kind: 'agent' })).toBe(0)
    expect(m.value('switchboard_ws_events_dropped_total')).toBe(0)
  })

  test.skipIf(!requirePromtool)('promtool check metrics passes on the scrape', async () => {
    const verdict = await promtoolCheck(text)
    expect(verdict).toEqual({ code: 0, output: '' })
    // …and it would say so: a counter without _total is refused.
    const bad = await promtoolCheck('# HELP requests Requests\n# TYPE requests counter\nrequests 1\n')
    expect(bad.code).not.toBe(0)
    expect(bad.output).toContain('_total')
  })
})

describe('ids as labels, when turned on', async () => {
  const h = await harness({ env: { SWITCHBOARD_METRICS_ID_LABELS: 'true' } })
  const key = (await h.workspace()).key
  const { caller, target, conn } = await connected(h.call, key, { endpointUrl: `${agent.url}/ok-ids` })
  await h.call('POST', `/api/proxy/${conn.id}`, { token: caller.token, raw: '{}' })
  const m = scrape((await h.call('GET', '/metrics')).text)

  test('the upstream metrics name the agent and its workspace', () => {
    expect(
      m.value('switchboard_upstream_requests_total', {
        lane: 'sync',
        protocol: 'none',
        outcome: '2xx',
        agent: target.agent.permanentId,
        workspace: target.agent.workspaceId,
      }),
    ).toBe(1)
  })
})

describe('/metrics behind a token', async () => {
  const token = 'metrics-token-0123456789abcdef0123456789'
  const h = await harness({ env: { SWITCHBOARD_METRICS_TOKEN: token } })
  const key = (await h.workspace()).key

  test('missing, wrong or another credential: 401; the token: 200', async () => {
    expect((await h.call('GET', '/metrics')).status).toBe(401)
    expect((await h.call('GET', '/metrics', { token: `${token}x` })).body).toEqual({
      error: 'This scrape needs Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>',
      code: 'unauthorized',
    })
    expect((await h.call('GET', '/metrics', { token: key })).status).toBe(401)
    expect((await h.call('GET', '/metrics', { headers: { 'x-api-key': token } })).status).toBe(401)
    const ok = await h.call('GET', '/metrics', { token })
    expect(ok.status).toBe(200)
    expect(ok.text).toContain('switchboard_build_info')
  })

  test('the document says so', async () => {
    const spec = (await h.call('GET', '/docs/json')).body
    expect(spec.paths['/metrics'].get.security).toEqual([{ metricsToken: [] }])
    expect(spec.components.securitySchemes.metricsToken).toMatchObject({ type: 'http', scheme: 'bearer' })
  })

  test('a short token stops start-up', async () => {
    const { loadConfig } = await import('../../src/config')
    expect(() => loadConfig({ SWITCHBOARD_METRICS_TOKEN: 'short' })).toThrow('SWITCHBOARD_METRICS_TOKEN')
  })
})
