import { z } from 'zod'
import { AgentRef, JsonValue, NextCursor, NullableTimestamp, Timestamp } from '../../http/schemas'
import { PROTOCOLS, type ProtocolName, ProtocolNameSchema } from '../../lib/protocols'
import { HealthCheck } from '../health/model'
import { webhookRegisterFields, webhookUpdateFields } from '../webhooks/model'

export const CLIENT_TYPES = [
  'cursor',
  'windsurf',
  'copilot',
  'cline',
  'aider',
  'continue',
  'bolt',
  'v0',
  'replit',
  'custom',
] as const

/** Headers Switchboard sets or that describe the connection: an endpoint credential may not use them. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
  'cookie',
  'x-request-id',
])

export const HttpUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v)
      return (
        (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.username && !u.password
      )
    } catch {
      return false
    }
  }, 'must be an absolute http(s) URL without user:password')

const shortText = (max: number) => z.string().trim().max(max)

const JsonMetadata = z
  .record(z.string().max(100), JsonValue)
  .refine((m) => JSON.stringify(m).length <= 8192, 'metadata is limited to 8 KB of JSON')

export const Capability = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / -'),
    metadata: JsonMetadata.optional(),
  })
  .meta({ id: 'CapabilityInput' })
export const Capabilities = z
  .array(Capability)
  .max(100)
  .refine((caps) => new Set(caps.map((c) => c.name)).size === caps.length, 'capability names must be unique')

export const ProtocolSetting = z.strictObject({ enabled: z.boolean(), url: HttpUrl.nullable().optional() })
export const ProtocolsInput = z
  .strictObject(
    Object.fromEntries(PROTOCOLS.map((p) => [p, ProtocolSetting.optional()])) as Record<
      ProtocolName,
      z.ZodOptional<typeof ProtocolSetting>
    >,
  )
  .meta({ id: 'ProtocolSettings', description: 'Per protocol: enabled, and the URL it is served at' })

export const HeaderName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
  .refine((h) => !RESERVED_HEADERS.has(h.toLowerCase()) && !h.toLowerCase().startsWith('x-switchboard-'), {
    message: 'this header is set by Switchboard and cannot carry the credential',
  })

/** Fields an owner may set at registration and change later. */
const editable = {
  name: z.string().trim().min(1).max(100),
  description: shortText(2000).nullable(),
  endpointUrl: HttpUrl.nullable(),
  webhookUrl: HttpUrl.nullable(),
  version: shortText(50).nullable(),
  license: shortText(100).nullable().describe('SPDX identifier, e.g. MIT'),
  programmingLanguage: shortText(50).nullable(),
  languagesSupported: z.array(z.string().trim().min(1).max(35)).max(50),
  framework: shortText(100).nullable(),
  label: shortText(100).nullable(),
  capabilities: Capabilities,
  endpointCredential: z
    .string()
    .min(1)
    .max(4096)
    .describe('Write-only: sent to the endpoint, never shown again'),
  endpointAuthHeader: HeaderName.describe(
    'Header that carries the endpoint credential (default Authorization: Bearer)',
  ),
  protocols: ProtocolsInput,
  externalInvocation: z.boolean(),
  fallbackAgentId: AgentRef.nullable(),
  tokenTtlSeconds: z.number().int().min(60).max(31_536_000).nullable(),
}

export const RegisterBody = z
  .strictObject({
    ...editable,
    description: editable.description.optional(),
    endpointUrl: editable.endpointUrl.optional(),
    webhookUrl: editable.webhookUrl.optional(),
    version: editable.version.optional(),
    license: editable.license.optional(),
    programmingLanguage: editable.programmingLanguage.optional(),
    languagesSupported: editable.languagesSupported.optional(),
    framework: editable.framework.optional(),
    label: editable.label.optional(),
    capabilities: editable.capabilities.optional(),
    endpointCredential: editable.endpointCredential.optional(),
    endpointAuthHeader: editable.endpointAuthHeader.optional(),
    protocols: editable.protocols.optional(),
    externalInvocation: editable.externalInvocation.optional(),
    fallbackAgentId: editable.fallbackAgentId.optional(),
    tokenTtlSeconds: editable.tokenTtlSeconds.optional(),
    ...webhookRegisterFields,
    token: z
      .string()
      .min(32)
      .max(256)
      .optional()
      .describe('A pre-generated agent token (≥ 32 characters, not starting with tk_ or wk_)'),
    agentId: z.uuid().optional().describe('Use this UUID as the agent id (seed-004 clients)'),
  })
  .meta({
    id: 'RegisterAgentRequest',
    examples: [
      {
        name: 'research-bot',
        description: 'Answers research questions',
        endpointUrl: 'https://agents.example.com/research',
        capabilities: [{ name: 'search', metadata: { engines: ['web'] } }],
        protocols: { mcp: { enabled: true, url: 'https://agents.example.com/research/mcp' } },
      },
    ],
  })
export type RegisterInput = z.infer<typeof RegisterBody>

export const UpdateBody = z
  .strictObject({
    ...Object.fromEntries(Object.entries(editable).map(([k, v]) => [k, v.optional()])),
    endpointCredential: editable.endpointCredential.nullable().optional(),
    endpointAuthHeader: editable.endpointAuthHeader.nullable().optional(),
    status: z.enum(['active', 'inactive']).optional(),
    archived: z.boolean().optional(),
    ...webhookUpdateFields,
  } as typeof webhookUpdateFields & {
    [K in Exclude<keyof typeof editable, 'endpointCredential' | 'endpointAuthHeader'>]: z.ZodOptional<
      (typeof editable)[K]
    >
  } & {
    endpointCredential: z.ZodOptional<z.ZodNullable<typeof editable.endpointCredential>>
    endpointAuthHeader: z.ZodOptional<z.ZodNullable<typeof editable.endpointAuthHeader>>
    status: z.ZodOptional<z.ZodEnum<{ active: 'active'; inactive: 'inactive' }>>
    archived: z.ZodOptional<z.ZodBoolean>
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to update')
  .meta({ id: 'UpdateAgentRequest', examples: [{ label: 'prod', status: 'inactive' }] })
export type UpdateInput = z.infer<typeof UpdateBody>

export const ProvisionBody = z
  .strictObject({
    clientType: z.enum(CLIENT_TYPES),
    name: z.string().trim().min(1).max(100).optional(),
    label: shortText(100).optional(),
    ttlSeconds: z.number().int().min(60).max(86_400).default(7200),
  })
  .meta({
    id: 'ProvisionAgentRequest',
    examples: [{ clientType: 'cursor', name: 'cursor-laptop', ttlSeconds: 3600 }],
  })

/** What an agent answer looks like (the examples of the documented schemas). */
const AGENT_EXAMPLE = {
  id: '0b7f8a52-3c1e-4d0a-9f1b-6a2f4c8d9e10',
  permanentId: 'agt-k3v9x2mq',
  workspaceId: '5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  name: 'research-bot',
  description: 'Answers research questions',
  endpointUrl: 'https://agents.example.com/research',
  webhookUrl: null,
  webhookEvents: ['connection.created', 'job.created', 'message.received'],
  hasWebhookSecret: false,
  webhookEnabled: true,
  webhookDisabledAt: null,
  webhookDisabledReason: null,
  webhookFailingSince: null,
  version: '1.2.0',
  license: 'MIT',
  programmingLanguage: 'typescript',
  languagesSupported: ['en'],
  framework: null,
  label: null,
  clientType: null,
  capabilities: [{ name: 'search', metadata: { engines: ['web'] } }],
  protocols: { mcp: { enabled: true, url: 'https://agents.example.com/research/mcp' } },
  externalInvocation: false,
  fallbackAgentId: null,
  hasEndpointCredential: false,
  endpointCredentialHint: null,
  endpointAuthHeader: 'Authorization',
  status: 'active',
  archived: false,
  presence: 'online',
  isOnline: true,
  lastHeartbeatAt: '2026-12-01T09:30:12.000Z',
  lastActiveAt: '2026-12-01T09:30:12.000Z',
  lastHealthCheck: null,
  taskCount: 0,
  tokenPrefix: 'tk_3fA9',
  tokenExpiresAt: null,
  tokenTtlSeconds: null,
  createdAt: '2026-12-01T09:00:00.000Z',
  updatedAt: '2026-12-01T09:30:12.000Z',
}

const ProtocolsView = z
  .partialRecord(ProtocolNameSchema, z.object({ enabled: z.boolean(), url: z.string().nullable() }))
  .meta({ id: 'AgentProtocols', description: 'Per protocol: enabled, and the URL it is served at' })

/** A capability as the registry answers it. */
export const AgentCapability = z
  .object({ name: z.string(), metadata: z.record(z.string(), z.unknown()) })
  .meta({ id: 'AgentCapability' })

export const Agent = z
  .object({
    id: z.uuid(),
    permanentId: z.string(),
    workspaceId: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    endpointUrl: z.string().nullable(),
    webhookUrl: z.string().nullable(),
    webhookEvents: z.array(z.string()).describe('The event types the webhook URL receives'),
    hasWebhookSecret: z.boolean().describe('The agent signs its webhooks with a secret of its own'),
    webhookEnabled: z.boolean().describe('false once disabled (failing too long, 410 Gone, or by hand)'),
    webhookDisabledAt: NullableTimestamp,
    webhookDisabledReason: z.enum(['failing', 'gone', 'manual']).nullable(),
    webhookFailingSince: NullableTimestamp.describe('Since when every webhook attempt has failed'),
    version: z.string().nullable(),
    license: z.string().nullable(),
    programmingLanguage: z.string().nullable(),
    languagesSupported: z.array(z.string()),
    framework: z.string().nullable(),
    label: z.string().nullable(),
    clientType: z.string().nullable(),
    capabilities: z.array(AgentCapability),
    protocols: ProtocolsView,
    externalInvocation: z.boolean(),
    fallbackAgentId: z.uuid().nullable(),
    hasEndpointCredential: z.boolean(),
    endpointCredentialHint: z.string().nullable().describe('Last 4 characters of the endpoint credential'),
    endpointAuthHeader: z.string(),
    status: z.enum(['active', 'inactive']),
    archived: z.boolean(),
    presence: z.enum(['online', 'idle', 'offline']),
    isOnline: z.boolean(),
    lastHeartbeatAt: NullableTimestamp,
    lastActiveAt: NullableTimestamp,
    lastHealthCheck: HealthCheck.nullable(),
    taskCount: z.number().int(),
    tokenPrefix: z.string().nullable(),
    tokenExpiresAt: NullableTimestamp,
    tokenTtlSeconds: z.number().int().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Agent', examples: [AGENT_EXAMPLE] })

export const RegisteredAgent = z
  .object({ agent: Agent, token: z.string().describe('The agent token. Shown once.') })
  .meta({ id: 'RegisteredAgent', examples: [{ agent: AGENT_EXAMPLE, token: 'tk_3fA9…' }] })
export const AgentList = z
  .object({ agents: z.array(Agent), nextCursor: NextCursor })
  .meta({ id: 'AgentList', examples: [{ agents: [AGENT_EXAMPLE], nextCursor: null }] })

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
  status: z.enum(['active', 'inactive']).optional(),
  online: z.enum(['true', 'false']).optional(),
  presence: z.enum(['online', 'idle', 'offline']).optional(),
  label: z.string().max(100).optional(),
  capability: z.string().max(100).optional(),
  q: z
    .string()
    .max(100)
    .optional()
    .describe(
      'Case-insensitive substring of the name or the description. One or two characters read 5,000 agents a page: such a page can be short or empty while nextCursor goes on',
    ),
  archived: z.enum(['true', 'false', 'any']).default('false'),
})
export type ListInput = z.infer<typeof ListQuery>

export const Provisioned = z
  .object({
    agentId: z.uuid(),
    permanentId: z.string(),
    token: z.string(),
    expiresAt: Timestamp,
    workspaceId: z.uuid(),
    workspaceName: z.string(),
  })
  .meta({ id: 'ProvisionedAgent' })

export const CapabilityMatch = z
  .object({
    id: z.uuid(),
    permanentId: z.string(),
    name: z.string(),
    presence: z.enum(['online', 'idle', 'offline']),
    isOnline: z.boolean(),
    capability: AgentCapability,
  })
  .meta({ id: 'CapabilityMatch' })
export const CapabilityMatches = z
  .object({ agents: z.array(CapabilityMatch), nextCursor: NextCursor })
  .meta({ id: 'CapabilityMatchList' })

export const ExpiringQuery = z.object({
  withinHours: z.coerce.number().min(0).max(8760).default(24),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
})
export const ExpiringAgents = z
  .object({
    agents: z.array(
      z
        .object({
          id: z.uuid(),
          permanentId: z.string(),
          name: z.string(),
          tokenPrefix: z.string(),
          tokenExpiresAt: Timestamp,
          hoursUntilExpiry: z.number(),
        })
        .meta({ id: 'ExpiringToken' }),
    ),
    nextCursor: NextCursor,
  })
  .meta({ id: 'ExpiringTokenList' })

export const CredentialBody = z
  .strictObject({
    endpointCredential: editable.endpointCredential,
    endpointAuthHeader: editable.endpointAuthHeader.optional(),
  })
  .meta({ id: 'SetEndpointCredentialRequest' })
export const CapabilitiesBody = z.strictObject({ capabilities: Capabilities }).meta({
  id: 'CapabilitiesRequest',
  examples: [{ capabilities: [{ name: 'search' }, { name: 'summarize' }] }],
})
export const CapabilitiesView = z
  .object({ capabilities: z.array(AgentCapability) })
  .meta({ id: 'CapabilityList' })

export const RotateBody = z
  .strictObject({
    ttlSeconds: z.number().int().min(60).max(31_536_000).optional(),
    graceSeconds: z.number().int().min(0).max(3600).default(0),
  })
  .default({ graceSeconds: 0 })
  .meta({ id: 'RotateTokenRequest', examples: [{ graceSeconds: 300 }] })
export const Rotated = z
  .object({
    token: z.string().describe('The new agent token. Shown once.'),
    tokenPrefix: z.string(),
    expiresAt: NullableTimestamp,
    previousTokenValidUntil: NullableTimestamp.describe(
      'Until when the previous token still works (null: ended now)',
    ),
  })
  .meta({ id: 'RotatedToken' })

export const Deleted = z
  .object({ id: z.uuid(), permanentId: z.string(), deleted: z.literal(true) })
  .meta({ id: 'DeletedAgent' })

export const OrchestrationView = z
  .object({
    agents: z.array(
      z
        .object({
          id: z.uuid(),
          permanentId: z.string(),
          name: z.string(),
          label: z.string().nullable(),
          status: z.enum(['active', 'inactive']),
          presence: z.enum(['online', 'idle', 'offline']),
          isOnline: z.boolean(),
          lastHeartbeatAt: NullableTimestamp,
          capabilities: z.array(AgentCapability),
          protocols: ProtocolsView,
          connections: z.array(
            z.object({
              id: z.uuid(),
              type: z.enum(['private', 'board']),
              status: z.enum(['active', 'pending', 'declined']),
              direction: z.enum(['outgoing', 'incoming']),
              peerAgentId: z.uuid(),
              peerPermanentId: z.string(),
            }),
          ),
        })
        .meta({ id: 'OrchestrationAgent' }),
    ),
    nextCursor: NextCursor,
  })
  .meta({ id: 'Orchestration' })
