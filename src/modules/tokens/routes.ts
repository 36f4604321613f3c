import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { AgentParams, responses } from '../../http/schemas'
import { RotateBody, Rotated } from '../agents/model'
import { rotateToken } from './rotate'

export const tokenRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['agents'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post(
      '/agents/:agentId/rotate-token',
      ({ ctx, params, body }) => rotateToken({ ctx, input: { ...body, ...params } }),
      {
        asMember: true,
        secretAnswer: true,
        params: AgentParams,
        body: RotateBody,
        parse: 'json',
        response: responses({ 200: Rotated }),
        detail: {
          operationId: 'rotateToken',
          summary: "Rotate the agent's token (workspace key, or the agent's own current token)",
        },
      },
    )
