import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { AgentParams, responses } from '../../http/schemas'
import { listMessages, markRead } from './inbox'
import { BroadcastBody, Broadcasted, Inbox, InboxQuery, MarkedRead, ReadBody, SendBody, Sent } from './model'
import { broadcastMessage, sendMessage } from './send'

/** Agent messaging (seed 004): the workspace key, or the agent's own token. */
export const messageRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api/agents/:agentId/messages', tags: ['messages'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post('/send', ({ ctx, params, body }) => sendMessage({ ctx, input: { ...body, ...params } }), {
      asMember: true,
      params: AgentParams,
      parse: 'json',
      body: SendBody,
      response: responses({ 200: Sent }),
      detail: {
        operationId: 'sendMessage',
        summary: 'Send a message from this agent to another agent of the workspace',
      },
    })
    .post('/broadcast', ({ ctx, params, body }) => broadcastMessage({ ctx, input: { ...body, ...params } }), {
      asMember: true,
      params: AgentParams,
      parse: 'json',
      body: BroadcastBody,
      response: responses({ 200: Broadcasted }),
      detail: {
        operationId: 'broadcastMessage',
        summary: 'Send a message from this agent to every other agent of the workspace',
      },
    })
    .get('', ({ ctx, params, query }) => listMessages({ ctx, input: { ...query, ...params } }), {
      asMember: true,
      params: AgentParams,
      query: InboxQuery,
      response: responses({ 200: Inbox }),
      detail: {
        operationId: 'listMessages',
        summary: "The agent's inbox (unread only by default), oldest first",
      },
    })
    .post('/read', ({ ctx, params, body }) => markRead({ ctx, input: { ...body, ...params } }), {
      asMember: true,
      params: AgentParams,
      parse: 'json',
      body: ReadBody,
      response: responses({ 200: MarkedRead }),
      detail: { operationId: 'markMessagesRead', summary: 'Mark messages of the inbox read' },
    })
