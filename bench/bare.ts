// A bare Elysia route doing no database work: the baseline the heartbeat is measured against.
import { Elysia } from 'elysia'

const app = new Elysia()
  .post('/api/agents/:agentId/heartbeat', ({ params }) => ({ agentId: params.agentId, presence: 'online' }))
  .listen({ port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' })
console.log(`listening ${app.server!.url}`)
