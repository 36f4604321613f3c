import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import type { Server } from 'bun'
import { createOutboundClient, type SendResult } from '../../src/lib/outbound/client'
import type { Lookup } from '../../src/lib/outbound/resolve'

// Real sockets on 127.0.0.1, allowed the way an operator allows local agents.
const servers: Server<undefined>[] = []
afterAll(() => {
  for (const s of servers) s.stop(true)
})
const serve = (fetch: (req: Request) => Response | Promise<Response>, hostname = '127.0.0.1', port = 0) => {
  const server = Bun.serve({ hostname, port, fetch })
  servers.push(server)
  return server
}

/** Names the tests use; nothing reaches real DNS. */
const lookup: Lookup = async (name) => {
  if (name.endsWith('.test')) return [{ address: '127.0.0.1', family: 4 }]
  throw new Error(`ENOTFOUND ${name}`)
}
const client = createOutboundClient({ allowedNetworks: ['127.0.0.0/8'], lookup })
const text = (chunk: Uint8Array | undefined) => new TextDecoder().decode(chunk)

function expectOk(result: SendResult): Response {
  if (!result.ok) throw new Error(`expected a response, got ${result.kind}: ${result.message}`)
  return result.response
}

describe('send', () => {
  const upstream = serve((req) =>
    Response.json({
      host: req.headers.get('host'),
      method: req.method,
      path: new URL(req.url).pathname + new URL(req.url).search,
      trace: req.headers.get('x-trace'),
    }),
  )
  const base = `http://agent.test:${upstream.port}`

  test('answers with the upstream response, sending the original Host', async () => {
    const res = expectOk(
      await client.send({ url: `${base}/hello?x=1`, headers: { 'x-trace': 't1', host: 'evil.example' } }),
    )
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      host: `agent.test:${upstream.port}`,
      method: 'GET',
      path: '/hello?x=1',
      trace: 't1',
    })
  })

  test('reaches a literal address without DNS', async () => {
    const strict = createOutboundClient({
      allowedNetworks: ['127.0.0.0/8'],
      lookup: () => Promise.reject(new Error('no DNS for literals')),
    })
    const res = expectOk(await strict.send({ url: `http://127.0.0.1:${upstream.port}/x`, method: 'DELETE' }))
    expect(await res.json()).toMatchObject({ host: `127.0.0.1:${upstream.port}`, method: 'DELETE' })
  })

  test('refuses before connecting, naming the rule', async () => {
    const guarded = createOutboundClient({ allowedNetworks: [], lookup })
    expect(await guarded.send({ url: `${base}/` })).toMatchObject({
      ok: false,
      kind: 'refused',
      rule: 'loopback',
    })
    expect(await guarded.send({ url: 'file:///etc/passwd' })).toMatchObject({
      kind: 'refused',
      rule: 'scheme',
    })
    expect(await client.send({ url: 'http://nowhere.example/' })).toMatchObject({ kind: 'unresolvable' })
    expect(await client.check('http://nowhere.example/')).toMatchObject({ ok: false, reason: 'unresolvable' })
  })

  test('connection refused is a network failure', async () => {
    const gone = serve(() => new Response('bye'))
    const port = gone.port
    gone.stop(true)
    expect(await client.send({ url: `http://127.0.0.1:${port}/` })).toMatchObject({
      ok: false,
      kind: 'network',
    })
  })
})

describe('redirects', () => {
  let landed = 0
  const target = serve(() => {
    landed++
    return new Response('landed')
  })
  const redirector = serve(
    () => new Response(null, { status: 302, headers: { location: `http://127.0.0.1:${target.port}/` } }),
  )

  test('are returned to the caller, not followed', async () => {
    const res = expectOk(await client.send({ url: `http://agent.test:${redirector.port}/` }))
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe(`http://127.0.0.1:${target.port}/`)
    expect(landed).toBe(0)
  })
})

describe('timeout and abort', () => {
  // Holds every request until the client goes away, and reports that it did.
  const arrived: PromiseWithResolvers<void>[] = []
  const departed: PromiseWithResolvers<void>[] = []
  const hang = serve((req) => {
    arrived.shift()?.resolve()
    const gone = departed.shift()
    return new Promise<Response>((resolve) => {
      req.signal.addEventListener('abort', () => {
        gone?.resolve()
        resolve(new Response('too late'))
      })
    })
  })
  const url = `http://agent.test:${hang.port}/`
  const watch = () => {
    const a = Promise.withResolvers<void>()
    const d = Promise.withResolvers<void>()
    arrived.push(a)
    departed.push(d)
    return { arrived: a.promise, departed: d.promise }
  }

  test('a slow upstream times out and is disconnected', async () => {
    const upstream = watch()
    expect(await client.send({ url }, { timeoutMs: 50 })).toMatchObject({ ok: false, kind: 'timeout' })
    await upstream.departed
  })

  test('the caller aborting stops the upstream request at once', async () => {
    const upstream = watch()
    const ac = new AbortController()
    const pending = client.send({ url }, { signal: ac.signal, timeoutMs: 60_000 })
    await upstream.arrived
    ac.abort()
    expect(await pending).toMatchObject({ ok: false, kind: 'aborted' })
    await upstream.departed
  })

  test('an already aborted signal sends nothing', async () => {
    let hits = 0
    const counted = serve(() => {
      hits++
      return new Response('x')
    })
    const result = await client.send(
      { url: `http://127.0.0.1:${counted.port}/` },
      { signal: AbortSignal.abort() },
    )
    expect(result).toMatchObject({ ok: false, kind: 'aborted' })
    expect(hits).toBe(0)
  })
})

describe('streaming', () => {
  test('server-sent events arrive one by one, before the upstream has finished', async () => {
    const order: string[] = []
    const release = Promise.withResolvers<void>()
    let sent = 0
    const sse = serve(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            async pull(c) {
              if (sent === 1) await release.promise
              if (sent === 2) return c.close()
              order.push(`upstream sent ${++sent}`)
              c.enqueue(new TextEncoder().encode(`data: ${sent}\n\n`))
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        ),
    )
    const res = expectOk(
      await client.send({ url: `http://agent.test:${sse.port}/events` }, { timeoutMs: 60_000 }),
    )
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const reader = res.body!.getReader()
    const first = await reader.read()
    order.push(`client got ${text(first.value).trim()}`)
    release.resolve()
    let rest = ''
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += text(r.value)
    order.push(`client got ${rest.trim()}`)
    expect(order).toEqual(['upstream sent 1', 'client got data: 1', 'upstream sent 2', 'client got data: 2'])
  })

  test('the caller aborting mid-stream cancels the upstream body', async () => {
    const cancelled = Promise.withResolvers<void>()
    const endless = serve(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(new TextEncoder().encode('data: first\n\n'))
            },
            cancel() {
              cancelled.resolve()
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        ),
    )
    const ac = new AbortController()
    const res = expectOk(
      await client.send({ url: `http://agent.test:${endless.port}/` }, { signal: ac.signal }),
    )
    const reader = res.body!.getReader()
    expect(text((await reader.read()).value)).toBe('data: first\n\n')
    ac.abort()
    await expect(reader.read()).rejects.toBeDefined()
    await cancelled.promise
  })

  test('a streamed request body is sent chunk by chunk', async () => {
    const firstChunk = Promise.withResolvers<string>()
    const upload = serve(async (req) => {
      const reader = req.body!.getReader()
      let all = text((await reader.read()).value)
      firstChunk.resolve(all)
      for (let r = await reader.read(); !r.done; r = await reader.read()) all += text(r.value)
      return Response.json({ all, te: req.headers.get('transfer-encoding') })
    })
    let body!: ReadableStreamDefaultController<Uint8Array>
    const pending = client.send({
      url: `http://agent.test:${upload.port}/`,
      method: 'POST',
      body: new ReadableStream<Uint8Array>({
        start(c) {
          body = c
        },
      }),
    })
    body.enqueue(new TextEncoder().encode('one;'))
    // The upstream holds the first chunk while the body is still open: nothing was buffered.
    expect(await firstChunk.promise).toBe('one;')
    body.enqueue(new TextEncoder().encode('two'))
    body.close()
    expect(await expectOk(await pending).json()).toEqual({ all: 'one;two', te: 'chunked' })
  })

  test('a gzip body passes through compressed, with its Content-Encoding', async () => {
    const plain = 'hello '.repeat(100)
    const gz = gzipSync(plain)
    const zipped = serve(() => new Response(gz, { headers: { 'content-encoding': 'gzip' } }))
    const res = expectOk(await client.send({ url: `http://agent.test:${zipped.port}/` }))
    expect(res.headers.get('content-encoding')).toBe('gzip')
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(Buffer.from(bytes).equals(gz)).toBe(true)
    expect(gunzipSync(bytes).toString()).toBe(plain)
  })
})

describe('pinning', () => {
  // The rebinding server first answers an allowed address, then a refused one. Only 127.0.0.1/32 is
  // allowed here, so 127.0.0.1 plays the public address and 127.0.0.2 the internal one (no test
  // may reach a real public address).
  let rebindHits = 0
  const checked = serve(() => new Response('checked'))
  serve(
    () => {
      rebindHits++
      return new Response('rebound')
    },
    '127.0.0.2',
    checked.port,
  )
  const rebinding = () => {
    let calls = 0
    const lookup: Lookup = async () => [{ address: ++calls === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }]
    return { lookup, calls: () => calls }
  }
  const url = `http://rebind.test:${checked.port}/`

  test('connects to the checked address; a later answer is checked again, never dialled unchecked', async () => {
    const dns = rebinding()
    const c = createOutboundClient({ allowedNetworks: ['127.0.0.1/32'], lookup: dns.lookup, dnsCacheMs: 0 })
    expect(await expectOk(await c.send({ url })).text()).toBe('checked')
    // One lookup: fetch was given the address, so it had no name to resolve again.
    expect(dns.calls()).toBe(1)
    expect(await c.send({ url })).toMatchObject({ ok: false, kind: 'refused', rule: 'loopback' })
    expect(rebindHits).toBe(0)
  })

  test('with the cache, the checked answer is reused', async () => {
    const dns = rebinding()
    const c = createOutboundClient({ allowedNetworks: ['127.0.0.1/32'], lookup: dns.lookup })
    for (let i = 0; i < 3; i++) expect(await expectOk(await c.send({ url })).text()).toBe('checked')
    expect(dns.calls()).toBe(1)
    expect(rebindHits).toBe(0)
  })

  describe('https', async () => {
    const fixture = (name: string) => Bun.file(join(import.meta.dir, 'fixtures', name)).text()
    const agent = { cert: await fixture('agent.test.pem'), key: await fixture('agent.test.key') }
    const other = { cert: await fixture('other.test.pem'), key: await fixture('other.test.key') }
    // Without SNI the server presents other.test's certificate, which agent.test would not accept.
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: [
        { ...other, serverName: 'other.test' },
        { ...agent, serverName: 'agent.test' },
      ],
      fetch: (req) => new Response(req.headers.get('host')),
    })
    servers.push(server)
    const c = createOutboundClient({ allowedNetworks: ['127.0.0.0/8'], lookup, ca: [agent.cert, other.cert] })

    test('sends SNI and verifies the certificate for the name, while dialling the address', async () => {
      const res = expectOk(await c.send({ url: `https://agent.test:${server.port}/` }))
      expect(await res.text()).toBe(`agent.test:${server.port}`)
    })

    test('a certificate for another name is refused', async () => {
      expect(await c.send({ url: `https://wrong.test:${server.port}/` })).toMatchObject({ kind: 'network' })
      expect(await c.send({ url: `https://127.0.0.1:${server.port}/` })).toMatchObject({ kind: 'network' })
    })
  })
})
