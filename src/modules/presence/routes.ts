import { Elysia } from 'elysia'
import { z } from 'zod'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { AgentParams, responses, Timestamp } from '../../http/schemas'
import { heartbeat } from './service'

const HeartbeatBody = z
  .strictObject({ status: z.enum(['online', 'idle', 'offline']).default('online') })
  .default({
    status: 'online',
  })
  .meta({
    id: 'HeartbeatRequest',
    description: 'Optional: no body means online',
    examples: [{ status: 'idle' }],
  })
const HeartbeatAnswer = z
  .object({
    agentId: z.uuid(),
    permanentId: z.string(),
    status: z.enum(['online', 'idle', 'offline']).describe('What the agent reported'),
    presence: z.enum(['online', 'idle', 'offline']).describe('What Switchboard now decides'),
    isOnline: z.boolean(),
    lastHeartbeatAt: Timestamp,
    onlineWindowSeconds: z.number().int().describe('Send the next heartbeat well within this'),
  })
  .meta({
    id: 'Heartbeat',
    examples: [
      {
        agentId: '0b7f8a52-3c1e-4d0a-9f1b-6a2f4c8d9e10',
        permanentId: 'agt-k3v9x2mq',
        status: 'online',
        presence: 'online',
        isOnline: true,
        lastHeartbeatAt: '2026-12-01T09:30:12.000Z',
        onlineWindowSeconds: 60,
      },
    ],
  })

export const presenceRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['presence'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post(
      '/agents/:agentId/heartbeat',
      ({ ctx, params, body }) => heartbeat({ ctx, input: { ...params, ...body } }),
      {
        asAgent: true,
        params: AgentParams,
        body: HeartbeatBody,
        parse: 'json',
        response: responses({ 200: HeartbeatAnswer }, [400, 401, 403]),
        detail: {
          operationId: 'sendHeartbeat',
          summary: "Report the agent's status (its own agent token only)",
        },
      },
    )
