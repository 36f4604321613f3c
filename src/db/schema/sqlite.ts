import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import type {
  ActorType,
  AgentStatus,
  AppAuthConfig,
  CommandAction,
  CommandStatus,
  ConnectionStatus,
  ConnectionType,
  DeliveryStatus,
  JobStatus,
  JsonObject,
  JsonValue,
  MessageType,
  PoolStrategy,
  Presence,
  ProtocolName,
  Protocols,
  TriggerCallOutcome,
  TriggerTransform,
  TriggerVerifyType,
  WebhookDisabledReason,
} from './types'

// Column helpers: the Postgres twin (pg.ts) defines the same names with native types.
const id = (name = 'id') => text(name)
const ts = (name: string) => integer(name, { mode: 'timestamp_ms' })
const json = <T>(name: string) => text(name, { mode: 'json' }).$type<T>()
const bool = (name: string) => integer(name, { mode: 'boolean' })

export const workspaces = sqliteTable('workspaces', {
  id: id().primaryKey(),
  name: text('name').notNull().unique(),
  /** Sealed `whsec_…` secret that signs this workspace's callbacks; the previous one signs beside it until `…PrevUntil`. */
  webhookSecret: text('webhook_secret'),
  webhookSecretPrev: text('webhook_secret_prev'),
  webhookSecretPrevUntil: ts('webhook_secret_prev_until'),
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
    /** The size of what the owner set (fields, protocols, capabilities with metadata), as JSON bytes. */
    metadataBytes: integer('metadata_bytes').notNull().default(0),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('agents_workspace_idx').on(t.workspaceId, t.id),
    // Filters of the list (presence, label) ordered by id: a filter that matches few agents of a
    // big workspace reads only those (bench:scale), not the whole workspace.
    index('agents_workspace_presence_id_idx').on(t.workspaceId, t.presence, t.id),
    index('agents_workspace_label_idx').on(t.workspaceId, t.label, t.id),
    // The presence sweep reads the online and the idle agents by id, never the offline ones.
    index('agents_presence_idx').on(t.presence, t.id),
  ],
)

/**
 * Every agent id ever issued, UUID and permanent id, kept when the agent is deleted (the
 * agents row goes; this one stays with `deletedAt`): neither id is ever issued again, so
 * nothing that still names a deleted agent — jobs, events, caches, another workspace's
 * registration — can ever reach a different one. No foreign key: it outlives its agent.
 */
export const agentIds = sqliteTable('agent_ids', {
  id: id().primaryKey(),
  permanentId: text('permanent_id').notNull().unique(),
  workspaceId: id('workspace_id').notNull(),
  createdAt: ts('created_at').notNull(),
  deletedAt: ts('deleted_at'),
})

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
    index('agent_capabilities_workspace_name_idx').on(t.workspaceId, t.name, t.agentId),
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

export const connections = sqliteTable(
  'connections',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: id('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    targetWorkspaceId: id('target_workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    targetAgentId: id('target_agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    type: text('type').$type<ConnectionType>().notNull(),
    status: text('status').$type<ConnectionStatus>().notNull(),
    lastHeartbeatAt: ts('last_heartbeat_at'),
    acceptedAt: ts('accepted_at'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('connections_workspace_idx').on(t.workspaceId, t.id),
    index('connections_target_workspace_idx').on(t.targetWorkspaceId, t.id),
    uniqueIndex('connections_pair_idx').on(t.agentId, t.targetAgentId),
  ],
)

export const jobs = sqliteTable(
  'jobs',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    targetWorkspaceId: id('target_workspace_id').notNull(),
    connectionId: id('connection_id'),
    /** null for a job a webhook trigger made (no agent called). */
    callerAgentId: id('caller_agent_id'),
    targetAgentId: id('target_agent_id').notNull(),
    handledByAgentId: id('handled_by_agent_id').notNull(),
    status: text('status').$type<JobStatus>().notNull(),
    httpStatus: integer('http_status'),
    result: json<JsonValue>('result'),
    error: text('error'),
    callbackUrl: text('callback_url'),
    /** The webhook trigger whose call made the job (its caller is then null). */
    triggerId: text('trigger_id'),
    /** The W3C trace context of the call that created the job: its delivery, callback and report join it. */
    traceparent: text('traceparent'),
    tracestate: text('tracestate'),
    deadlineAt: ts('deadline_at').notNull(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    completedAt: ts('completed_at'),
    /** Bytes of the result and error as JSON: lets a list page stop before loading too much. */
    sizeBytes: integer('size_bytes').notNull().default(0),
  },
  (t) => [
    index('jobs_workspace_idx').on(t.workspaceId, t.id),
    index('jobs_target_idx').on(t.targetAgentId, t.id),
    index('jobs_caller_idx').on(t.callerAgentId, t.id),
    index('jobs_status_deadline_idx').on(t.status, t.deadlineAt),
  ],
)

/** The callback outbox: a delivery survives restarts until delivered, gone (410) or out of attempts. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    jobId: id('job_id'),
    /** An agent webhook: the agent whose webhook URL receives the event (job callbacks: null). */
    agentId: id('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
    /** An agent webhook: the event it carries; an agent's deliveries go out in this order. */
    eventId: integer('event_id'),
    messageId: text('message_id').notNull(),
    eventType: text('event_type').notNull(),
    url: text('url').notNull(),
    payload: json<JsonValue>('payload').notNull(),
    status: text('status').$type<DeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: ts('next_attempt_at'),
    lockedUntil: ts('locked_until'),
    lastAttemptAt: ts('last_attempt_at'),
    lastHttpStatus: integer('last_http_status'),
    lastError: text('last_error'),
    /** The trace the callback belongs to (its job's): every attempt is a hop of it. */
    traceparent: text('traceparent'),
    tracestate: text('tracestate'),
    createdAt: ts('created_at').notNull(),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_job_idx').on(t.jobId),
    uniqueIndex('webhook_deliveries_agent_event_idx').on(t.agentId, t.eventId),
    index('webhook_deliveries_agent_status_idx').on(t.agentId, t.status, t.lockedUntil),
  ],
)

export const webhookAttempts = sqliteTable(
  'webhook_attempts',
  {
    id: id().primaryKey(),
    deliveryId: id('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    at: ts('at').notNull(),
    httpStatus: integer('http_status'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    /** The first bytes of the receiver's answer, as text (agent webhooks). */
    responseExcerpt: text('response_excerpt'),
  },
  (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId, t.attempt)],
)

export const broadcastGroups = sqliteTable(
  'broadcast_groups',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    allowedCallerIds: json<string[]>('allowed_caller_ids'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('broadcast_groups_workspace_idx').on(t.workspaceId, t.id)],
)

export const broadcastGroupMembers = sqliteTable(
  'broadcast_group_members',
  {
    id: id().primaryKey(),
    groupId: id('group_id')
      .notNull()
      .references(() => broadcastGroups.id, { onDelete: 'cascade' }),
    agentId: id('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('broadcast_group_members_pair_idx').on(t.groupId, t.agentId)],
)

export const pools = sqliteTable(
  'pools',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    strategy: text('strategy').$type<PoolStrategy>().notNull(),
    allowedCallerIds: json<string[]>('allowed_caller_ids'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('pools_workspace_idx').on(t.workspaceId, t.id)],
)

export const poolMembers = sqliteTable(
  'pool_members',
  {
    id: id().primaryKey(),
    poolId: id('pool_id')
      .notNull()
      .references(() => pools.id, { onDelete: 'cascade' }),
    agentId: id('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    priority: integer('priority').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('pool_members_pair_idx').on(t.poolId, t.agentId)],
)

/** The live event log: `id` only grows and is the WebSocket cursor. */
export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: id('workspace_id').notNull(),
    type: text('type').notNull(),
    agentId: id('agent_id'),
    peerAgentId: id('peer_agent_id'),
    /** A payload stored once (a message's): the frame's `data.payload`, joined when read. */
    payloadId: id('payload_id'),
    data: json<JsonObject>('data').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    index('events_workspace_idx').on(t.workspaceId, t.id),
    index('events_agent_idx').on(t.agentId, t.id),
    index('events_peer_idx').on(t.peerAgentId, t.id),
    index('events_created_idx').on(t.createdAt),
  ],
)

export const healthChecks = sqliteTable(
  'health_checks',
  {
    id: id().primaryKey(),
    agentId: id('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    at: ts('at').notNull(),
    ok: bool('ok').notNull(),
    httpStatus: integer('http_status'),
    latencyMs: integer('latency_ms'),
    error: text('error'),
  },
  (t) => [index('health_checks_agent_idx').on(t.agentId, t.at)],
)

export const messages = sqliteTable(
  'messages',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    fromAgentId: id('from_agent_id'),
    toAgentId: id('to_agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    channel: text('channel'),
    type: text('type').$type<MessageType>().notNull(),
    payload: json<JsonValue>('payload').notNull(),
    correlationId: text('correlation_id'),
    /** Set: the payload is that `payloads` row (shared by a broadcast's messages); `payload` holds `{}`. */
    payloadId: id('payload_id'),
    expiresAt: ts('expires_at'),
    readAt: ts('read_at'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('messages_inbox_idx').on(t.toAgentId, t.id), index('messages_expires_idx').on(t.expiresAt)],
)

export const commands = sqliteTable(
  'commands',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: id('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    action: text('action').$type<CommandAction>().notNull(),
    params: json<JsonObject>('params').notNull(),
    status: text('status').$type<CommandStatus>().notNull(),
    result: json<JsonValue>('result'),
    createdAt: ts('created_at').notNull(),
    deliveredAt: ts('delivered_at'),
    ackedAt: ts('acked_at'),
  },
  (t) => [
    index('commands_agent_idx').on(t.agentId, t.status, t.id),
    index('commands_workspace_status_idx').on(t.workspaceId, t.status),
  ],
)

/** An agent's webhook settings and health beside `agents.webhook_url`; no row means the defaults. */
export const agentWebhooks = sqliteTable('agent_webhooks', {
  agentId: id('agent_id')
    .primaryKey()
    .references(() => agents.id, { onDelete: 'cascade' }),
  workspaceId: id('workspace_id').notNull(),
  /** The event types sent; null: every type an agent webhook carries. */
  events: json<string[]>('events'),
  /** Sealed `whsec_…` of the agent's own; null: the workspace's secret signs. */
  secret: text('secret'),
  secretPrev: text('secret_prev'),
  secretPrevUntil: ts('secret_prev_until'),
  /** Since when every attempt has failed (null: the last one succeeded). */
  failingSince: ts('failing_since'),
  disabledAt: ts('disabled_at'),
  disabledReason: text('disabled_reason').$type<WebhookDisabledReason>(),
  updatedAt: ts('updated_at').notNull(),
})

/** Webhook triggers: `POST /hooks/{id}` turns a verified call into a job for the agent. */
export const triggers = sqliteTable(
  'triggers',
  {
    /** `trg_` + 160 random bits: the public URL's secret part as well as the id. */
    id: text('id').primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: id('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    protocol: text('protocol').$type<ProtocolName>(),
    verifyType: text('verify_type').$type<TriggerVerifyType>().notNull(),
    verifyHeader: text('verify_header'),
    /** Sealed; the hint is its last 4 characters. */
    verifySecret: text('verify_secret'),
    verifySecretHint: text('verify_secret_hint'),
    transform: text('transform').$type<TriggerTransform>().notNull(),
    enabled: bool('enabled').notNull(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('triggers_workspace_idx').on(t.workspaceId, t.createdAt)],
)

/** Verified calls of a trigger: the job each made, and the delivery id that deduplicates retries. */
export const triggerCalls = sqliteTable(
  'trigger_calls',
  {
    id: id().primaryKey(),
    triggerId: text('trigger_id')
      .notNull()
      .references(() => triggers.id, { onDelete: 'cascade' }),
    workspaceId: id('workspace_id').notNull(),
    jobId: id('job_id'),
    outcome: text('outcome').$type<TriggerCallOutcome>().notNull(),
    /** `header:value` of the delivery id; cleared once the dedup window has passed. */
    dedupeKey: text('dedupe_key'),
    deliveryId: text('delivery_id'),
    sourceIp: text('source_ip'),
    contentType: text('content_type'),
    bytes: integer('bytes').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('trigger_calls_dedupe_idx').on(t.triggerId, t.dedupeKey),
    index('trigger_calls_trigger_idx').on(t.triggerId, t.id),
    index('trigger_calls_created_idx').on(t.createdAt),
  ],
)

/**
 * Console sign-ins. `hash` is the SHA-256 of the cookie's opaque value (the value itself is
 * never stored); a session acts as the workspace key it was opened with and ends with it.
 */
export const consoleSessions = sqliteTable(
  'console_sessions',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    keyId: id('key_id')
      .notNull()
      .references(() => workspaceKeys.id, { onDelete: 'cascade' }),
    hash: text('hash').notNull().unique(),
    createdAt: ts('created_at').notNull(),
    lastSeenAt: ts('last_seen_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('console_sessions_key_idx').on(t.keyId)],
)

/**
 * A third-party API the workspace's agents may call through Switchboard: its base URL, how to
 * authenticate (the secret sealed under the master key with the row id as additional data,
 * `secretVersion` bumped on every change of auth), and what the agents may do with it.
 */
export const appConnections = sqliteTable(
  'app_connections',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    baseUrl: text('base_url').notNull(),
    auth: json<AppAuthConfig>('auth').notNull(),
    secret: text('secret').notNull(),
    secretHint: text('secret_hint'),
    secretVersion: integer('secret_version').notNull(),
    allowedAgentIds: json<string[]>('allowed_agent_ids'),
    allowedMethods: json<string[]>('allowed_methods'),
    allowedPathPrefixes: json<string[]>('allowed_path_prefixes'),
    timeoutMs: integer('timeout_ms'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('app_connections_workspace_idx').on(t.workspaceId, t.id),
    uniqueIndex('app_connections_name_idx').on(t.workspaceId, t.name),
  ],
)

/**
 * A message payload stored once, however many inboxes (and their events) carry it: a
 * broadcast to a hundred agents writes its payload one time. It lives as long as its messages.
 */
export const payloads = sqliteTable(
  'payloads',
  {
    id: id().primaryKey(),
    workspaceId: id('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    payload: json<JsonValue>('payload').notNull(),
    bytes: integer('bytes').notNull(),
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('payloads_expires_idx').on(t.expiresAt)],
)

/**
 * What a workspace holds of the things counted too often to count each time: messages and
 * their payload bytes. Kept in the transactions that add and remove them.
 */
export const workspaceUsage = sqliteTable('workspace_usage', {
  workspaceId: id('workspace_id')
    .primaryKey()
    .references(() => workspaces.id, { onDelete: 'cascade' }),
  messages: integer('messages').notNull(),
  messageBytes: integer('message_bytes').notNull(),
})
