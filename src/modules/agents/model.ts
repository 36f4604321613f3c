import { z } from 'zod'
import { AgentRef, NextCursor, NullableTimestamp, Timestamp } from '../../http/schemas'
import { PROTOCOLS, type ProtocolName, ProtocolNameSchema } from '../../lib/protocols'

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
  .record(z.string().max(100), z.json())
  .refine((m) => JSON.stringify(m).length <= 8192, 'metadata is limited to 8 KB of JSON')

export const Capability = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / -'),
  metadata: JsonMetadata.optional(),
})
export const Capabilities = z
  .array(Capability)
  .max(100)
  .refine((caps) => new Set(caps.map((c) => c.name)).size === caps.length, 'capability names must be unique')

export const ProtocolSetting = z.strictObject({ enabled: z.boolean(), url: HttpUrl.nullable().optional() })
export const ProtocolsInput = z.strictObject(
  Object.fromEntries(PROTOCOLS.map((p) => [p, ProtocolSetting.optional()])) as Record<
    ProtocolName,
    z.ZodOptional<typeof ProtocolSetting>
  >,
)

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

export const RegisterBody = z.strictObject({
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
  token: z
    .string()
    .min(32)
    .max(256)
    .optional()
    .describe('A pre-generated agent token (≥ 32 characters, not starting with tk_ or wk_)'),
  agentId: z.uuid().optional().describe('Use this UUID as the agent id (seed-004 clients)'),
})
export type RegisterInput = z.infer<typeof RegisterBody>

export const UpdateBody = z
  .strictObject({
    ...Object.fromEntries(Object.entries(editable).map(([k, v]) => [k, v.optional()])),
    endpointCredential: editable.endpointCredential.nullable().optional(),
    endpointAuthHeader: editable.endpointAuthHeader.nullable().optional(),
    status: z.enum(['active', 'inactive']).optional(),
    archived: z.boolean().optional(),
  } as {
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
export type UpdateInput = z.infer<typeof UpdateBody>

export const ProvisionBody = z.strictObject({
  clientType: z.enum(CLIENT_TYPES),
  name: z.string().trim().min(1).max(100).optional(),
  label: shortText(100).optional(),
  ttlSeconds: z.number().int().min(60).max(86_400).default(7200),
})

export const HealthCheckView = z
  .object({
    at: Timestamp,
    ok: z.boolean(),
    httpStatus: z.number().int().nullable(),
    latencyMs: z.number().int().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'HealthCheck' })

const ProtocolsView = z.partialRecord(
  ProtocolNameSchema,
  z.object({ enabled: z.boolean(), url: z.string().nullable() }),
)

export const Agent = z
  .object({
    id: z.uuid(),
    permanentId: z.string(),
    workspaceId: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    endpointUrl: z.string().nullable(),
    webhookUrl: z.string().nullable(),
    version: z.string().nullable(),
    license: z.string().nullable(),
    programmingLanguage: z.string().nullable(),
    languagesSupported: z.array(z.string()),
    framework: z.string().nullable(),
    label: z.string().nullable(),
    clientType: z.string().nullable(),
    capabilities: z.array(z.object({ name: z.string(), metadata: z.record(z.string(), z.unknown()) })),
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
    lastHealthCheck: HealthCheckView.nullable(),
    taskCount: z.number().int(),
    tokenPrefix: z.string().nullable(),
    tokenExpiresAt: NullableTimestamp,
    tokenTtlSeconds: z.number().int().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Agent' })

export const RegisteredAgent = z.object({
  agent: Agent,
  token: z.string().describe('The agent token. Shown once.'),
})
export const AgentList = z.object({ agents: z.array(Agent), nextCursor: NextCursor })

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
  status: z.enum(['active', 'inactive']).optional(),
  online: z.enum(['true', 'false']).optional(),
  presence: z.enum(['online', 'idle', 'offline']).optional(),
  label: z.string().max(100).optional(),
  capability: z.string().max(100).optional(),
  q: z.string().max(100).optional().describe('Case-insensitive search in name and description'),
  archived: z.enum(['true', 'false', 'any']).default('false'),
})
export type ListInput = z.infer<typeof ListQuery>

export const Provisioned = z.object({
  agentId: z.uuid(),
  permanentId: z.string(),
  token: z.string(),
  expiresAt: Timestamp,
  workspaceId: z.uuid(),
  workspaceName: z.string(),
})

export const CapabilityMatch = z.object({
  id: z.uuid(),
  permanentId: z.string(),
  name: z.string(),
  presence: z.enum(['online', 'idle', 'offline']),
  isOnline: z.boolean(),
  capability: z.object({ name: z.string(), metadata: z.record(z.string(), z.unknown()) }),
})
export const CapabilityMatches = z.object({ agents: z.array(CapabilityMatch), nextCursor: NextCursor })

export const ExpiringQuery = z.object({
  withinHours: z.coerce.number().min(0).max(8760).default(24),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
})
export const ExpiringAgents = z.object({
  agents: z.array(
    z.object({
      id: z.uuid(),
      permanentId: z.string(),
      name: z.string(),
      tokenPrefix: z.string(),
      tokenExpiresAt: Timestamp,
      hoursUntilExpiry: z.number(),
    }),
  ),
  nextCursor: NextCursor,
})

export const CredentialBody = z.strictObject({
  endpointCredential: editable.endpointCredential,
  endpointAuthHeader: editable.endpointAuthHeader.optional(),
})
export const CapabilitiesBody = z.strictObject({ capabilities: Capabilities })
export const CapabilitiesView = z.object({
  capabilities: z.array(z.object({ name: z.string(), metadata: z.record(z.string(), z.unknown()) })),
})

export const RotateBody = z
  .strictObject({
    ttlSeconds: z.number().int().min(60).max(31_536_000).optional(),
    graceSeconds: z.number().int().min(0).max(3600).default(0),
  })
  .default({ graceSeconds: 0 })
export const Rotated = z.object({
  token: z.string().describe('The new agent token. Shown once.'),
  tokenPrefix: z.string(),
  expiresAt: NullableTimestamp,
  previousTokenValidUntil: NullableTimestamp.describe(
    'Until when the previous token still works (null: ended now)',
  ),
})

export const Deleted = z.object({ id: z.uuid(), permanentId: z.string(), deleted: z.literal(true) })

export const OrchestrationView = z.object({
  agents: z.array(
    z.object({
      id: z.uuid(),
      permanentId: z.string(),
      name: z.string(),
      label: z.string().nullable(),
      status: z.enum(['active', 'inactive']),
      presence: z.enum(['online', 'idle', 'offline']),
      isOnline: z.boolean(),
      lastHeartbeatAt: NullableTimestamp,
      capabilities: z.array(z.object({ name: z.string(), metadata: z.record(z.string(), z.unknown()) })),
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
    }),
  ),
  nextCursor: NextCursor,
})
