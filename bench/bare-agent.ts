// What a heartbeat costs a bare Bun.serve, beside a bare GET: the ceiling of the ratio
// `npm run bench:heartbeat` holds Switchboard's heartbeat to. GET /healthz answers a small
// JSON object; POST /heartbeat reads the body as the server does (its text, JSON.parse), takes
// the SHA-256 of the bearer token (how a presented secret is looked up), and answers JSON.
// No auth, no validation, no database, no logging, no metrics.
import { createHash } from 'node:crypto'

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: '127.0.0.1',
  routes: {
    '/healthz': () => Response.json({ status: 'ok' }),
    '/heartbeat': {
      POST: async (req) => {
        const body = JSON.parse(await req.text()) as { status?: string }
        const auth = req.headers.get('authorization') ?? ''
        const hash = createHash('sha256').update(auth.slice(7)).digest('hex')
        return Response.json({ status: body.status, presence: 'online', key: hash.slice(0, 8) })
      },
    },
  },
  fetch: () => new Response('not found', { status: 404 }),
})
console.log(`listening ${server.url}`)
