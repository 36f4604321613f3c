import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { AgentParams, responses } from '../../http/schemas'
import { AgentHealth, HealthQuery } from './model'
import { agentHealth } from './query'

export const healthRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['health'] })
    .use(authPlugin(deps))
    .get(
      '/agents/:agentId/health',
      ({ ctx, params, query }) => agentHealth({ ctx, input: { ...params, ...query } }),
      {
        asWorkspace: true,
        params: AgentParams,
        query: HealthQuery,
        response: responses({ 200: AgentHealth }),
        detail: {
          operationId: 'getAgentHealth',
          summary: 'Recent health checks (newest first) and uptime over the last 24 hours',
        },
      },
    )
