import { z } from 'zod'
import { AgentRef, JsonValue, NextCursor, Timestamp } from '../../http/schemas'
import { unstorableText } from '../../lib/storable'

/** Methods an app call may use. */
export const APP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
export const MAX_ALLOWED_AGENTS = 500
export const MAX_PATH_PREFIXES = 100
/** A timeout of a connection's own, within what a synchronous call may reasonably wait. */
export const MAX_TIMEOUT_MS = 120_000

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/
const noControl = { message: 'must not contain control characters' }
const storable = { message: 'must not contain NUL characters or unpaired surrogates' }

/** One line of text: no control characters (they would end up in headers, logs and the console). */
const Line = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !CONTROL.test(v) && !unstorableText(v), noControl)

/** A secret: what goes into a header or a query parameter, so printable and of sane length. */
const Secret = z
  .string()
  .min(1)
  .max(4096)
  .refine((v) => !CONTROL.test(v) && !unstorableText(v), noControl)
  .describe('Write-only: sealed at rest, never shown again (reads show a last-4 hint)')
const HeaderName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, 'must be an HTTP header name')
  .refine(
    (v) => !/^(host|content-length|content-type|transfer-encoding|connection|x-switchboard-.*)$/i.test(v),
    'cannot carry a credential',
  )
const HttpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048)
  .refine((v) => !unstorableText(v), storable)

export const AppMethod = z.enum(APP_METHODS)

const authVariants = (secretRequired: boolean) => {
  const secret = secretRequired ? Secret : Secret.optional()
  return z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('bearer'), value: secret }).describe('Authorization: Bearer <value>'),
    z
      .strictObject({ type: z.literal('header'), name: HeaderName, value: secret })
      .describe('<name>: <value>, e.g. X-Api-Key'),
    z
      .strictObject({
        type: z.literal('basic'),
        username: Line(256).refine((v) => !v.includes(':'), 'must not contain ":"'),
        password: secret,
      })
      .describe('Authorization: Basic base64(username:password)'),
    z
      .strictObject({
        type: z.literal('query'),
        name: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be a plain query parameter name'),
        value: secret,
      })
      .describe('?<name>=<value> on every call'),
    z
      .strictObject({
        type: z.literal('oauth2_client_credentials'),
        tokenUrl: HttpUrl.describe('The token endpoint (checked by the outbound guard like baseUrl)'),
        clientId: Line(512).min(1),
        clientSecret: secret,
        scopes: z
          .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/, 'must be an OAuth2 scope token'))
          .max(50)
          .optional(),
        audience: Line(1024).min(1).optional(),
        clientAuthMethod: z
          .enum(['client_secret_basic', 'client_secret_post'])
          .optional()
          .describe('How the client authenticates at the token endpoint; default client_secret_basic'),
      })
      .describe('An access token from the client-credentials grant, sent as Authorization: Bearer'),
  ])
}

export const AppAuthInput = authVariants(true).meta({
  id: 'AppAuthInput',
  description: 'How Switchboard authenticates to the app. Secrets are write-only.',
})
export const AppAuthPatch = authVariants(false).meta({
  id: 'AppAuthPatch',
  description:
    'Replaces the auth. With the same type the secret may be left out to keep the stored one; a new type needs its secret.',
})
export type AppAuthInputValue = z.infer<typeof AppAuthInput>
export type AppAuthPatchValue = z.infer<typeof AppAuthPatch>

const PathPrefix = z
  .string()
  .min(1)
  .max(512)
  .describe('Relative to the base URL path, e.g. /contacts (covers /contacts and /contacts/…)')

const editable = {
  name: Line(100).trim().min(1),
  description: Line(1000),
  baseUrl: HttpUrl.refine((v) => {
    const u = URL.parse(v)
    return !!u && u.search === '' && u.hash === '' && !u.username && !u.password
  }, 'must have no query, fragment or credentials').describe(
    'Every call stays under this URL: same scheme, host and port, under its path',
  ),
  allowedAgentIds: z
    .array(AgentRef)
    .max(MAX_ALLOWED_AGENTS)
    .nullable()
    .describe('Agents (UUID or permanent id) that may execute; null: any agent of the workspace; []: none'),
  allowedMethods: z.array(AppMethod).max(APP_METHODS.length).nullable().describe('null: every method'),
  allowedPathPrefixes: z
    .array(PathPrefix)
    .max(MAX_PATH_PREFIXES)
    .nullable()
    .describe('null: every path under the base URL'),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(MAX_TIMEOUT_MS)
    .nullable()
    .describe('The whole call, answer included; null: SWITCHBOARD_APP_TIMEOUT_MS (30 s)'),
}

export const CreateAppConnectionBody = z
  .strictObject({
    name: editable.name,
    description: editable.description.optional(),
    baseUrl: editable.baseUrl,
    auth: AppAuthInput,
    allowedAgentIds: editable.allowedAgentIds.optional(),
    allowedMethods: editable.allowedMethods.optional(),
    allowedPathPrefixes: editable.allowedPathPrefixes.optional(),
    timeoutMs: editable.timeoutMs.optional(),
  })
  .meta({
    id: 'CreateAppConnectionRequest',
    examples: [
      {
        name: 'crm',
        baseUrl: 'https://api.crm.example.com/v2',
        auth: { type: 'bearer', value: 'crm_live_4f9a8b7c6d5e' },
        allowedAgentIds: ['agt-k3v9x2mq'],
        allowedMethods: ['GET', 'POST'],
        allowedPathPrefixes: ['/contacts'],
      },
    ],
  })
export type CreateAppConnectionInput = z.infer<typeof CreateAppConnectionBody>

export const UpdateAppConnectionBody = z
  .strictObject({
    name: editable.name.optional(),
    description: editable.description.nullable().optional(),
    baseUrl: editable.baseUrl.optional(),
    auth: AppAuthPatch.optional(),
    allowedAgentIds: editable.allowedAgentIds.optional(),
    allowedMethods: editable.allowedMethods.optional(),
    allowedPathPrefixes: editable.allowedPathPrefixes.optional(),
    timeoutMs: editable.timeoutMs.optional(),
  })
  .meta({
    id: 'UpdateAppConnectionRequest',
    examples: [{ auth: { type: 'bearer', value: 'crm_live_9z8y7x6w5v4u' } }, { allowedMethods: ['GET'] }],
  })
export type UpdateAppConnectionInput = z.infer<typeof UpdateAppConnectionBody>

const hint = z
  .string()
  .nullable()
  .describe('The last 4 characters of the secret (null when it is shorter than 8)')
export const AppAuthView = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('bearer'), secretHint: hint }),
    z.object({ type: z.literal('header'), name: z.string(), secretHint: hint }),
    z.object({ type: z.literal('basic'), username: z.string(), secretHint: hint }),
    z.object({ type: z.literal('query'), name: z.string(), secretHint: hint }),
    z.object({
      type: z.literal('oauth2_client_credentials'),
      tokenUrl: z.string(),
      clientId: z.string(),
      scopes: z.array(z.string()).nullable(),
      audience: z.string().nullable(),
      clientAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']),
      secretHint: hint,
    }),
  ])
  .meta({ id: 'AppConnectionAuth', description: 'The auth type and its non-secret fields; never the secret' })

export const AppConnection = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    baseUrl: z.string(),
    auth: AppAuthView,
    secretVersion: z.number().int().describe('Grows by one on every change of auth'),
    allowedAgentIds: z.array(z.uuid()).nullable().describe('null: any agent of the workspace may execute'),
    allowedMethods: z.array(AppMethod).nullable(),
    allowedPathPrefixes: z.array(z.string()).nullable(),
    timeoutMs: z.number().int().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({
    id: 'AppConnection',
    examples: [
      {
        id: '0193d8a4-7c2e-7b1a-9f3e-2d4c5b6a7e8f',
        name: 'crm',
        description: null,
        baseUrl: 'https://api.crm.example.com/v2',
        auth: { type: 'bearer', secretHint: '5d5e' },
        secretVersion: 1,
        allowedAgentIds: ['0193d8a4-7c2e-7b1a-9f3e-2d4c5b6a0001'],
        allowedMethods: ['GET', 'POST'],
        allowedPathPrefixes: ['/contacts'],
        timeoutMs: null,
        createdAt: '2026-01-05T10:00:00.000Z',
        updatedAt: '2026-01-05T10:00:00.000Z',
      },
    ],
  })
export const AppConnectionList = z
  .object({ appConnections: z.array(AppConnection), nextCursor: NextCursor })
  .meta({ id: 'AppConnectionList' })

export const ExecuteParams = z.object({
  agentId: AgentRef,
  connectionId: z.uuid({ error: 'must be an app connection UUID' }),
})

const QueryValue = z.union([z.string().max(8192), z.number(), z.boolean()])
export const ExecuteBody = z
  .strictObject({
    method: AppMethod,
    path: z
      .string()
      .min(1)
      .max(2048)
      .describe('Under the base URL, starting with /; the query goes in `query`'),
    query: z
      .record(z.string().min(1).max(256), z.union([QueryValue, z.array(QueryValue).max(100)]))
      .optional()
      .describe('Query parameters (an array repeats the parameter); values are encoded by Switchboard'),
    headers: z
      .record(z.string().min(1).max(256), z.string().max(8192))
      .optional()
      .describe('Headers for the app; Authorization, Host, Cookie and the credential header are refused'),
    body: JsonValue.optional().describe('Sent as JSON unless bodyEncoding says text or base64'),
    bodyEncoding: z
      .enum(['json', 'text', 'base64'])
      .optional()
      .describe('json (default): the body as JSON; text: a string sent as it is; base64: bytes'),
  })
  .refine((v) => Object.keys(v.headers ?? {}).length <= 50, 'at most 50 headers')
  .refine((v) => Object.keys(v.query ?? {}).length <= 100, 'at most 100 query parameters')
  .meta({
    id: 'ExecuteAppConnectionRequest',
    examples: [
      { method: 'GET', path: '/contacts', query: { email: 'ada@example.com', limit: 10 } },
      { method: 'POST', path: '/contacts', body: { name: 'Ada Lovelace', email: 'ada@example.com' } },
    ],
  })
export type ExecuteInput = z.infer<typeof ExecuteBody>

export const ExecuteAnswer = z
  .object({
    status: z.number().int().describe("The app's HTTP status, whatever it is (a 3xx is not followed)"),
    headers: z
      .record(z.string(), z.string())
      .describe("The app's answer headers, without cookies, hop-by-hop headers, content-length or -encoding"),
    body: z
      .unknown()
      .describe('Parsed JSON, text, or base64 of the bytes (see bodyEncoding); null when empty'),
    bodyEncoding: z
      .enum(['json', 'text', 'base64', 'none'])
      .describe('json: body is the parsed JSON; text: a string; base64: the bytes in base64; none: no body'),
  })
  .meta({
    id: 'ExecuteAppConnectionAnswer',
    examples: [
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: { contacts: [{ id: 'c_1', name: 'Ada Lovelace' }] },
        bodyEncoding: 'json',
      },
    ],
  })
