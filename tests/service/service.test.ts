import { describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/lib/log'
import { harness, registerAgent } from '../helpers'

const lines: string[] = []
const h = await harness({ log: createLogger('debug', (l) => lines.push(l)) })
const ws = await h.workspace()

describe('service routes', () => {
  test('/healthz and /readyz', async () => {
    expect((await h.call('GET', '/healthz')).body).toEqual({ status: 'ok' })
    expect((await h.call('GET', '/readyz')).body).toEqual({ ready: true, database: h.deps.db.dialect })
  })

  test('/metrics: requests by route and status, latency histogram, database pool', async () => {
    await h.call('GET', '/api/agents', { token: ws.key })
    await h.call('GET', '/api/agents')
    const res = await h.call('GET', '/metrics')
    expect(res.headers.get('content-type')).toContain('text/plain')
    expect(res.text).toContain(
      'switchboard_http_requests_total{method="GET",route="/api/agents",status="200"} 1',
    )
    expect(res.text).toContain(
      'switchboard_http_requests_total{method="GET",route="/api/agents",status="401"} 1',
    )
    expect(res.text).toMatch(
      /switchboard_http_request_duration_seconds_bucket\{route="\/api\/agents",le="0.1"\} \d+/,
    )
    expect(res.text).toMatch(/switchboard_db_connections_max\{dialect="(sqlite|postgres)"\} \d+/)
  })

  test('x-request-id: returned on every answer, taken from a well-formed incoming id', async () => {
    const generated = await h.call('GET', '/healthz')
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const given = await h.call('GET', '/api/agents', { headers: { 'x-request-id': 'trace-123' } })
    expect(given.headers.get('x-request-id')).toBe('trace-123')
    const evil = await h.call('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } })
    // A malformed id is replaced by a generated one ('not.toContain("bad")' failed whenever the
    // random UUID held the hex "bad").
    expect(evil.headers.get('x-request-id')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    )
    const missing = await h.call('GET', '/nope')
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ error: 'No route for GET /nope', code: 'not_found' })
    expect(missing.headers.get('x-request-id')).toBeTruthy()
  })

  test('one JSON log line per request, never a secret', async () => {
    lines.length = 0
    const a = await registerAgent(h, ws.key, { endpointCredential: 'cred-should-not-leak-77' })
    await h.call('GET', '/api/agents/me', { token: a.token, headers: { 'x-request-id': 'req-abc' } })
    await h.call('GET', `/api/agents/me?token=${a.token}`, { token: a.token })
    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request')
    expect(requests).toHaveLength(3)
    expect(requests[1]).toMatchObject({
      requestId: 'req-abc',
      method: 'GET',
      route: '/api/agents/me',
      status: 200,
    })
    expect(typeof requests[1].durationMs).toBe('number')
    const all = lines.join('\n')
    for (const s of [a.token, ws.key, 'cred-should-not-leak-77']) expect(all).not.toContain(s)
  })

  test('an unexpected error is a generic 500 that leaks nothing, logged with its request id', async () => {
    lines.length = 0
    const { Elysia } = await import('elysia')
    const { errorPlugin } = await import('../../src/http/errors')
    const { requestPlugin } = await import('../../src/http/request')
    const app = new Elysia()
      .use(requestPlugin(h.deps))
      .use(errorPlugin(h.deps))
      .get('/boom', () => {
        throw new Error('SELECT secret FROM internals')
      })
    const res = await app.handle(
      new Request('http://localhost/boom', { headers: { 'x-request-id': 'boom-1' } }),
    )
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ error: 'Internal error', code: 'internal_error' })
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error')
    expect(logged.requestId).toBe('boom-1')
  })
})

/** Routes that take no request body by design. */
const NO_BODY = new Set([
  'POST /api/connections/{id}/accept',
  'POST /api/connections/{id}/decline',
  'POST /api/board/connections/{id}/heartbeat',
])

describe('OpenAPI and Swagger UI', () => {
  test('/docs is served from the binary: only local asset paths', async () => {
    const res = await h.call('GET', '/docs')
    expect(res.status).toBe(200)
    expect(res.text).toContain('/docs/assets/swagger-ui-bundle.js')
    expect(res.text).not.toMatch(/https?:\/\/(?!localhost)/)
    const js = await h.call('GET', '/docs/assets/swagger-ui-bundle.js')
    expect(js.status).toBe(200)
    expect(js.text.length).toBeGreaterThan(100_000)
    expect((await h.call('GET', '/docs/assets/../../package.json')).status).toBe(404)
  })

  test('/docs/json documents every API route with schemas and security', async () => {
    const spec = (await h.call('GET', '/docs/json')).body
    expect(spec.openapi).toMatch(/^3\./)
    expect(Object.keys(spec.components.securitySchemes).sort()).toEqual([
      'adminToken',
      'agentToken',
      'consoleSession',
      'workspaceKey',
    ])
    // Without SWITCHBOARD_METRICS_TOKEN, /metrics is open and its scheme is not in the document.
    expect(spec.paths['/metrics'].get.security).toEqual([])
    const routes: string[] = []
    for (const [path, ops] of Object.entries<any>(spec.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        routes.push(`${method.toUpperCase()} ${path}`)
        if (!path.startsWith('/api/')) continue
        expect({ route: `${method} ${path}`, tags: op.tags?.length > 0 }).toEqual({
          route: `${method} ${path}`,
          tags: true,
        })
        expect({ route: `${method} ${path}`, security: op.security?.length > 0 }).toEqual({
          route: `${method} ${path}`,
          security: true,
        })
        const ok = op.responses['200'] ?? op.responses['201'] ?? op.responses['202']
        const content = Object.values<any>(ok?.content ?? {})[0]
        expect({ route: `${method} ${path}`, ok: !!content?.schema }).toEqual({
          route: `${method} ${path}`,
          ok: true,
        })
        expect(op.responses['401']?.content?.['application/json']?.schema).toBeTruthy()
        if (['post', 'put', 'patch'].includes(method) && !NO_BODY.has(`${method.toUpperCase()} ${path}`)) {
          expect({ route: `${method} ${path}`, body: !!op.requestBody }).toEqual({
            route: `${method} ${path}`,
            body: true,
          })
        }
      }
    }
    for (const r of [
      'POST /api/workspaces',
      'GET /api/workspaces',
      'GET /api/workspace',
      'POST /api/workspace/keys',
      'GET /api/workspace/keys',
      'DELETE /api/workspace/keys/{id}',
      'POST /api/agents',
      'POST /api/agents/provision',
      'GET /api/agents',
      'GET /api/agents/online',
      'GET /api/agents/by-capability/{name}',
      'GET /api/agents/expiring-tokens',
      'GET /api/agents/me',
      'GET /api/agents/{agentId}',
      'PATCH /api/agents/{agentId}',
      'DELETE /api/agents/{agentId}',
      'PUT /api/agents/{agentId}/endpoint-credential',
      'DELETE /api/agents/{agentId}/endpoint-credential',
      'PUT /api/agents/{agentId}/capabilities',
      'POST /api/agents/{agentId}/capabilities',
      'POST /api/agents/{agentId}/rotate-token',
      'POST /api/agents/{agentId}/heartbeat',
      'GET /api/agents/{agentId}/audit-logs',
      'GET /api/audit-logs',
      'GET /api/teams/{teamId}/agents',
      'POST /api/teams/{teamId}/agents',
      'POST /api/proxy/{connectionId}/async',
      'GET /api/jobs',
      'GET /api/jobs/{jobId}',
      'DELETE /api/jobs/{jobId}',
      'POST /api/jobs/{jobId}/status',
      'GET /api/workspace/webhook-secret',
      'POST /api/workspace/webhook-secret/rotate',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
    ]) {
      expect(routes).toContain(r)
    }
  })
})

test('JSON request bodies are documented with their schema', async () => {
  const spec = (await h.call('GET', '/docs/json')).body
  const body = spec.paths['/api/agents'].post.requestBody
  const ref = body.content['application/json'].schema.$ref.split('/').pop()
  expect(spec.components.schemas[ref].properties.name).toBeTruthy()
  for (const [path, ops] of Object.entries<any>(spec.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      if (!op.requestBody || path.startsWith('/api/proxy')) continue
      expect({
        route: `${method} ${path}`,
        json: !!op.requestBody.content?.['application/json']?.schema,
      }).toEqual({
        route: `${method} ${path}`,
        json: true,
      })
    }
  }
})
