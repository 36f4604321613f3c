import { Elysia } from 'elysia'
import type { OpenAPIV3 } from 'openapi-types'
import { z } from 'zod'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { ErrorSchema, responses, Uuid } from '../../http/schemas'
import { PROTOCOLS } from '../../lib/protocols'
import { BroadcastAnswer } from '../groups/model'
import { AsyncAccepted } from '../jobs/model'
import { PoolExhausted } from '../pools/model'
import { callAsync } from './async'
import { callBroadcast } from './broadcast'
import { callPool } from './pool'
import { callSync } from './sync'

const ConnectionParams = z.object({ connectionId: z.uuid({ error: 'must be a connection UUID' }) })
const GroupParams = z.object({ groupId: Uuid })
const PoolParams = z.object({ poolId: Uuid })

/** The buffered lanes take any body up to the buffered-lane limit and send the same bytes to every member. */
const bufferedBody = {
  required: false,
  content: { '*/*': { schema: { description: 'Any body, up to 1 MB (SWITCHBOARD_BUFFERED_BODY_BYTES)' } } },
}
const laneErrorStatuses = [400, 401, 403, 404, 413, 429] as const

const protocolHeader: OpenAPIV3.ParameterObject = {
  name: 'x-switchboard-protocol',
  in: 'header',
  required: false,
  schema: { type: 'string', enum: [...PROTOCOLS] },
  description: "Route to the target's URL for this protocol (400 if unknown or not enabled on the target)",
}

/** What Switchboard reads in an async call's JSON body; everything else is the agent's. */
const AsyncCallBody = z
  .looseObject({
    _switchboard: z
      .object({ callback_url: z.url().describe('Where the final state is sent') })
      .partial()
      .optional()
      .describe('Switchboard’s part, taken out before forwarding'),
  })
  .meta({
    id: 'AsyncCallBody',
    description: 'Any JSON (or any other body); `_switchboard` is Switchboard’s',
    examples: [
      { question: 'Summarize this page', _switchboard: { callback_url: 'https://example.com/hooks/jobs' } },
    ],
  })

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
        operationId: 'callSync',
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
        response: responses({ 202: AsyncAccepted }, [...laneErrorStatuses]),
        detail: {
          operationId: 'callAsync',
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
              'application/json': { schema: z.toJSONSchema(AsyncCallBody) as OpenAPIV3.SchemaObject },
              '*/*': { schema: { description: 'Any body up to 1 MB, forwarded as it is' } },
            },
          },
        },
      },
    )
    .post(
      '/broadcast/:groupId',
      ({ ctx, params, request }) => callBroadcast({ ctx, input: { ...params, request } }),
      {
        asAgent: true,
        params: GroupParams,
        response: responses({ 200: BroadcastAnswer }, [...laneErrorStatuses]),
        detail: {
          operationId: 'callBroadcast',
          summary: 'Fan-out to every member of a broadcast group, in parallel',
          description:
            "The caller must be an agent of the group's workspace and, when the group lists allowed callers, one " +
            'of them; anyone else gets 404. The body (≤ 1 MB, else 413 — chunked bodies too) is read once and the ' +
            'same bytes go to every member (the caller itself is skipped), each with its endpoint credential and the ' +
            'broadcast timeout (30 s), fallback decided per member. The answer is always 200 with one result per ' +
            'member: fulfilled when the member answered over HTTP — whatever the status, 4xx and 5xx included ' +
            '(see httpStatus) — and rejected when it did not (inactive/archived, protocol not enabled, refused, ' +
            'unreachable, timed out). Bodies are parsed as JSON when they are JSON, else text, and cut at 256 KiB ' +
            '(truncated: true).',
          parameters: [protocolHeader],
          requestBody: bufferedBody,
        },
      },
    )
    .post('/pool/:poolId', ({ ctx, params, request }) => callPool({ ctx, input: { ...params, request } }), {
      asAgent: true,
      params: PoolParams,
      response: responses(
        {
          200: z.unknown().describe("The member's answer: its status (2xx, 3xx or 4xx) and body"),
          502: PoolExhausted,
        },
        [...laneErrorStatuses],
      ),
      detail: {
        operationId: 'callPool',
        summary: 'Call one member of a pool: round_robin, failover or random, with retries',
        description:
          "The caller must be an agent of the pool's workspace and, when the pool lists allowed callers, one of " +
          'them; anyone else gets 404. The strategy orders the members; an offline member with a valid fallback is ' +
          'replaced by it, one without goes to the back, as do members ejected by passive health (still tried when ' +
          'all others failed). The body (≤ 1 MB, else 413) is read once; each attempt gets the same bytes and the ' +
          'pool timeout (60 s). A network error, timeout or 5xx moves to the next member; a 4xx is returned as it ' +
          'is; the first 2xx/3xx is returned with its status, body, content-type and cache-control. Every answer ' +
          'carries x-switchboard-pool, x-switchboard-pool-member (the membership id) and ' +
          'x-switchboard-pool-strategy, plus x-switchboard-fallback when a fallback handled it. All members ' +
          'failing is a 502 pool_exhausted listing the attempts.',
        parameters: [protocolHeader],
        requestBody: bufferedBody,
        responses: {
          200: {
            description: "The member's answer: its status (2xx, 3xx or 4xx) and body",
            content: { '*/*': { schema: { description: "The member's body" } } },
          },
        },
      },
    })
