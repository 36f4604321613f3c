// A local upstream agent for the proxy benchmark: a small JSON answer, or a hang for timeouts.
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
    return Response.json({ ok: true, from: 'upstream' })
  },
})
console.log(`listening ${server.url}`)

export {}
