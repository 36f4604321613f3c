import { Elysia } from 'elysia'
import { z } from 'zod'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import {
  AgentParams,
  AgentRef,
  cursorQuery,
  limitQuery,
  NextCursor,
  responses,
  Timestamp,
} from '../../http/schemas'
import { listAgentAuditLogs, listAuditLogs } from './service'

const AuditLog = z
  .object({
    id: z.uuid(),
    action: z.string(),
    agentId: z.uuid().nullable(),
    actorType: z.enum(['admin', 'workspace_key', 'agent', 'system']),
    actorId: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    timestamp: Timestamp,
  })
  .meta({ id: 'AuditLog' })
const AuditList = z.object({ logs: z.array(AuditLog), nextCursor: NextCursor }).meta({ id: 'AuditLogList' })
const Filters = z.object({
  action: z.string().max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: limitQuery,
  cursor: cursorQuery,
})

export const auditRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['audit'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .get('/audit-logs', ({ ctx, query }) => listAuditLogs({ ctx, input: query }), {
      asWorkspace: true,
      query: Filters.extend({ agentId: AgentRef.optional() }),
      response: responses({ 200: AuditList }),
      detail: { operationId: 'listAuditLogs', summary: 'Audit log of the workspace, newest first' },
    })
    .get(
      '/agents/:agentId/audit-logs',
      ({ ctx, query, params }) => listAgentAuditLogs({ ctx, input: { ...query, ...params } }),
      {
        asWorkspace: true,
        params: AgentParams,
        query: Filters,
        response: responses({ 200: AuditList }),
        detail: { operationId: 'listAgentAuditLogs', summary: 'Audit log of one agent, newest first' },
      },
    )
