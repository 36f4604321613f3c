import { Elysia } from 'elysia'
import { z } from 'zod'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { AgentParams, PageQuery, responses, Uuid } from '../../http/schemas'
import { notFound } from '../../lib/errors'
import {
  Agent,
  AgentList,
  CapabilitiesBody,
  CapabilitiesView,
  CapabilityMatches,
  CredentialBody,
  Deleted,
  ExpiringAgents,
  ExpiringQuery,
  ListQuery,
  OrchestrationView,
  ProvisionBody,
  Provisioned,
  RegisterBody,
  RegisteredAgent,
  UpdateBody,
} from './model'
import { orchestration } from './orchestration'
import { agentsByCapability, expiringTokens, getAgent, listAgents, me } from './query'
import { provisionAgent, registerAgent } from './register'
import {
  clearEndpointCredential,
  deleteAgent,
  mergeCapabilities,
  replaceCapabilities,
  setEndpointCredential,
  updateAgent,
} from './update'

const TeamParams = z.object({ teamId: Uuid })

export const agentRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['agents'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post(
      '/agents',
      ({ ctx, body, set }) => {
        set.status = 201
        return registerAgent({ ctx, input: body })
      },
      {
        asWorkspace: true,
        secretAnswer: true,
        body: RegisterBody,
        parse: 'json',
        response: responses({ 201: RegisteredAgent }, [400, 401, 403, 409]),
        detail: {
          operationId: 'registerAgent',
          summary: 'Register an agent; the answer carries its token, shown once',
        },
      },
    )
    .post(
      '/agents/provision',
      ({ ctx, body, set }) => {
        set.status = 201
        return provisionAgent({ ctx, input: body })
      },
      {
        asWorkspace: true,
        secretAnswer: true,
        body: ProvisionBody,
        parse: 'json',
        response: responses({ 201: Provisioned }, [400, 401, 403]),
        detail: {
          operationId: 'provisionAgent',
          summary: 'Provision a short-lived agent token for an AI tool runtime',
        },
      },
    )
    .get('/agents', ({ ctx, query }) => listAgents({ ctx, input: query }), {
      asWorkspace: true,
      query: ListQuery,
      response: responses({ 200: AgentList }, [400, 401, 403]),
      detail: {
        operationId: 'listAgents',
        summary: 'List agents (filters: status, online, presence, label, capability, q, archived)',
      },
    })
    .get(
      '/agents/online',
      ({ ctx, query }) => listAgents({ ctx, input: { ...query, online: 'true', archived: 'false' } }),
      {
        asWorkspace: true,
        query: PageQuery,
        response: responses({ 200: AgentList }, [400, 401, 403]),
        detail: { operationId: 'listOnlineAgents', summary: 'Agents whose presence is online' },
      },
    )
    .get(
      '/agents/by-capability/:name',
      ({ ctx, query, params }) => agentsByCapability({ ctx, input: { ...query, name: params.name } }),
      {
        asWorkspace: true,
        params: z.object({ name: z.string().min(1).max(100) }),
        query: PageQuery,
        response: responses({ 200: CapabilityMatches }, [400, 401, 403]),
        detail: { operationId: 'listAgentsByCapability', summary: 'Agents that have a capability' },
      },
    )
    .get('/agents/expiring-tokens', ({ ctx, query }) => expiringTokens({ ctx, input: query }), {
      asWorkspace: true,
      query: ExpiringQuery,
      response: responses({ 200: ExpiringAgents }, [400, 401, 403]),
      detail: {
        operationId: 'listExpiringTokens',
        summary: 'Agents whose token expires within the given hours',
      },
    })
    .get('/agents/orchestration', ({ ctx, query }) => orchestration({ ctx, input: query }), {
      asWorkspace: true,
      query: PageQuery,
      response: responses({ 200: OrchestrationView }, [400, 401, 403]),
      detail: {
        operationId: 'getOrchestration',
        summary: 'Live agents with their capabilities, protocols and connections',
      },
    })
    .get('/agents/me', ({ ctx }) => me({ ctx }), {
      asAgent: true,
      response: responses({ 200: Agent }, [401, 403]),
      detail: { operationId: 'getMe', summary: "The calling agent's own identity (agent token)" },
    })
    .get('/agents/:agentId', ({ ctx, params }) => getAgent({ ctx, input: params }), {
      asWorkspace: true,
      params: AgentParams,
      response: responses({ 200: Agent }),
      detail: { operationId: 'getAgent', summary: 'One agent, by UUID or permanent id' },
    })
    .patch(
      '/agents/:agentId',
      ({ ctx, params, body }) => updateAgent({ ctx, input: { ...body, ...params } }),
      {
        asWorkspace: true,
        params: AgentParams,
        body: UpdateBody,
        parse: 'json',
        response: responses({ 200: Agent }),
        detail: {
          operationId: 'updateAgent',
          summary: 'Change any registration field; status inactive/active; archived true/false',
        },
      },
    )
    .delete('/agents/:agentId', ({ ctx, params }) => deleteAgent({ ctx, input: params }), {
      asWorkspace: true,
      params: AgentParams,
      response: responses({ 200: Deleted }),
      detail: {
        operationId: 'deleteAgent',
        summary: 'Delete an agent for good; its token stops working at once',
      },
    })
    .put(
      '/agents/:agentId/endpoint-credential',
      ({ ctx, params, body }) => setEndpointCredential({ ctx, input: { ...body, ...params } }),
      {
        asWorkspace: true,
        params: AgentParams,
        body: CredentialBody,
        parse: 'json',
        response: responses({ 200: Agent }),
        detail: {
          operationId: 'setEndpointCredential',
          summary: 'Set the credential Switchboard sends to the endpoint (write-only)',
        },
      },
    )
    .delete(
      '/agents/:agentId/endpoint-credential',
      ({ ctx, params }) => clearEndpointCredential({ ctx, input: params }),
      {
        asWorkspace: true,
        params: AgentParams,
        response: responses({ 200: Agent }),
        detail: { operationId: 'clearEndpointCredential', summary: 'Clear the endpoint credential' },
      },
    )
    .put(
      '/agents/:agentId/capabilities',
      ({ ctx, params, body }) => replaceCapabilities({ ctx, input: { ...body, ...params } }),
      {
        asMember: true,
        params: AgentParams,
        body: CapabilitiesBody,
        parse: 'json',
        response: responses({ 200: CapabilitiesView }),
        detail: {
          operationId: 'replaceCapabilities',
          summary: 'Replace the capability list (workspace key, or the agent itself)',
        },
      },
    )
    .post(
      '/agents/:agentId/capabilities',
      ({ ctx, params, body }) => mergeCapabilities({ ctx, input: { ...body, ...params } }),
      {
        asMember: true,
        params: AgentParams,
        body: CapabilitiesBody,
        parse: 'json',
        response: responses({ 200: CapabilitiesView }),
        detail: {
          operationId: 'mergeCapabilities',
          summary: 'Merge capabilities by name (workspace key, or the agent itself)',
        },
      },
    )
    // Team-scoped aliases (seed 003): the team is the workspace.
    .get(
      '/teams/:teamId/agents',
      ({ ctx, params, query }) => {
        if (params.teamId !== ctx.actor.workspaceId) throw notFound('Team')
        return listAgents({ ctx, input: query })
      },
      {
        asWorkspace: true,
        params: TeamParams,
        query: ListQuery,
        response: responses({ 200: AgentList }),
        detail: {
          operationId: 'listTeamAgents',
          summary: 'List the agents of a team (alias of GET /api/agents)',
          tags: ['teams'],
        },
      },
    )
    .post(
      '/teams/:teamId/agents',
      ({ ctx, params, body, set }) => {
        if (params.teamId !== ctx.actor.workspaceId) throw notFound('Team')
        set.status = 201
        return registerAgent({ ctx, input: body })
      },
      {
        asWorkspace: true,
        secretAnswer: true,
        params: TeamParams,
        body: RegisterBody,
        parse: 'json',
        response: responses({ 201: RegisteredAgent }, [400, 401, 403, 404, 409]),
        detail: {
          operationId: 'registerTeamAgent',
          summary: 'Register an agent in a team (alias of POST /api/agents)',
          tags: ['teams'],
        },
      },
    )
