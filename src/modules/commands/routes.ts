import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { AgentParams, responses } from '../../http/schemas'
import { AckBody, Command, CommandBody, CommandList, CommandListQuery, CommandParams, Queued } from './model'
import { ackCommand, listCommands, queueCommand } from './service'

/** Remote commands (seed 004): queued by the workspace, listed and acknowledged by the agent. */
export const commandRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api/agents/:agentId', tags: ['commands'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post('/command', ({ ctx, params, body }) => queueCommand({ ctx, input: { ...body, ...params } }), {
      asWorkspace: true,
      params: AgentParams,
      parse: 'json',
      body: CommandBody,
      response: responses({ 200: Queued }),
      detail: {
        operationId: 'queueCommand',
        summary: 'Queue a command; pushed to the agent over its WebSocket now or when it connects',
      },
    })
    .get('/commands', ({ ctx, params, query }) => listCommands({ ctx, input: { ...query, ...params } }), {
      asMember: true,
      params: AgentParams,
      query: CommandListQuery,
      response: responses({ 200: CommandList }),
      detail: {
        operationId: 'listCommands',
        summary: "The agent's commands, oldest first (workspace key or the agent's own token)",
      },
    })
    .post(
      '/commands/:commandId/ack',
      ({ ctx, params, body }) => ackCommand({ ctx, input: { ...body, ...params } }),
      {
        asMember: true,
        params: CommandParams,
        parse: 'json',
        body: AckBody,
        response: responses({ 200: Command }, [400, 401, 403, 404, 409]),
        detail: {
          operationId: 'ackCommand',
          summary: "Report a command's outcome, once (the agent's own token or the workspace key)",
        },
      },
    )
