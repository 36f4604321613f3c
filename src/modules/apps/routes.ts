import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { IdParams, PageQuery, responses } from '../../http/schemas'
import { Deleted } from '../groups/model'
import { executeAppConnection } from './execute'
import {
  AppConnection,
  AppConnectionList,
  CreateAppConnectionBody,
  ExecuteAnswer,
  ExecuteBody,
  ExecuteParams,
  UpdateAppConnectionBody,
} from './model'
import {
  createAppConnection,
  deleteAppConnection,
  getAppConnection,
  listAppConnections,
  updateAppConnection,
} from './service'

const WRITE_ERRORS = [400, 401, 403, 404, 409, 413, 429] as const

/** App connections, managed with the workspace key. */
export const appConnectionRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['apps'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post(
      '/app-connections',
      ({ ctx, body, set }) => {
        set.status = 201
        return createAppConnection({ ctx, input: body })
      },
      {
        asWorkspace: true,
        body: CreateAppConnectionBody,
        parse: 'json',
        response: responses({ 201: AppConnection }, [...WRITE_ERRORS]),
        detail: {
          operationId: 'createAppConnection',
          summary: 'Store a third-party app: its base URL, its credential (write-only) and who may call it',
          description:
            'baseUrl (and an OAuth2 tokenUrl) must pass the outbound guard (400 naming the rule; a name that does ' +
            'not resolve yet is accepted and checked on every call). The secret is sealed under the master key and ' +
            'never shown again: reads show the auth type, its non-secret fields and a last-4 hint. Without ' +
            'allowedAgentIds any agent of the workspace may execute; with a list, only those agents. A name is ' +
            'unique in the workspace (409).',
        },
      },
    )
    .get('/app-connections', ({ ctx, query }) => listAppConnections({ ctx, input: query }), {
      asWorkspace: true,
      query: PageQuery,
      response: responses({ 200: AppConnectionList }, [400, 401, 403]),
      detail: { operationId: 'listAppConnections', summary: 'List the app connections of the workspace' },
    })
    .get('/app-connections/:id', ({ ctx, params }) => getAppConnection({ ctx, input: params }), {
      asWorkspace: true,
      params: IdParams,
      response: responses({ 200: AppConnection }),
      detail: { operationId: 'getAppConnection', summary: 'One app connection (never its secret)' },
    })
    .patch(
      '/app-connections/:id',
      ({ ctx, params, body }) => updateAppConnection({ ctx, input: { ...body, ...params } }),
      {
        asWorkspace: true,
        params: IdParams,
        body: UpdateAppConnectionBody,
        parse: 'json',
        response: responses({ 200: AppConnection }, [...WRITE_ERRORS]),
        detail: {
          operationId: 'updateAppConnection',
          summary: 'Change an app connection; auth replaces the auth (a new secret is a secret change)',
          description:
            'auth with the same type may leave its secret out to keep the stored one; a new type needs its secret. ' +
            'Moving baseUrl or the token endpoint to another origin needs the secret again in the same request: a ' +
            'stored secret is never sent to a host it was not given for. Any change of auth drops cached tokens.',
        },
      },
    )
    .delete('/app-connections/:id', ({ ctx, params }) => deleteAppConnection({ ctx, input: params }), {
      asWorkspace: true,
      params: IdParams,
      response: responses({ 200: Deleted }, [400, 401, 403, 404, 429]),
      detail: {
        operationId: 'deleteAppConnection',
        summary: 'Delete an app connection and its sealed secret',
      },
    })

/**
 * Execute, with the agent's own token. Its JSON envelope may be a little over the buffered-body
 * limit (a base64 body grows by a third); the body it carries may not.
 */
export const appExecuteRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['apps'] })
    .use(jsonBody(Math.ceil((deps.config.bufferedBodyBytes * 4) / 3) + 64 * 1024))
    .use(authPlugin(deps))
    .post(
      '/agents/:agentId/app-connections/:connectionId/execute',
      async ({ ctx, params, body, request, set }) => {
        const { answer, headers } = await executeAppConnection({
          ctx,
          input: { ...params, call: body, signal: request.signal },
        })
        Object.assign(set.headers, headers)
        return answer
      },
      {
        asAgent: true,
        params: ExecuteParams,
        body: ExecuteBody,
        parse: 'json',
        response: responses({ 200: ExecuteAnswer }, [400, 401, 403, 404, 413, 429, 502, 504]),
        detail: {
          operationId: 'executeAppConnection',
          summary: 'Call the app through its connection, as this agent; Switchboard injects the credential',
          description:
            "The agent's own token (another agent's id: 403). A connection of another workspace, or one that does not " +
            'allow this agent, is a 404. The path is decoded until stable and must stay under baseUrl: `..`, encoded ' +
            'separators, backslashes, absolute and scheme-relative URLs, and anything that changes scheme, host or ' +
            'port are refused; then allowedMethods and allowedPathPrefixes; the caller may not set Authorization, ' +
            'Host, Cookie, the credential header or the credential query parameter. Each refusal is a 400 whose ' +
            'details.rule names the rule, decided before the secret is unsealed. The body (≤ 1 MB, else 413) goes ' +
            "as JSON unless bodyEncoding says text or base64. The answer is the app's status, headers (no cookies, " +
            'no hop-by-hop) and body, parsed JSON, text or base64; an answer over 1 MB is a 502, a timeout (30 s by ' +
            'default) a 504. Redirects are not followed. An OAuth2 connection whose token the app refuses (401) ' +
            'refreshes it once and retries once.',
        },
      },
    )
