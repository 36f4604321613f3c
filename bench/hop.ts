// A bare Bun.serve hop that only fetches the upstream: the floor any Bun proxy stands on.
// HOP_MODE=buffer reads the small body first; HOP_MODE=stream pipes it.
const target = process.env.UPSTREAM!
const mode = process.env.HOP_MODE ?? 'buffer'
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: '127.0.0.1',
  async fetch(req) {
    const body = mode === 'buffer' ? await req.arrayBuffer() : req.body
    const r = await fetch(target, {
      method: req.method,
      headers: req.headers,
      body,
      decompress: false,
    } as RequestInit)
    return new Response(r.body, {
      status: r.status,
      headers: { 'content-type': r.headers.get('content-type') ?? '' },
    })
  },
})
console.log(`listening ${server.url}`)

export {}
