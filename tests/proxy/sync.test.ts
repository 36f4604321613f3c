import { describe, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import { liveServer, upstream } from '../helpers'

/**
 * The sync lane against real local upstream agents: an echo of what was received, SSE,
 * error statuses, a hang past the (test-shortened) timeout, a refused port, gzip, a large body.
 */
const sb = await liveServer({ env: { SWITCHBOARD_SYNC_TIMEOUT_MS: '1500' } })
const ws = await sb.workspace()
const other = await sb.workspace()

let sseRelease: (() => void) | null = null
let firstChunkSeen: (() => void) | null = null
let hangAborted = 0
let hangStarted = 0
const echo = upstream(async (req) => {
  const url = new URL(req.url)
  if (url.pathname === '/status')
    return new Response('upstream says no', { status: Number(url.searchParams.get('s')) })
  if (url.pathname === '/hang') {
    hangStarted++
    await new Promise<void>((resolve) => req.signal.addEventListener('abort', () => resolve()))
    hangAborted++
    return new Response('late')
  }
  if (url.pathname === '/sse') {
    const gate = new Promise<void>((r) => {
      sseRelease = r
    })
    const stream = new ReadableStream({
      async start(c) {
        c.enqueue(new TextEncoder().encode('data: first\n\n'))
        await gate
        c.enqueue(new TextEncoder().encode('data: second\n\n'))
        c.close()
      },
    })
    return new Response(stream, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    })
  }
  if (url.pathname === '/read-stream') {
    const reader = req.body!.getReader()
    const chunks: string[] = []
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      chunks.push(new TextDecoder().decode(value))
      firstChunkSeen?.()
    }
    return new Response(chunks.join(''))
  }
  if (url.pathname === '/gzip') {
    return new Response(gzipSync('compressed hello'), {
      headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' },
    })
  }
  if (url.pathname === '/big') {
    const chunk = new Uint8Array(1024 * 1024).fill(97)
    let sent = 0
    return new Response(
      new ReadableStream({
        pull(c) {
          if (sent++ >= 200) return c.close()
          c.enqueue(chunk)
        },
      }),
    )
  }
  const body = await req.text()
  return Response.json(
    { method: req.method, path: url.pathname, headers: Object.fromEntries(req.headers), body },
    {
      status: 201,
      headers: { 'set-cookie': 'upstream=1', 'x-upstream-private': 'yes', 'cache-control': 'max-age=5' },
    },
  )
})

async function pair(targetPath = '/echo', extra: Record<string, unknown> = {}) {
  const reg = async (body: Record<string, unknown>) =>
    (await sb.call('POST', '/api/agents', { token: ws.key, body: { name: 'a', ...body } })).body
  const caller = await reg({})
  const target = await reg({ endpointUrl: `${echo.url}${targetPath}`, ...extra })
  const conn = await sb.call('POST', '/api/connections', {
    token: ws.key,
    body: { agentId: caller.agent.id, targetAgentId: target.agent.id, type: 'private' },
  })
  expect(conn.status).toBe(201)
  return { caller, target, conn: conn.body }
}

describe('sync lane', () => {
  test('forwards the body, injects the credential, strips the caller’s secrets, adds Switchboard headers', async () => {
    const { caller, target, conn } = await pair('/echo', { endpointCredential: 'endpoint-secret-1234' })
    const res = await sb.call('POST', `/api/proxy/${conn.id}`, {
      token: caller.token,
      raw: '{"message":"hello"}',
      headers: {
        'content-type': 'application/json',
        cookie: 'session=abc',
        'x-api-key': 'wk_should_not_pass',
        'x-switchboard-caller': 'agt-spoofed',
        connection: 'keep-alive, x-hop',
        'x-hop': 'drop me',
        'x-request-id': 'trace-42',
        'x-custom': 'kept',
      },
    })
    expect(res.status).toBe(201)
    const seen = res.body
    expect(seen.body).toBe('{"message":"hello"}')
    expect(seen.headers.authorization).toBe('Bearer endpoint-secret-1234')
    expect(seen.headers['x-switchboard-caller']).toBe(caller.agent.permanentId)
    expect(seen.headers['x-switchboard-connection']).toBe(conn.id)
    expect(seen.headers['x-request-id']).toBe('trace-42')
    expect(seen.headers['x-custom']).toBe('kept')
    expect(seen.headers['content-type']).toBe('application/json')
    for (const h of ['cookie', 'x-api-key', 'x-hop']) expect(seen.headers[h]).toBeUndefined()
    expect(JSON.stringify(seen)).not.toContain(caller.token)
    // Upstream status, content-type and cache-control come back; set-cookie and others do not.
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(res.headers.get('cache-control')).toBe('max-age=5')
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(res.headers.get('x-upstream-private')).toBeNull()
    expect(target.agent.hasEndpointCredential).toBe(true)
  })

  test('either participant may call the other; nobody else may', async () => {
    const { caller, target, conn } = await pair('/echo', { endpointUrl: `${echo.url}/echo` })
    // The target calls back over the same line (the caller has no endpoint: 400, but not 404).
    const back = await sb.call('POST', `/api/proxy/${conn.id}`, { token: target.token, raw: 'x' })
    expect(back.status).toBe(400)
    expect(back.body.error).toContain('no endpoint URL')
    const stranger = (await sb.call('POST', '/api/agents', { token: ws.key, body: { name: 's' } })).body
    expect((await sb.call('POST', `/api/proxy/${conn.id}`, { token: stranger.token, raw: 'x' })).status).toBe(
      404,
    )
    const foreign = (await sb.call('POST', '/api/agents', { token: other.key, body: { name: 'f' } })).body
    expect((await sb.call('POST', `/api/proxy/${conn.id}`, { token: foreign.token, raw: 'x' })).status).toBe(
      404,
    )
    expect((await sb.call('POST', `/api/proxy/${conn.id}`, { token: ws.key, raw: 'x' })).status).toBe(403)
    expect((await sb.call('POST', `/api/proxy/${conn.id}`, { raw: 'x' })).status).toBe(401)
    expect(
      (await sb.call('POST', `/api/proxy/${crypto.randomUUID()}`, { token: caller.token, raw: 'x' })).status,
    ).toBe(404)
    expect((await sb.call('POST', '/api/proxy/not-a-uuid', { token: caller.token, raw: 'x' })).status).toBe(
      400,
    )
  })

  test('upstream error statuses pass through as they are', async () => {
    for (const s of [500, 503, 404]) {
      const { caller, conn } = await pair(`/status?s=${s}`)
      const res = await sb.call('POST', `/api/proxy/${conn.id}`, { token: caller.token, raw: 'x' })
      expect(res.status).toBe(s)
      expect(res.text).toBe('upstream says no')
    }
  })

  test('server-sent events reach the caller event by event', async () => {
    const { caller, conn } = await pair('/sse')
    const res = await fetch(`${sb.url}/api/proxy/${conn.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}` },
    })
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const reader = res.body!.getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    // The first event arrived while the upstream is still holding the second back.
    expect(first).toBe('data: first\n\n')
    sseRelease!()
    let rest = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      rest += new TextDecoder().decode(value)
    }
    expect(rest).toBe('data: second\n\n')
  })

  test('a hanging upstream is a 504 after the timeout, and the upstream request is aborted', async () => {
    const { caller, conn } = await pair('/hang')
    const before = hangAborted
    const res = await sb.call('POST', `/api/proxy/${conn.id}`, { token: caller.token, raw: 'x' })
    expect(res.status).toBe(504)
    expect(res.body.code).toBe('gateway_timeout')
    for (let i = 0; i < 100 && hangAborted === before; i++) await Bun.sleep(20)
    expect(hangAborted).toBe(before + 1)
  })

  test('a caller that disconnects aborts the upstream request at once', async () => {
    const { caller, conn } = await pair('/hang')
    const before = hangAborted
    const started = hangStarted
    const ctl = new AbortController()
    const pending = fetch(`${sb.url}/api/proxy/${conn.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}` },
      signal: ctl.signal,
    }).catch((e) => e)
    // Abort once the upstream holds the request (on a loaded machine that can take a while).
    for (let i = 0; i < 200 && hangStarted === started; i++) await Bun.sleep(10)
    ctl.abort()
    await pending
    // Well before the 1.5 s timeout would have fired.
    for (let i = 0; i < 50 && hangAborted === before; i++) await Bun.sleep(10)
    expect(hangAborted).toBe(before + 1)
  })

  test('refused connection and refused address are 502s', async () => {
    const dead = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const port = dead.port
    dead.stop(true)
    const { caller, conn } = await pair('/echo', { endpointUrl: `http://127.0.0.1:${port}/` })
    const refused = await sb.call('POST', `/api/proxy/${conn.id}`, { token: caller.token, raw: 'x' })
    expect(refused.status).toBe(502)
    expect(refused.body.code).toBe('bad_gateway')
    // Registration refuses the metadata address; a name that later resolves there is refused at call time.
    // Simulate that by writing the address straight into the row, as a changed DNS answer would.
    const guarded = await pair('/echo')
    const { agents } = sb.deps.db.t
    const { eq } = await import('drizzle-orm')
    await sb.deps.db.tx((tx) =>
      tx
        .update(agents)
        .set({ endpointUrl: 'http://169.254.169.254/latest/meta-data' })
        .where(eq(agents.id, guarded.target.agent.id)),
    )
    sb.deps.bus.publish('route.changed', { agentId: guarded.target.agent.id })
    const meta = await sb.call('POST', `/api/proxy/${guarded.conn.id}`, {
      token: guarded.caller.token,
      raw: 'x',
    })
    expect(meta.status).toBe(502)
    expect(meta.body.details.rule).toBe('metadata')
  })

  test('a chunked request body streams up as it is written', async () => {
    const { caller, conn } = await pair('/read-stream')
    const seen = new Promise<void>((r) => {
      firstChunkSeen = r
    })
    const body = new ReadableStream({
      async start(c) {
        c.enqueue(new TextEncoder().encode('part one;'))
        // The second part is written only once the upstream has read the first: a proxy
        // that buffered the body before forwarding would wait here forever.
        await seen
        c.enqueue(new TextEncoder().encode('part two'))
        c.close()
      },
    })
    const res = await fetch(`${sb.url}/api/proxy/${conn.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}` },
      body,
    })
    expect(await res.text()).toBe('part one;part two')
  })

  test('gzip bytes pass through with their content-encoding', async () => {
    const { caller, conn } = await pair('/gzip')
    const res = await fetch(`${sb.url}/api/proxy/${conn.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}`, 'accept-encoding': 'gzip' },
    })
    expect(res.headers.get('content-encoding')).toBe('gzip')
    expect(await res.text()).toBe('compressed hello')
  })

  test('a 200 MB answer streams through without being held in memory', async () => {
    const { caller, conn } = await pair('/big')
    Bun.gc(true)
    const before = process.memoryUsage().rss
    const res = await fetch(`${sb.url}/api/proxy/${conn.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}` },
    })
    let total = 0
    let peak = before
    const reader = res.body!.getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      total += value.byteLength
      peak = Math.max(peak, process.memoryUsage().rss)
      // Collect every 16 MB so the peak is live memory, not garbage the GC has not got to yet:
      // after many suites in one process the heap is larger and collects later (the delta
      // grew from ~50 to ~100 MB as suites were added). Buffering would still hold 200 MB live.
      if (total % (16 * 1024 * 1024) < value.byteLength) Bun.gc(false)
    }
    expect(total).toBe(200 * 1024 * 1024)
    // Client, server and upstream share this process; a direct fetch of the same stream grows
    // RSS by ~30–40 MB here. Buffering the answer would add at least its 200 MB.
    expect(peak - before).toBeLessThan(100 * 1024 * 1024)
  })

  test('protocol routing: override URL, endpoint fallback, 400 when unknown or not enabled', async () => {
    const { caller, conn } = await pair('/echo', {
      protocols: {
        mcp: { enabled: true, url: `${echo.url}/mcp` },
        a2a: { enabled: true },
        openai: { enabled: false },
      },
    })
    const call = (p: string) =>
      sb.call('POST', `/api/proxy/${conn.id}`, {
        token: caller.token,
        raw: 'x',
        headers: { 'x-switchboard-protocol': p },
      })
    expect((await call('mcp')).body.path).toBe('/mcp')
    expect((await call('A2A')).body.path).toBe('/echo')
    expect((await call('openai')).body.code).toBe('protocol_not_enabled')
    expect((await call('acp')).status).toBe(400)
    expect((await call('smtp')).body.code).toBe('unknown_protocol')
  })

  test('pending, declined and inactive targets are 400s', async () => {
    const { caller, target, conn } = await pair('/echo')
    await sb.call('PATCH', `/api/agents/${target.agent.id}`, { token: ws.key, body: { status: 'inactive' } })
    const res = await sb.call('POST', `/api/proxy/${conn.id}`, { token: caller.token, raw: 'x' })
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('invalid_state')
    await sb.call('PATCH', `/api/agents/${target.agent.id}`, {
      token: ws.key,
      body: { status: 'active', archived: true },
    })
    expect(
      (await sb.call('POST', `/api/proxy/${conn.id}`, { token: caller.token, raw: 'x' })).body.error,
    ).toContain('archived')
  })
})
