import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { IdParams, responses } from '../../http/schemas'
import {
  Connection,
  ConnectionHeartbeat,
  ConnectionList,
  CreateConnectionBody,
  ListConnectionsQuery,
  Revoked,
} from './model'
import {
  answerConnection,
  connectionHeartbeat,
  createConnection,
  deleteConnection,
  getConnection,
  listConnections,
} from './service'

export const connectionRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['connections'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post(
      '/connections',
      ({ ctx, body, set }) => {
        set.status = 201
        return createConnection({ ctx, input: body })
      },
      {
        asWorkspace: true,
        body: CreateConnectionBody,
        parse: 'json',
        response: responses({ 201: Connection }, [400, 401, 403, 404, 409]),
        detail: {
          operationId: 'createConnection',
          summary: 'Connect two agents',
          description:
            'private: both agents in your workspace, active at once. board: the target may be in another workspace ' +
            '(by permanent id) and stays pending until that workspace accepts. Either participant may call the other.',
        },
      },
    )
    .get('/connections', ({ ctx, query }) => listConnections({ ctx, input: query }), {
      asWorkspace: true,
      query: ListConnectionsQuery,
      response: responses({ 200: ConnectionList }, [400, 401, 403, 404]),
      detail: {
        operationId: 'listConnections',
        summary: 'Connections your workspace takes part in (either side)',
      },
    })
    .get('/connections/:id', ({ ctx, params }) => getConnection({ ctx, input: params }), {
      asWorkspace: true,
      params: IdParams,
      response: responses({ 200: Connection }),
      detail: { operationId: 'getConnection', summary: 'One connection' },
    })
    .delete('/connections/:id', ({ ctx, params }) => deleteConnection({ ctx, input: params }), {
      asWorkspace: true,
      params: IdParams,
      response: responses({ 200: Revoked }),
      detail: { operationId: 'revokeConnection', summary: 'Revoke a connection (either side)' },
    })
    .post(
      '/connections/:id/accept',
      ({ ctx, params }) => answerConnection({ ctx, input: { ...params, accept: true } }),
      {
        asWorkspace: true,
        params: IdParams,
        response: responses({ 200: Connection }, [400, 401, 403, 404, 409]),
        detail: {
          operationId: 'acceptConnection',
          summary: "Accept a pending board connection (the target's workspace)",
        },
      },
    )
    .post(
      '/connections/:id/decline',
      ({ ctx, params }) => answerConnection({ ctx, input: { ...params, accept: false } }),
      {
        asWorkspace: true,
        params: IdParams,
        response: responses({ 200: Connection }, [400, 401, 403, 404, 409]),
        detail: {
          operationId: 'declineConnection',
          summary: "Decline a pending board connection (the target's workspace)",
        },
      },
    )
    .post(
      '/board/connections/:id/heartbeat',
      ({ ctx, params }) => connectionHeartbeat({ ctx, input: params }),
      {
        asMember: true,
        params: IdParams,
        response: responses({ 200: ConnectionHeartbeat }),
        detail: {
          operationId: 'sendConnectionHeartbeat',
          summary: "Keep a board connection alive (a participant's agent token or either workspace key)",
        },
      },
    )
