import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { ActorType, AgentStatus, JsonObject, Presence, Protocols } from './types'

// Column helpers: the Postgres twin (pg.ts) defines the same names with native types.
const id = (name = 'id') => text(name)
const ts = (name: string) => integer(name, { mode: 'timestamp_ms' })
const json = <T>(name: string) => text(name, { mode: 'json' }).$type<T>()
const bool = (name: string) => integer(name, { mode: 'boolean' })

export const workspaces = sqliteTable('workspaces', {
  id: id().primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: ts('created_at').notNull(),
})

export const workspaceKeys = sqliteTable(
  'workspace_keys',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    hash: text('hash').notNull().unique(),
    expiresAt: ts('expires_at'),
    revokedAt: ts('revoked_at'),
    lastUsedAt: ts('last_used_at'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('workspace_keys_workspace_idx').on(t.workspaceId)],
)

export const agents = sqliteTable(
  'agents',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    permanentId: text('permanent_id').notNull().unique(),
    name: text('name').notNull(),
    description: text('description'),
    endpointUrl: text('endpoint_url'),
    webhookUrl: text('webhook_url'),
    version: text('version'),
    license: text('license'),
    programmingLanguage: text('programming_language'),
    languagesSupported: json<string[]>('languages_supported').notNull(),
    framework: text('framework'),
    label: text('label'),
    clientType: text('client_type'),
    tokenTtlSeconds: integer('token_ttl_seconds'),
    protocols: json<Protocols>('protocols').notNull(),
    externalInvocation: bool('external_invocation').notNull(),
    fallbackAgentId: id('fallback_agent_id'),
    endpointCredential: text('endpoint_credential'),
    endpointCredentialHint: text('endpoint_credential_hint'),
    endpointAuthHeader: text('endpoint_auth_header'),
    status: text('status').$type<AgentStatus>().notNull(),
    archived: bool('archived').notNull(),
    presence: text('presence').$type<Presence>().notNull(),
    reportedStatus: text('reported_status').$type<Presence>(),
    lastHeartbeatAt: ts('last_heartbeat_at'),
    lastActiveAt: ts('last_active_at'),
    lastHealthCheckAt: ts('last_health_check_at'),
    lastHealthCheckOk: bool('last_health_check_ok'),
    lastHealthCheckStatus: integer('last_health_check_status'),
    lastHealthCheckLatencyMs: integer('last_health_check_latency_ms'),
    lastHealthCheckError: text('last_health_check_error'),
    lastHealthOkAt: ts('last_health_ok_at'),
    socketSeenAt: ts('socket_seen_at'),
    taskCount: integer('task_count').notNull(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('agents_workspace_idx').on(t.workspaceId, t.id),
    index('agents_workspace_presence_idx').on(t.workspaceId, t.presence),
  ],
)

export const agentTokens = sqliteTable(
  'agent_tokens',
  {
    id: id().primaryKey(),
    agentId: id('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    workspaceId: id('workspace_id').notNull(),
    prefix: text('prefix').notNull(),
    hash: text('hash').notNull().unique(),
    expiresAt: ts('expires_at'),
    revokedAt: ts('revoked_at'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('agent_tokens_agent_idx').on(t.agentId)],
)

export const agentCapabilities = sqliteTable(
  'agent_capabilities',
  {
    agentId: id('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    workspaceId: id('workspace_id').notNull(),
    name: text('name').notNull(),
    metadata: json<JsonObject>('metadata').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.agentId, t.name] }),
    index('agent_capabilities_workspace_name_idx').on(t.workspaceId, t.name),
  ],
)

export const auditLogs = sqliteTable(
  'audit_logs',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: id('agent_id'),
    action: text('action').notNull(),
    actorType: text('actor_type').$type<ActorType>().notNull(),
    actorId: text('actor_id'),
    metadata: json<JsonObject>('metadata').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    index('audit_logs_workspace_idx').on(t.workspaceId, t.id),
    index('audit_logs_agent_idx').on(t.agentId, t.id),
  ],
)
