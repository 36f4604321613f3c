import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { ADMIN_TOKEN, harness, registerAgent, upstream } from '../helpers'
import { waitFor } from '../jobs/fixtures'

/**
 * One shared set of auth cases, run against every route the served OpenAPI document lists
 * (a new route is covered the day it is documented): no credential → 401, a malformed one →
 * 401, a valid credential of a kind the route does not take → 403, and a valid credential of
 * another workspace naming this workspace's objects → 404 (and the object is untouched). A
 * route without a credential must be listed below as open, on purpose.
 */
const OPEN = new Set([
  'GET /docs',
  'GET /docs/json',
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  // Console sign-in: it takes a workspace key in its body and answers with a session cookie.
  'POST /api/session',
  // External relays: no Switchboard credential by design; who may be reached is the agent's
  // `externalInvocation` and protocols (tests/relays).
  'GET /relay/{permanentId}/a2a/.well-known/agent-card.json',
  'GET /relay/{permanentId}/.well-known/agent-card.json',
  'POST /relay/{permanentId}/a2a',
  'GET /relay/{permanentId}/a2a/{path}',
  'POST /relay/{permanentId}/a2a/{path}',
  'DELETE /relay/{permanentId}/a2a/{path}',
  'POST /relay/{permanentId}/mcp',
  'GET /relay/{permanentId}/mcp',
  'DELETE /relay/{permanentId}/mcp',
  'GET /relay/{permanentId}/openai/{path}',
  'POST /relay/{permanentId}/openai/{path}',
  'PUT /relay/{permanentId}/openai/{path}',
  'PATCH /relay/{permanentId}/openai/{path}',
  'DELETE /relay/{permanentId}/openai/{path}',
  // Webhook triggers: the sender proves itself with the trigger's signature, checked before
  // anything is stored (tests/triggers).
  'POST /hooks/{triggerId}',
])

/** `session`: the console's own routes, whose only credential is the session cookie. */
type Kind = 'admin' | 'workspace' | 'agent' | 'session'
const SCHEME_KIND: Record<string, Kind> = {
  adminToken: 'admin',
  workspaceKey: 'workspace',
  agentToken: 'agent',
}

const h = await harness()
const agentUpstream = upstream(() => new Response('later', { status: 202 }))

/** Workspace A owns one of everything; B is the stranger. */
const A = await h.workspace()
const B = await h.workspace()
const a1 = await registerAgent(h, A.key, { name: 'a1', webhookUrl: 'http://127.0.0.1:9/hook' })
const a2 = await registerAgent(h, A.key, { name: 'a2', endpointUrl: agentUpstream.url })
const b1 = await registerAgent(h, B.key, { name: 'b1' })
const ok = async (res: Promise<{ status: number; body: any }>, what: string) => {
  const r = await res
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}
const extraKey = await ok(
  h.call('POST', '/api/workspace/keys', { token: A.key, body: { name: 'extra' } }),
  'key',
)
const conn = await ok(
  h.call('POST', '/api/connections', {
    token: A.key,
    body: { agentId: a1.id, targetAgentId: a2.id, type: 'private' },
  }),
  'connection',
)
const group = await ok(
  h.call('POST', '/api/broadcast-groups', { token: A.key, body: { name: 'g', memberIds: [a2.id] } }),
  'group',
)
const pool = await ok(
  h.call('POST', '/api/pools', {
    token: A.key,
    body: { name: 'p', strategy: 'failover', members: [{ agentId: a2.id, priority: 0 }] },
  }),
  'pool',
)
const command = await ok(
  h.call('POST', `/api/agents/${a1.id}/command`, { token: A.key, body: { action: 'status' } }),
  'command',
)
const app = await ok(
  h.call('POST', '/api/app-connections', {
    token: A.key,
    body: {
      name: 'crm',
      baseUrl: 'http://127.0.0.1:9/v1',
      auth: { type: 'bearer', value: 'crm-secret-0123' },
    },
  }),
  'app connection',
)
const trigger = await ok(
  h.call('POST', '/api/triggers', {
    token: A.key,
    body: { name: 't', agentId: a2.id, verify: { type: 'none' } },
  }),
  'trigger',
)
const delivery = await ok(
  h.call('POST', `/api/agents/${a1.id}/webhook-deliveries/test`, { token: A.key, body: {} }),
  'webhook delivery',
)
const job = await ok(h.call('POST', `/api/proxy/${conn.id}/async`, { token: a1.token, raw: '{}' }), 'job')
await waitFor(async () => {
  const j = await h.call('GET', `/api/jobs/${job.jobId}`, { token: A.key })
  return j.body.httpStatus === 202
}, 'the job delivery')

/** A's object for each path parameter: what B must not reach. */
function pathFor(path: string): string {
  const ids: Record<string, string> = {
    agentId: a1.id,
    commandId: command.commandId,
    connectionId: conn.id,
    groupId: group.id,
    poolId: pool.id,
    jobId: job.jobId,
    teamId: A.id,
    memberId: a2.id,
    name: 'anything',
    deliveryId: delivery.id,
  }
  // An app connection's execute route calls the app connection's id `connectionId`.
  if (path.includes('/app-connections/')) ids.connectionId = app.id
  const byPrefix: [string, string][] = [
    ['/api/workspace/keys/', extraKey.key.id],
    ['/api/connections/', conn.id],
    ['/api/board/connections/', conn.id],
    ['/api/broadcast-groups/', group.id],
    ['/api/pools/', pool.id],
    ['/api/app-connections/', app.id],
    ['/api/triggers/', trigger.trigger.id],
  ]
  const id = byPrefix.find(([prefix]) => path.startsWith(prefix))?.[1] ?? A.id
  return path.replace(/\{(\w+)\}/g, (_, p: string) => (p === 'id' ? id : ids[p]!))
}

type Route = { method: string; path: string; kinds: Set<Kind> }
const spec = (await h.call('GET', '/docs/json')).body
const routes: Route[] = []
for (const [path, ops] of Object.entries<any>(spec.paths)) {
  for (const [method, op] of Object.entries<any>(ops)) {
    const schemes: string[] = (op.security ?? []).flatMap((s: Record<string, unknown>) => Object.keys(s))
    const kinds = new Set(schemes.map((s) => SCHEME_KIND[s]).filter((k): k is Kind => !!k))
    // A session is one more way to be a workspace; a route that takes nothing else is the console's.
    if (kinds.size === 0 && schemes.includes('consoleSession')) kinds.add('session')
    routes.push({ method: method.toUpperCase(), path, kinds })
  }
}
const guarded = routes.filter((r) => !OPEN.has(`${r.method} ${r.path}`))

/**
 * Bodies that pass validation, for the routes whose `{}` would not: the stranger's request
 * must get as far as the lookup, where it has to find nothing.
 */
const BODIES: Record<string, unknown> = {
  'PATCH /api/agents/{agentId}': { label: 'stolen' },
  'PUT /api/agents/{agentId}/endpoint-credential': { endpointCredential: 'stolen-secret-1234' },
  'PUT /api/agents/{agentId}/capabilities': { capabilities: [] },
  'POST /api/agents/{agentId}/capabilities': { capabilities: [] },
  'POST /api/teams/{teamId}/agents': { name: 'intruder' },
  'POST /api/agents/{agentId}/messages/send': { toAgentId: a2.id, payload: 1 },
  'POST /api/agents/{agentId}/messages/broadcast': { payload: 1 },
  'POST /api/agents/{agentId}/messages/read': { messageIds: [crypto.randomUUID()] },
  'POST /api/agents/{agentId}/command': { action: 'stop' },
  'POST /api/agents/{agentId}/commands/{commandId}/ack': { status: 'done' },
  'PATCH /api/broadcast-groups/{id}': { name: 'stolen' },
  'POST /api/broadcast-groups/{id}/members': { agentIds: [a1.id] },
  'PATCH /api/pools/{id}': { name: 'stolen' },
  'POST /api/pools/{id}/members': { agentId: a1.id, priority: 1 },
  'PATCH /api/pools/{id}/members/{memberId}': { priority: 9 },
  'POST /api/jobs/{jobId}/status': { status: 'completed', result: { forged: true } },
  'PATCH /api/app-connections/{id}': { name: 'stolen' },
  'PATCH /api/triggers/{id}': { name: 'stolen' },
  'POST /api/agents/{agentId}/app-connections/{connectionId}/execute': { method: 'GET', path: '/x' },
}
const send = (r: Route, path: string, headers: Record<string, string> = {}) => {
  const withBody = ['POST', 'PUT', 'PATCH'].includes(r.method)
  return h.call(r.method, path, {
    // Same-origin, as the console's own page: the cookie routes' CSRF check is not what is tested.
    headers: {
      'sec-fetch-site': 'same-origin',
      ...headers,
      ...(withBody ? { 'content-type': 'application/json' } : {}),
    },
    ...(withBody ? { raw: JSON.stringify(BODIES[`${r.method} ${r.path}`] ?? {}) } : {}),
  })
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const credentials: Record<Exclude<Kind, 'session'>, string> = {
  admin: ADMIN_TOKEN,
  workspace: A.key,
  agent: a1.token,
}
const strangers: Record<'workspace' | 'agent', string> = { workspace: B.key, agent: b1.token }

const expectAnswer = (res: { status: number; body: any }, route: Route, status: number, what: string) => {
  const name = `${route.method} ${route.path} (${what})`
  expect({ name, status: res.status }).toEqual({ name, status })
  expect({
    name,
    envelope: typeof res.body?.code === 'string' && typeof res.body?.error === 'string',
  }).toEqual({
    name,
    envelope: true,
  })
}

describe('every route in /docs/json', () => {
  test('is either guarded by a credential scheme or listed as open', () => {
    expect(routes.length).toBeGreaterThan(50)
    for (const r of routes) {
      const key = `${r.method} ${r.path}`
      expect({ key, guarded: r.kinds.size > 0 || OPEN.has(key) }).toEqual({ key, guarded: true })
      if (OPEN.has(key)) expect({ key, open: r.kinds.size === 0 }).toEqual({ key, open: true })
    }
    // Nothing is listed open that the document no longer has.
    const documented = new Set(routes.map((r) => `${r.method} ${r.path}`))
    for (const key of OPEN)
      expect({ key, documented: documented.has(key) }).toEqual({ key, documented: true })
  })

  test('no credential → 401', async () => {
    for (const r of guarded) expectAnswer(await send(r, pathFor(r.path)), r, 401, 'none')
  })

  test('a malformed, mistyped or unknown credential → 401', async () => {
    const flipped = A.key.slice(0, -1) + (A.key.endsWith('A') ? 'B' : 'A')
    for (const headers of [
      { authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l' },
      { authorization: 'Bearer' },
      bearer('tk_short'),
      bearer(flipped),
      bearer(`agent_tok_${'0'.repeat(40)}`),
      { 'x-api-key': a1.token },
    ]) {
      for (const r of guarded)
        expectAnswer(await send(r, pathFor(r.path), headers), r, 401, JSON.stringify(headers))
    }
  })

  test('a valid credential of a kind the route does not take → 403 (401 where only a session counts)', async () => {
    for (const r of guarded) {
      for (const kind of ['admin', 'workspace', 'agent'] as const) {
        if (r.kinds.has(kind)) continue
        const status = r.kinds.has('session') ? 401 : 403
        expectAnswer(
          await send(r, pathFor(r.path), bearer(credentials[kind])),
          r,
          status,
          `${kind} credential`,
        )
      }
    }
  })

  test("another workspace's credential on this workspace's objects → 404, and nothing changes", async () => {
    let checked = 0
    for (const r of guarded) {
      // Collections answer the caller's own workspace; admin routes belong to no workspace.
      const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).filter((p) => p !== 'name')
      if (params.length === 0 || r.kinds.has('admin')) continue
      for (const kind of ['workspace', 'agent'] as const) {
        if (!r.kinds.has(kind)) continue
        const res = await send(r, pathFor(r.path), bearer(strangers[kind]))
        if (kind === 'agent' && params.includes('agentId')) {
          // An agent token acts as its own agent only, refused before any lookup: the same 403
          // for an agent that exists and for one that never did, so nothing is learned.
          expectAnswer(res, r, 403, 'foreign agent token')
          const unknown = await send(
            r,
            pathFor(r.path).replace(a1.id, crypto.randomUUID()),
            bearer(strangers.agent),
          )
          expect({ route: r.path, same: unknown.body }).toEqual({ route: r.path, same: res.body })
        } else expectAnswer(res, r, 404, `foreign ${kind}`)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(40)
    // A's objects are all still there, as they were.
    for (const path of [
      `/api/agents/${a1.id}`,
      `/api/connections/${conn.id}`,
      `/api/broadcast-groups/${group.id}`,
      `/api/pools/${pool.id}`,
      `/api/jobs/${job.jobId}`,
      `/api/app-connections/${app.id}`,
      `/api/triggers/${trigger.trigger.id}`,
      `/api/agents/${a1.id}/webhook-deliveries/${delivery.id}`,
    ]) {
      expect({ path, status: (await h.call('GET', path, { token: A.key })).status }).toEqual({
        path,
        status: 200,
      })
    }
    const keys = await h.call('GET', '/api/workspace/keys', { token: A.key })
    expect(keys.body.keys.map((k: any) => k.id)).toContain(extraKey.key.id)
    const commands = await h.call('GET', `/api/agents/${a1.id}/commands`, { token: A.key })
    expect(commands.body.commands[0]).toMatchObject({ id: command.commandId, status: 'queued' })
    expect((await h.call('GET', `/api/jobs/${job.jobId}`, { token: A.key })).body.status).toBe('running')
  })

  test('leaves no delivery behind for another instance to retry', async () => {
    // The test webhook goes nowhere: whichever instance shares the database would retry it.
    const { webhookDeliveries: d } = h.deps.db.t
    await h.deps.db.write(() => h.deps.db.orm.delete(d).where(eq(d.workspaceId, A.id)))
    expect(await h.deps.db.orm.select().from(d).where(eq(d.workspaceId, A.id))).toEqual([])
  })
})
