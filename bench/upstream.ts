// A local upstream agent for the proxy benchmark: a small JSON answer, a hang for timeouts,
// or (UPSTREAM_MODE=sse) a stream whose first event leaves at once and the rest later.
const sse = process.env.UPSTREAM_MODE === 'sse'
const enc = new TextEncoder()
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: '127.0.0.1',
  idleTimeout: 0,
  async fetch(req) {
    if (new URL(req.url).pathname === '/hang') {
      await new Promise((r) => req.signal.addEventListener('abort', r))
      return new Response('late')
    }
    await req.arrayBuffer()
    if (sse) {
      const body = new ReadableStream({
        async start(c) {
          c.enqueue(enc.encode('data: {"choices":[{"delta":{"content":"first"}}]}\n\n'))
          await Bun.sleep(50)
          c.enqueue(enc.encode('data: [DONE]\n\n'))
          c.close()
        },
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    }
    return Response.json({ ok: true, from: 'upstream' })
  },
})
console.log(`listening ${server.url}`)

export {}
