import { Elysia } from 'elysia'
import type { OpenAPIV3 } from 'openapi-types'
import { z } from 'zod'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { ErrorSchema } from '../../http/schemas'
import { AsyncAccepted } from '../jobs/model'
import { callAsync } from './async'
import { callSync } from './sync'

const ConnectionParams = z.object({ connectionId: z.uuid({ error: 'must be a connection UUID' }) })

const protocolHeader: OpenAPIV3.ParameterObject = {
  name: 'x-switchboard-protocol',
  in: 'header',
  required: false,
  schema: { type: 'string', enum: ['mcp', 'a2a', 'openai', 'anp', 'acp'] },
  description: "Route to the target's URL for this protocol (400 if unknown or not enabled on the target)",
}

const errorContent = { 'application/json': { schema: z.toJSONSchema(ErrorSchema) as OpenAPIV3.SchemaObject } }
const laneErrors = (extra: Record<string, string> = {}) => ({
  400: {
    description: 'Invalid request or state (inactive/archived target, protocol not enabled)',
    content: errorContent,
  },
  401: { description: 'Missing or invalid agent token', content: errorContent },
  403: { description: 'Not an agent token', content: errorContent },
  404: { description: 'Not found, or the caller may not use it', content: errorContent },
  429: { description: 'Rate limited (Retry-After, RateLimit-* headers)', content: errorContent },
  502: { description: 'Upstream unreachable or refused by the outbound guard', content: errorContent },
  ...Object.fromEntries(
    Object.entries(extra).map(([k, d]) => [k, { description: d, content: errorContent }]),
  ),
})

/** The proxy lanes read their bodies themselves (no JSON parsing here): the sync lane streams it. */
export const proxyRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api/proxy', tags: ['proxy'] })
    .use(authPlugin(deps))
    .post('/:connectionId', ({ ctx, params, request }) => callSync({ ctx, input: { ...params, request } }), {
      asAgent: true,
      params: ConnectionParams,
      detail: {
        summary: 'Sync call to the other participant of a connection (streams both ways)',
        description:
          "Forwards the body to the other agent's endpoint with its endpoint credential; the caller's token, cookies and " +
          'hop-by-hop headers are dropped; x-switchboard-caller, x-switchboard-connection and x-request-id are added. ' +
          'Answers with the upstream status and body, streamed (server-sent events pass event by event), and its ' +
          'content-type and cache-control. x-switchboard-fallback names a fallback that handled the call; ' +
          'x-switchboard-agent-status: offline says the target was offline with no valid fallback.',
        parameters: [protocolHeader],
        requestBody: {
          required: false,
          content: { '*/*': { schema: { description: 'Any body; streamed to the agent as it arrives' } } },
        },
        responses: {
          200: {
            description: "The agent's answer (any status the agent returns), streamed",
            content: { '*/*': { schema: { description: "The agent's body" } } },
          },
          ...laneErrors({ 504: 'The agent did not answer within the sync timeout' }),
        },
      },
    })
    .post(
      '/:connectionId/async',
      ({ ctx, params, request }) => callAsync({ ctx, input: { ...params, request } }),
      {
        asAgent: true,
        params: ConnectionParams,
        detail: {
          summary: 'Async call: creates a job, answers 202 at once, delivers in the background',
          description:
            'The body (at most 1 MB, also when chunked: 413) becomes a job, `running`. It is delivered to the other ' +
            "participant's endpoint right away (30 s), with the sync lane's routing, fallback and header rules plus " +
            'x-switchboard-job-id and x-switchboard-job-status-url. The agent answering 202 keeps the job running until ' +
            'it reports to POST /api/jobs/{jobId}/status; any other 2xx completes it with the body as result (JSON if ' +
            'it parses, else text); an error, timeout or non-2xx fails it. In a JSON object body, ' +
            '`_switchboard.callback_url` is taken out before forwarding and receives the final state as a signed ' +
            'Standard Webhooks callback (see GET /api/workspace/webhook-secret). x-switchboard-fallback and ' +
            'x-switchboard-agent-status are on the 202 as on the sync lane.',
          parameters: [protocolHeader],
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  description: 'Any JSON (or any other body); `_switchboard` is Switchboard’s',
                  properties: {
                    _switchboard: {
                      type: 'object',
                      properties: {
                        callback_url: {
                          type: 'string',
                          format: 'uri',
                          description: 'Where the final state is sent',
                        },
                      },
                    },
                  },
                },
              },
              '*/*': { schema: { description: 'Any body up to 1 MB, forwarded as it is' } },
            },
          },
          responses: {
            202: {
              description: 'The job exists and is being delivered; poll poll_url',
              content: {
                'application/json': { schema: z.toJSONSchema(AsyncAccepted) as OpenAPIV3.SchemaObject },
              },
            },
            ...laneErrors({ 413: 'The body is over the 1 MB limit of the buffered lanes' }),
          },
        },
      },
    )
