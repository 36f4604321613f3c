import { Elysia } from 'elysia'
import type { OpenAPIV3 } from 'openapi-types'
import { z } from 'zod'
import type { Deps } from '../../deps'
import { responses } from '../../http/schemas'
import { relayA2a, relayA2aCard } from './a2a'
import {
  A2AAgentCard,
  JsonRpcRequest,
  JsonRpcResponse,
  RelayedAnswer,
  RelayedBody,
  RelayParams,
  RelayPathParams,
} from './model'
import { relayCall } from './relay'

/** The raw path after `/relay/{permanentId}/{protocol}`, escapes as the client wrote them ('' for none). */
function restOf(request: Request): string {
  const parts = new URL(request.url).pathname.split('/')
  return parts.length > 4 ? `/${parts.slice(4).join('/')}` : ''
}

const noToken = { security: [] as Record<string, string[]>[] }
const errors = [404, 413, 429, 502, 504] as const
const REFUSALS =
  "Switchboard's own refusals are `{error, code}`: 404 for an agent it does not relay (unknown, inactive, " +
  'archived, deleted, no external invocation, protocol not enabled — the same answer for all), 413 for a body ' +
  'over SWITCHBOARD_RELAY_MAX_BODY_BYTES, 429 past the per-IP or per-agent relay limit, 502 when the agent ' +
  'cannot be reached (never naming its address), 504 when it sends nothing for SWITCHBOARD_RELAY_IDLE_TIMEOUT_MS.'
const HYGIENE =
  "No Switchboard token: the agent's endpoint credential replaces any Authorization the client sent; the " +
  "client's cookies, x-api-key and hop-by-hop headers never go up; the agent's Set-Cookie and " +
  'WWW-Authenticate never come back. Everything else passes both ways, server-sent events event by event.'
const jsonRpcBody = {
  required: true,
  content: { 'application/json': { schema: z.toJSONSchema(JsonRpcRequest) as OpenAPIV3.SchemaObject } },
}
const anyBody = {
  required: false,
  content: {
    'application/json': { schema: z.toJSONSchema(RelayedBody) as OpenAPIV3.SchemaObject },
    '*/*': { schema: { description: 'Any other body (multipart uploads too), passed as it is' } },
  },
}

/** The options of one method of a `…/{protocol}/*` relay: its own operation in the docs. */
const pathOp = (
  doc: { operationId: string; summary: string; description: string },
  method: string,
  body: boolean,
) => ({
  params: RelayPathParams,
  response: responses({ 200: RelayedAnswer }, [...errors]),
  detail: {
    ...noToken,
    ...doc,
    operationId: `${doc.operationId}${method}`,
    ...(body ? { requestBody: anyBody } : {}),
  },
})
const hidden = { detail: { hide: true } }

const A2A_PATH = {
  operationId: 'relayA2aPath',
  summary: 'A2A below the base (the HTTP+JSON binding), to the same path under the agent’s A2A URL',
  description: `${HYGIENE} ${REFUSALS}`,
}
const OPENAI = {
  operationId: 'relayOpenAi',
  summary: 'OpenAI-compatible API: base URL …/relay/{permanentId}/openai/v1 reaches <openai url>/v1/…',
  description:
    'Chat completions, models, responses, embeddings and the rest; `stream: true` answers pass event by ' +
    'event; the agent’s Retry-After and rate-limit headers come back. ' +
    HYGIENE +
    ' ' +
    REFUSALS,
}

/**
 * The external relays: outside A2A, MCP and OpenAI clients reach agents that allow external
 * invocation, without a Switchboard token (see modules/relays/relay.ts).
 */
export function relayRoutes(deps: Deps) {
  // Handlers name what they read ({ params, request }): Elysia then reads no body for them.
  type Ctx = { params: { permanentId: string }; request: Request }
  const a2aPath = ({ params, request }: Ctx) =>
    relayA2a(deps, { permanentId: params.permanentId, request, rest: restOf(request) })
  const card = ({ params, request }: Ctx) => relayA2aCard(deps, { permanentId: params.permanentId, request })
  const mcp = ({ params, request }: Ctx) =>
    relayCall(deps, { permanentId: params.permanentId, protocol: 'mcp', request, rest: '' })
  const openai = ({ params, request }: Ctx) =>
    relayCall(deps, { permanentId: params.permanentId, protocol: 'openai', request, rest: restOf(request) })
  return (
    new Elysia({ prefix: '/relay', tags: ['relays'] })
      .get('/:permanentId/a2a/.well-known/agent-card.json', card, {
        params: RelayParams,
        response: responses({ 200: A2AAgentCard }, [...errors]),
        detail: {
          ...noToken,
          operationId: 'getRelayedA2aCard',
          summary: "The agent's A2A card, pointing at the relay",
          description:
            "Read from the agent's `<a2a url>/.well-known/agent-card.json`, else from its origin's, else composed " +
            'from the registry (0.3 and 1.0 fields at once). Every interface URL points at the relay, no upstream ' +
            'address remains, `signatures` are dropped. The client’s A2A-Version is passed up. ' +
            REFUSALS,
        },
      })
      .get('/:permanentId/.well-known/agent-card.json', card, {
        params: RelayParams,
        response: responses({ 200: A2AAgentCard }, [...errors]),
        detail: {
          ...noToken,
          operationId: 'getRelayedA2aCardBesideBase',
          summary: 'The same A2A card, where clients resolve it from the base URL …/relay/{permanentId}/a2a',
          description:
            'A client given the base URL without a trailing slash resolves `.well-known/agent-card.json` beside ' +
            'it; this serves the same card as `…/a2a/.well-known/agent-card.json`.',
        },
      })
      .post(
        '/:permanentId/a2a',
        ({ params, request }) => relayA2a(deps, { permanentId: params.permanentId, request, rest: '' }),
        {
          params: RelayParams,
          response: responses({ 200: JsonRpcResponse }, [...errors]),
          detail: {
            ...noToken,
            operationId: 'relayA2aJsonRpc',
            summary: 'A2A JSON-RPC of both generations, to the agent’s A2A URL',
            description:
              '0.3 (`message/send`, `message/stream`, `tasks/get`, …) and 1.0 (`SendMessage`, ' +
              '`SendStreamingMessage`, `GetTask`, `CancelTask`, …) pass as they are, with A2A-Version; streams ' +
              'come back as server-sent events. An extended card in the result is rewritten like the card. ' +
              HYGIENE +
              ' ' +
              REFUSALS,
            requestBody: jsonRpcBody,
          },
        },
      )
      .get('/:permanentId/a2a/*', a2aPath, pathOp(A2A_PATH, 'Get', false))
      .post('/:permanentId/a2a/*', a2aPath, pathOp(A2A_PATH, 'Post', true))
      .delete('/:permanentId/a2a/*', a2aPath, pathOp(A2A_PATH, 'Delete', false))
      .options('/:permanentId/a2a/*', a2aPath, hidden)
      // CORS preflights are the agent's to answer, like any other request.
      .options('/:permanentId/a2a', a2aPath, hidden)
      .options('/:permanentId/mcp', mcp, hidden)
      .post('/:permanentId/mcp', mcp, {
        params: RelayParams,
        response: responses({ 200: JsonRpcResponse }, [...errors]),
        detail: {
          ...noToken,
          operationId: 'relayMcpPost',
          summary:
            'MCP Streamable HTTP (2025-11-25 and 2026-07-28): a JSON-RPC message to the agent’s MCP URL',
          description:
            'Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Param-*, Last-Event-ID and ' +
            'server-sent events pass both ways. The relay keeps no session state: any instance serves any request ' +
            'of a session. ' +
            HYGIENE +
            ' ' +
            REFUSALS,
          requestBody: jsonRpcBody,
        },
      })
      .get('/:permanentId/mcp', mcp, {
        params: RelayParams,
        response: responses({ 200: RelayedAnswer }, [...errors]),
        detail: {
          ...noToken,
          operationId: 'relayMcpGet',
          summary:
            'MCP (2025-11-25): the server-to-client event stream of a session, resumable with Last-Event-ID',
          description: `${HYGIENE} ${REFUSALS}`,
        },
      })
      .delete('/:permanentId/mcp', mcp, {
        params: RelayParams,
        response: responses({ 200: RelayedAnswer }, [...errors]),
        detail: {
          ...noToken,
          operationId: 'relayMcpDelete',
          summary: 'MCP (2025-11-25): end a session (Mcp-Session-Id) at the agent',
          description: `${HYGIENE} ${REFUSALS}`,
        },
      })
      .get('/:permanentId/openai/*', openai, pathOp(OPENAI, 'Get', false))
      .post('/:permanentId/openai/*', openai, pathOp(OPENAI, 'Post', true))
      .put('/:permanentId/openai/*', openai, pathOp(OPENAI, 'Put', true))
      .patch('/:permanentId/openai/*', openai, pathOp(OPENAI, 'Patch', true))
      .delete('/:permanentId/openai/*', openai, pathOp(OPENAI, 'Delete', false))
      .options('/:permanentId/openai/*', openai, hidden)
  )
}
