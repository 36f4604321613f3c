import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { FAST_ROUTES, fastPathServed, fastRoute } from '../../src/http/fast'
import { createLogger } from '../../src/lib/log'
import { liveServer, registerAgent, upstream } from '../helpers'

/**
 * The fast path (Bun's router, http/fast.ts) and the framework path give the same answers,
 * log lines and metrics. One server: its own port takes the fast routes; a second listener
 * hands every request to `app.fetch`, the framework's router, so both are real HTTP from the
 * same client address, with the same deps, database, log and metrics. Every case is sent to
 * both and compared, volatile parts (times, generated ids, durations) masked.
 */
const NEVER = '0 0 0 1 1 *'
const lines: string[] = []
const sb = await liveServer({
  env: {
    SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '1000',
    SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '1000',
    SWITCHBOARD_LOG_LEVEL: 'info',
    // Nothing in the background adds to the metrics between the two requests of a case.
    SWITCHBOARD_PRESENCE_SWEEP_CRON: NEVER,
    SWITCHBOARD_HEALTH_CRON: NEVER,
    SWITCHBOARD_RETENTION_CRON: NEVER,
    SWITCHBOARD_MESSAGE_PURGE_CRON: NEVER,
  },
  log: createLogger('info', (l) => lines.push(l)),
})
const framework = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (req) => sb.app.fetch(req) })
const paths = { fast: sb.url, framework: `http://127.0.0.1:${framework.port}` }

const seen: { headers: Record<string, string>; body: string; method: string; path: string }[] = []
const agentUp = upstream(async (req) => {
  const body = await req.text()
  const headers = Object.fromEntries([...req.headers].filter(([k]) => k !== 'host'))
  seen.push({ headers, body, method: req.method, path: new URL(req.url).pathname })
  if (new URL(req.url).pathname === '/sse') {
    return new Response('data: one\n\ndata: two\n\n', {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'set-cookie': 'x=1' },
    })
  }
  return Response.json({ got: body, n: body.length }, { status: body === 'teapot' ? 418 : 200 })
})

const ws = await sb.workspace()
const other = await sb.workspace()
const h = { call: sb.call } as never
const caller = await registerAgent(h, ws.key, { name: 'caller' })
const target = await registerAgent(h, ws.key, {
  name: 'target',
  endpointUrl: `${agentUp.url}/run`,
  endpointCredential: 'upstream-secret-0123456789',
})
const sse = await registerAgent(h, ws.key, { name: 'sse', endpointUrl: `${agentUp.url}/sse` })
const down = await registerAgent(h, ws.key, { name: 'down', endpointUrl: 'http://127.0.0.1:9/' })
const stranger = await registerAgent(h, other.key, { name: 'stranger' })
const connect = async (a: string, b: string) => {
  const r = await sb.call('POST', '/api/connections', {
    token: ws.key,
    body: { agentId: a, targetAgentId: b, type: 'private' },
  })
  return r.body.id as string
}
const conn = await connect(caller.id, target.id)
const sseConn = await connect(caller.id, sse.id)
const downConn = await connect(caller.id, down.id)
// Settle presence first: the first heartbeat of each agent changes it (an event), the rest do not.
await sb.call('POST', `/api/agents/${caller.id}/heartbeat`, { token: caller.token, body: {} })

type Case = { name: string; method: string; path: string; headers?: Record<string, string>; body?: string }
const auth = (token: string) => ({ authorization: `Bearer ${token}` })
const hb = `/api/agents/${caller.id}/heartbeat`
const cases: Case[] = [
  // heartbeats
  { name: 'heartbeat', method: 'POST', path: hb, headers: auth(caller.token), body: '{"status":"online"}' },
  { name: 'heartbeat, no body', method: 'POST', path: hb, headers: auth(caller.token) },
  {
    name: 'heartbeat by permanent id',
    method: 'POST',
    path: `/api/agents/${caller.permanentId}/heartbeat`,
    headers: auth(caller.token),
    body: '{}',
  },
  {
    name: 'heartbeat, idle',
    method: 'POST',
    path: hb,
    headers: auth(caller.token),
    body: '{"status":"idle"}',
  },
  {
    name: 'heartbeat, bad status',
    method: 'POST',
    path: hb,
    headers: auth(caller.token),
    body: '{"status":"asleep"}',
  },
  {
    name: 'heartbeat, unknown key',
    method: 'POST',
    path: hb,
    headers: auth(caller.token),
    body: '{"status":"online","x":1}',
  },
  { name: 'heartbeat, not JSON', method: 'POST', path: hb, headers: auth(caller.token), body: '{"status' },
  { name: 'heartbeat, an array', method: 'POST', path: hb, headers: auth(caller.token), body: '[1,2]' },
  {
    name: 'heartbeat, too large',
    method: 'POST',
    path: hb,
    headers: auth(caller.token),
    body: JSON.stringify({ status: 'x'.repeat(1_100_000) }),
  },
  { name: 'heartbeat, no credential', method: 'POST', path: hb, body: '{}' },
  { name: 'heartbeat, malformed token', method: 'POST', path: hb, headers: auth('tk_nope'), body: '{}' },
  { name: 'heartbeat, workspace key', method: 'POST', path: hb, headers: auth(ws.key), body: '{}' },
  {
    name: 'heartbeat, another agent',
    method: 'POST',
    path: `/api/agents/${target.id}/heartbeat`,
    headers: auth(caller.token),
    body: '{}',
  },
  {
    name: 'heartbeat, bad id',
    method: 'POST',
    path: '/api/agents/not-an-id/heartbeat',
    headers: auth(caller.token),
    body: '{}',
  },
  {
    name: 'heartbeat, bad id and no credential',
    method: 'POST',
    path: '/api/agents/x/heartbeat',
    body: '{"status":1}',
  },
  {
    name: 'heartbeat, own request id',
    method: 'POST',
    path: hb,
    headers: { ...auth(caller.token), 'x-request-id': 'mine-123' },
    body: '{}',
  },
  {
    name: 'heartbeat, unusable request id',
    method: 'POST',
    path: hb,
    headers: { ...auth(caller.token), 'x-request-id': 'no spaces allowed' },
    body: '{}',
  },
  {
    name: 'heartbeat, back online',
    method: 'POST',
    path: hb,
    headers: auth(caller.token),
    body: '{"status":"online"}',
  },
  // who am I
  { name: 'me', method: 'GET', path: '/api/agents/me', headers: auth(caller.token) },
  { name: 'me, with a query', method: 'GET', path: '/api/agents/me?x=1', headers: auth(caller.token) },
  { name: 'me, no credential', method: 'GET', path: '/api/agents/me' },
  { name: 'me, workspace key', method: 'GET', path: '/api/agents/me', headers: auth(ws.key) },
  { name: 'me, x-api-key', method: 'GET', path: '/api/agents/me', headers: { 'x-api-key': caller.token } },
  // the sync lane
  {
    name: 'sync',
    method: 'POST',
    path: `/api/proxy/${conn}`,
    headers: { ...auth(caller.token), 'content-type': 'application/json', cookie: 'a=b', 'x-custom': 'kept' },
    body: '{"q":1}',
  },
  {
    name: 'sync, the upstream status',
    method: 'POST',
    path: `/api/proxy/${conn}`,
    headers: auth(caller.token),
    body: 'teapot',
  },
  { name: 'sync, empty body', method: 'POST', path: `/api/proxy/${conn}`, headers: auth(caller.token) },
  {
    name: 'sync, server-sent events',
    method: 'POST',
    path: `/api/proxy/${sseConn}`,
    headers: auth(caller.token),
    body: 'x',
  },
  {
    name: 'sync, upstream down',
    method: 'POST',
    path: `/api/proxy/${downConn}`,
    headers: auth(caller.token),
    body: 'x',
  },
  {
    name: 'sync, unknown protocol',
    method: 'POST',
    path: `/api/proxy/${conn}`,
    headers: { ...auth(caller.token), 'x-switchboard-protocol': 'smtp' },
    body: 'x',
  },
  {
    name: 'sync, protocol not enabled',
    method: 'POST',
    path: `/api/proxy/${conn}`,
    headers: { ...auth(caller.token), 'x-switchboard-protocol': 'mcp' },
    body: 'x',
  },
  {
    name: 'sync, unknown connection',
    method: 'POST',
    path: `/api/proxy/${crypto.randomUUID()}`,
    headers: auth(caller.token),
    body: 'x',
  },
  {
    name: 'sync, not a uuid',
    method: 'POST',
    path: '/api/proxy/abc',
    headers: auth(caller.token),
    body: 'x',
  },
  {
    name: 'sync, not a participant',
    method: 'POST',
    path: `/api/proxy/${conn}`,
    headers: auth(stranger.token),
    body: 'x',
  },
  {
    name: 'sync, workspace key',
    method: 'POST',
    path: `/api/proxy/${conn}`,
    headers: auth(ws.key),
    body: 'x',
  },
  { name: 'sync, no credential', method: 'POST', path: `/api/proxy/${conn}`, body: 'x' },
  {
    name: 'sync, own request id',
    method: 'POST',
    path: `/api/proxy/${conn}`,
    headers: { ...auth(caller.token), 'x-request-id': 'trace-me' },
    body: 'x',
  },
]

const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g
// Each request starts a trace of its own: its id differs between the two paths, its shape does not.
const mask = (s: string) =>
  s
    .replace(ISO, '<time>')
    .replace(/"durationMs":[\d.]+/g, '"durationMs":<ms>')
    .replace(/"traceId":"[0-9a-f]{32}"/g, '"traceId":"<trace>"')
    .replace(/"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]"/g, '"traceparent":"00-<trace>-<span>-00"')
    .replace(/"ms":[\d.]+/g, '"ms":<ms>')

/** Counters and histogram counts: what one request adds to /metrics. */
async function counts(): Promise<Map<string, number>> {
  const text = await (await fetch(`${sb.url}/metrics`)).text()
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^(switchboard_\w+(?:_total|_count)(?:\{[^}]*\})?) (\S+)$/.exec(line)
    // Scheduled work (the job deadline sweep runs every 30 s whatever the settings) is not the
    // request's, nor are database statements: heartbeat times and activity are written by
    // batches in the background, whenever the flush runs.
    if (
      m &&
      !m[1]!.includes('route="/metrics"') &&
      !m[1]!.startsWith('switchboard_scheduled') &&
      !m[1]!.startsWith('switchboard_db_')
    )
      // Which caches a request consults is the same on both paths; whether the entry was warm
      // depends on which path went first.
      add(
        out,
        m[1]!.replace(/(switchboard_cache_lookups_total\{cache="\w+"),result="\w+"/, '$1'),
        Number(m[2]),
      )
  }
  return out
}
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v)
const delta = (a: Map<string, number>, b: Map<string, number>) =>
  Object.fromEntries(
    [...b].filter(([k, v]) => v !== (a.get(k) ?? 0)).map(([k, v]) => [k, v - (a.get(k) ?? 0)]),
  )

async function send(base: string, c: Case, tag: string) {
  const before = await counts()
  const logged = lines.length
  const sent = seen.length
  const res = await fetch(`${base}${c.path}`, { method: c.method, headers: c.headers, body: c.body })
  const text = await res.text()
  await Bun.sleep(20) // the after-response hooks (log line, metrics) run after the answer
  const headers = Object.fromEntries([...res.headers].filter(([k]) => k !== 'date'))
  const requestId = headers['x-request-id']!
  const log = lines
    .slice(logged)
    .map((l) => JSON.parse(l))
    .filter((l) => l.msg !== 'request' || l.route !== '/metrics')
    // What the scheduler logs meanwhile (taking the lead, a sweep) belongs to no request.
    .filter((l) => l.requestId !== undefined)
  const upstreamSaw = seen.slice(sent).map((s) => ({ ...s, headers: { ...s.headers } }))
  return {
    tag,
    status: res.status,
    headers: { ...headers, 'x-request-id': requestId?.replace(UUID, '<uuid>') },
    body: mask(text),
    log: log.map((l) =>
      mask(JSON.stringify({ ...l, requestId: l.requestId === requestId ? '<id>' : l.requestId })),
    ),
    metrics: delta(before, await counts()),
    upstream: upstreamSaw.map((u) =>
      mask(
        JSON.stringify({
          ...u,
          headers: {
            ...u.headers,
            'x-request-id': u.headers['x-request-id'] === requestId ? '<id>' : u.headers['x-request-id'],
          },
        }),
      ),
    ),
  }
}

describe('the fast path answers as the framework does', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const served = fastPathServed.count
      const fast = await send(paths.fast, c, 'fast')
      expect(fastPathServed.count).toBe(served + 1)
      const slow = await send(paths.framework, c, 'framework')
      expect(fastPathServed.count).toBe(served + 1)
      const { tag: _a, ...f } = fast
      const { tag: _b, ...s } = slow
      expect(f).toEqual(s)
      // Every case answered and logged once, on both paths.
      expect(f.log.filter((l) => l.includes('"msg":"request"'))).toHaveLength(1)
    })
  }

  test('only the fast routes take the fast path', async () => {
    expect(Object.keys(sb.app.config.serve?.routes ?? {}).sort()).toEqual(
      [...new Set(FAST_ROUTES.map(([, p]) => p))].sort(),
    )
    const served = fastPathServed.count
    await fetch(`${sb.url}/api/agents/${caller.id}`, { headers: auth(ws.key) })
    await fetch(`${sb.url}/api/agents/me`, { method: 'POST', headers: auth(caller.token) })
    await fetch(`${sb.url}/healthz`)
    expect(fastPathServed.count).toBe(served)
  })
})

describe('what the fast path does not run, it refuses to serve', () => {
  test('a route with an after-handle hook cannot be a fast route', () => {
    const app = new Elysia().post('/x', () => 'x', { afterHandle: () => {} })
    expect(() => fastRoute(app, 'POST', '/x')).toThrow(/hooks it does not run: afterHandle/)
  })

  test('transform hooks run, before the handler, as in the framework (auth is one)', async () => {
    const order: string[] = []
    const app = new Elysia().get('/x', () => order.push('handler') && 'x', {
      transform: () => {
        order.push('transform')
      },
    })
    const res = await fastRoute(app, 'GET', '/x')(new Request('http://localhost/x'), null)
    expect(await res.text()).toBe('x')
    expect(order).toEqual(['transform', 'handler'])
  })

  test('a global after-handle hook stops every fast route', () => {
    const app = new Elysia().onAfterHandle({ as: 'global' }, () => {}).get('/x', () => 'x')
    expect(() => fastRoute(app, 'GET', '/x')).toThrow(/afterHandle/)
  })

  test('a route that is not there', () => {
    expect(() => fastRoute(new Elysia(), 'GET', '/nowhere')).toThrow(/no route/)
  })
})
