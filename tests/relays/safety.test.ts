import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { createLogger } from '../../src/lib/log'
import { liveServer, upstream } from '../helpers'

/**
 * What the relays refuse and what never crosses them: the one 404, the client's credentials and
 * cookies, the upstream's cookies and challenges; upstream down, refused by the guard, silent,
 * too large; the client going away; paths that would leave the agent's URL; the metric and the
 * log line of every call.
 */
const lines: string[] = []
const sb = await liveServer({
  env: { SWITCHBOARD_RELAY_IDLE_TIMEOUT_MS: '400', SWITCHBOARD_RELAY_MAX_BODY_BYTES: '4096' },
  log: createLogger('info', (l) => lines.push(l)),
})
const ws = await sb.workspace()
/** Where the outbound guard refuses loopback (the default): no allowed networks. */
const guarded = await liveServer({ env: { SWITCHBOARD_ALLOWED_NETWORKS: '' } })
const enc = new TextEncoder()

type Seen = { method: string; path: string; headers: Record<string, string>; body: string }
const seen: Seen[] = []
let aborted = 0
const up = upstream(async (req) => {
  const url = new URL(req.url)
  if (url.pathname.endsWith('/silent')) {
    await new Promise<void>((r) => req.signal.addEventListener('abort', () => r()))
    aborted++
    return new Response('late')
  }
  if (url.pathname.endsWith('/stall')) {
    req.signal.addEventListener('abort', () => aborted++)
    return new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(enc.encode('data: first\n\n'))
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    )
  }
  const body = await req.text()
  seen.push({
    method: req.method,
    path: url.pathname + url.search,
    headers: Object.fromEntries(req.headers),
    body,
  })
  if (url.pathname.endsWith('/teapot')) {
    return new Response('short and stout', {
      status: 418,
      headers: {
        'content-type': 'text/x-tea',
        'set-cookie': 'up=1',
        'www-authenticate': 'Bearer realm="agent"',
        'mcp-session-id': 'sess-9',
        'x-agent-own': 'yes',
      },
    })
  }
  return Response.json({ ok: true })
})
const deadPort = await (async () => {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port
  s.stop(true)
  return port
})()

async function agent(body: Record<string, unknown> = {}) {
  const res = await sb.call('POST', '/api/agents', {
    token: ws.key,
    body: {
      name: 'relayed',
      externalInvocation: true,
      endpointUrl: `${up.url}/endpoint`,
      endpointCredential: 'upstream-only-secret',
      protocols: { mcp: { enabled: true }, a2a: { enabled: true }, openai: { enabled: true } },
      ...body,
    },
  })
  expect(res.status).toBe(201)
  return { id: res.body.agent.id as string, pid: res.body.agent.permanentId as string }
}
const relay = (pid: string, path: string, init: RequestInit = {}) =>
  fetch(`${sb.url}/relay/${pid}${path}`, init)
const post = (body: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
})

describe('relay refusals', () => {
  test('disabled, not enabled, unknown, malformed, inactive, archived, deleted: the same 404 on every relay', async () => {
    const off = await agent({ externalInvocation: false })
    const notEnabled = await agent({ protocols: { mcp: { enabled: false }, a2a: { enabled: false } } })
    const inactive = await agent()
    await sb.call('PATCH', `/api/agents/${inactive.id}`, { token: ws.key, body: { status: 'inactive' } })
    const archived = await agent()
    await sb.call('PATCH', `/api/agents/${archived.id}`, { token: ws.key, body: { archived: true } })
    const deleted = await agent()
    await relay(deleted.pid, '/mcp', post('{}')) // cached first: the delete must still take effect
    await sb.call('DELETE', `/api/agents/${deleted.id}`, { token: ws.key })
    const before = seen.length
    const bodies = new Set<string>()
    for (const pid of [
      off.pid,
      notEnabled.pid,
      inactive.pid,
      archived.pid,
      deleted.pid,
      'agt-zzzz9999',
      'nope',
      'agt-%00',
    ]) {
      for (const [path, init] of [
        ['/mcp', post('{}')],
        ['/mcp', { method: 'GET' }],
        ['/a2a', post('{}')],
        ['/a2a/.well-known/agent-card.json', {}],
        ['/.well-known/agent-card.json', {}],
        ...(pid === notEnabled.pid ? [] : [['/openai/v1/models', {}] as const]),
      ] as const) {
        const res = await relay(pid, path, init)
        expect({ pid, path, status: res.status }).toEqual({ pid, path, status: 404 })
        bodies.add(await res.text())
      }
    }
    expect([...bodies]).toEqual(['{"error":"No agent is relayed here","code":"not_found"}'])
    expect(seen.length).toBe(before)
  })

  test('upstream down: 502 in the envelope, naming no address', async () => {
    const a = await agent({ protocols: { mcp: { enabled: true, url: `http://127.0.0.1:${deadPort}/mcp` } } })
    const res = await relay(a.pid, '/mcp', post('{}'))
    expect(res.status).toBe(502)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ error: 'The agent could not be reached', code: 'bad_gateway' })
    expect(text).not.toContain(String(deadPort))
  })

  test('an upstream the outbound guard refuses (loopback, not allowed here): 502, naming neither address nor rule', async () => {
    const gws = await guarded.workspace()
    const res = await guarded.call('POST', '/api/agents', {
      token: gws.key,
      body: {
        name: 'g',
        externalInvocation: true,
        protocols: { mcp: { enabled: true, url: 'https://agent.example.com/mcp' } },
      },
    })
    expect(res.status).toBe(201)
    // As if the name now resolved to loopback: the address is written straight into the row.
    const { agents } = guarded.deps.db.t
    await guarded.deps.db.tx((tx) =>
      tx
        .update(agents)
        .set({ protocols: { mcp: { enabled: true, url: `${up.url}/mcp` } } })
        .where(eq(agents.id, res.body.agent.id)),
    )
    guarded.deps.bus.publish('route.changed', { agentId: res.body.agent.id })
    const before = seen.length
    const refused = await fetch(`${guarded.url}/relay/${res.body.agent.permanentId}/mcp`, post('{}'))
    expect(refused.status).toBe(502)
    const text = await refused.text()
    expect(JSON.parse(text)).toEqual({ error: 'The agent could not be reached', code: 'bad_gateway' })
    for (const leak of ['127.0.0.1', 'loopback', String(new URL(up.url).port)])
      expect(text).not.toContain(leak)
    expect(seen.length).toBe(before)
  })

  test('nothing for the idle time before an answer: 504; the upstream call is let go', async () => {
    const a = await agent({ protocols: { openai: { enabled: true, url: up.url } } })
    const before = aborted
    const res = await relay(a.pid, '/openai/silent', post('{}'))
    expect(res.status).toBe(504)
    expect(((await res.json()) as { code: string }).code).toBe('gateway_timeout')
    await Bun.sleep(50)
    expect(aborted).toBe(before + 1)
  })

  test('a stream that goes quiet is cut after the idle time, after what it sent', async () => {
    const a = await agent({ protocols: { openai: { enabled: true, url: up.url } } })
    const res = await relay(a.pid, '/openai/stall', post('{}'))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    let text = ''
    let failed = false
    try {
      for await (const c of res.body!) text += new TextDecoder().decode(c)
    } catch {
      failed = true
    }
    expect(text).toBe('data: first\n\n')
    // Cut, not ended: the client can tell the stream did not finish.
    expect(failed).toBe(true)
  })

  test('a client that goes away aborts the upstream call at once', async () => {
    const a = await agent({ protocols: { openai: { enabled: true, url: up.url } } })
    const before = aborted
    const ctl = new AbortController()
    const pending = relay(a.pid, '/openai/silent', { ...post('{}'), signal: ctl.signal }).catch(() => null)
    await Bun.sleep(100)
    ctl.abort()
    await pending
    await Bun.sleep(100)
    expect(aborted).toBe(before + 1)
  })

  test('bodies over SWITCHBOARD_RELAY_MAX_BODY_BYTES: 413, declared or streamed', async () => {
    const a = await agent()
    const before = seen.length
    const declared = await relay(a.pid, '/mcp', post('x'.repeat(5000)))
    expect(declared.status).toBe(413)
    expect(((await declared.json()) as { code: string }).code).toBe('payload_too_large')
    expect(seen.length).toBe(before)
    const chunked = await relay(a.pid, '/mcp', {
      method: 'POST',
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(1024).fill(120))
          c.close()
        },
      }),
    })
    expect(chunked.status).toBe(413)
  })

  test('a path that would leave the agent’s URL is refused', async () => {
    const a = await agent({ protocols: { openai: { enabled: true, url: `${up.url}/api` } } })
    const res = await relay(a.pid, '/openai/v1/..%2F..%2Fadmin')
    expect(res.status).toBe(400)
    expect(seen.some((s) => s.path.includes('admin'))).toBe(false)
  })
})

describe('what crosses the relay', () => {
  test('up: the endpoint credential, never the client’s Authorization, x-api-key, cookie or a Switchboard key', async () => {
    const a = await agent()
    await relay(
      a.pid,
      '/mcp?x=1',
      post('{"jsonrpc":"2.0","id":1,"method":"ping"}', {
        authorization: `Bearer ${ws.key}`,
        'x-api-key': 'client-api-key',
        cookie: 'session=client',
        'mcp-protocol-version': '2025-11-25',
        'mcp-session-id': 'sess-1',
        'last-event-id': 'ev-4',
        'mcp-param-region': 'eu',
        'x-switchboard-caller': 'agt-spoofed',
      }),
    )
    const s = seen.at(-1)!
    expect(s.path).toBe('/endpoint?x=1')
    expect(s.body).toBe('{"jsonrpc":"2.0","id":1,"method":"ping"}')
    expect(s.headers.authorization).toBe('Bearer upstream-only-secret')
    for (const h of ['x-api-key', 'cookie', 'x-switchboard-caller']) expect(s.headers[h]).toBeUndefined()
    expect(s.headers).toMatchObject({
      'mcp-protocol-version': '2025-11-25',
      'mcp-session-id': 'sess-1',
      'last-event-id': 'ev-4',
      'mcp-param-region': 'eu',
    })
    expect(JSON.stringify(s.headers)).not.toContain(ws.key)
  })

  test('no credential stored: no Authorization goes up at all', async () => {
    const res = await sb.call('POST', '/api/agents', {
      token: ws.key,
      body: {
        name: 'bare',
        externalInvocation: true,
        endpointUrl: `${up.url}/endpoint`,
        protocols: { mcp: { enabled: true } },
      },
    })
    await relay(res.body.agent.permanentId, '/mcp', post('{}', { authorization: 'Bearer client' }))
    expect(seen.at(-1)!.headers.authorization).toBeUndefined()
  })

  test('down: status, body, type and the protocol’s headers as they are; Set-Cookie and WWW-Authenticate stay behind', async () => {
    const a = await agent({ protocols: { mcp: { enabled: true, url: `${up.url}/teapot` } } })
    const res = await relay(a.pid, '/mcp', post('{}'))
    expect(res.status).toBe(418)
    expect(await res.text()).toBe('short and stout')
    expect(res.headers.get('content-type')).toBe('text/x-tea')
    expect(res.headers.get('mcp-session-id')).toBe('sess-9')
    expect(res.headers.get('x-agent-own')).toBe('yes')
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(res.headers.get('www-authenticate')).toBeNull()
  })

  test('bodies pass byte for byte, deep nesting and NUL bytes included (nothing is parsed or stored)', async () => {
    const a = await agent()
    const deep = `${'['.repeat(1500)}${']'.repeat(1500)}`
    await relay(a.pid, '/a2a', post(deep))
    expect(seen.at(-1)!.body).toBe(deep)
    const nul = '{"text":"a\\u0000b","raw":"\u0000"}'
    await relay(a.pid, '/mcp', post(nul))
    expect(seen.at(-1)!.body).toBe(nul)
  })

  test('a metric and a log line per call: agent, protocol, status, duration — never a credential', async () => {
    const a = await agent()
    await relay(a.pid, '/mcp', post('{}', { authorization: 'Bearer client-secret-token' }))
    await relay('agt-zzzz9999', '/mcp', post('{}'))
    await Bun.sleep(20)
    const line = lines.map((l) => JSON.parse(l)).findLast((l) => l.msg === 'relay call' && l.agentId === a.id)
    expect(line).toMatchObject({ protocol: 'mcp', permanentId: a.pid, method: 'POST', status: 200 })
    expect(typeof line.durationMs).toBe('number')
    const all = lines.join('\n')
    for (const secret of ['upstream-only-secret', 'client-secret-token', ws.key])
      expect(all).not.toContain(secret)
    const metrics = await (await fetch(`${sb.url}/metrics`)).text()
    expect(metrics).toMatch(/switchboard_relay_requests_total\{protocol="mcp",status="200"\} \d+/)
    expect(metrics).toMatch(/switchboard_relay_requests_total\{protocol="mcp",status="404"\} \d+/)
    expect(metrics).toContain('switchboard_relay_request_duration_seconds_bucket{protocol="mcp"')
  })
})

describe('relay rate limits (their own settings)', async () => {
  const limited = await liveServer({
    env: {
      SWITCHBOARD_RATE_LIMIT_RELAY_IP_PER_SECOND: '0.01',
      SWITCHBOARD_RATE_LIMIT_RELAY_IP_BURST: '5',
      SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_PER_SECOND: '0.01',
      SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_BURST: '2',
      // The general per-IP limit does not count relay calls.
      SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0.01',
      SWITCHBOARD_RATE_LIMIT_IP_BURST: '1',
    },
  })
  const lws = await limited.workspace()
  const make = async () =>
    (
      await limited.call('POST', '/api/agents', {
        token: lws.key,
        body: {
          name: 'l',
          externalInvocation: true,
          endpointUrl: `${up.url}/endpoint`,
          protocols: { mcp: { enabled: true } },
        },
      })
    ).body.agent.permanentId as string
  const one = await make()
  const two = await make()
  const call = (pid: string) => fetch(`${limited.url}/relay/${pid}/mcp`, post('{}'))

  test('per agent: past its burst one agent is 429 with Retry-After, another still answers', async () => {
    expect((await call(one)).status).toBe(200)
    expect((await call(one)).status).toBe(200)
    const refused = await call(one)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(((await refused.json()) as { code: string }).code).toBe('rate_limited')
    expect((await call(two)).status).toBe(200)
  })

  test('per IP: past its burst every relay call from the address is 429, known agent or not', async () => {
    expect((await call(two)).status).toBe(200)
    // Five calls in all from this address so far: the next ones are refused before any lookup.
    const unknown = await call('agt-zzzz9999')
    expect(unknown.status).toBe(429)
    expect(unknown.headers.get('retry-after')).not.toBeNull()
  })
})
