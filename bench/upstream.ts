// A local upstream agent for the proxy benchmark: a small JSON answer, a hang for timeouts, or
// (at /sse) an event stream whose first event leaves at once and the last 20 ms later.
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
    if (new URL(req.url).pathname === '/sse') {
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(enc.encode('data: {"first":true}\n\n'))
            await Bun.sleep(20)
            c.enqueue(enc.encode('data: [DONE]\n\n'))
            c.close()
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    }
    return Response.json({ ok: true, from: 'upstream' })
  },
})
console.log(`listening ${server.url}`)

export {}
