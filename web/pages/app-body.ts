import { type ApiError, fieldErrors } from '../api/errors'

/**
 * The app connection form's data: what it holds, what it sends (a PATCH carries only what
 * changed), and where the server's errors land. No DOM and no generated types, so the unit
 * tests import it as it is.
 */
export const AUTH_TYPES = ['bearer', 'header', 'basic', 'query', 'oauth2_client_credentials'] as const
export type AuthType = (typeof AUTH_TYPES)[number]
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
export type Method = (typeof METHODS)[number]
type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post'

export const AUTH_LABELS: Record<AuthType, string> = {
  bearer: 'Bearer token',
  header: 'API key in a header',
  basic: 'HTTP Basic',
  query: 'API key in the query string',
  oauth2_client_credentials: 'OAuth2 client credentials',
}

/** The auth as the API shows it: its type, its non-secret fields and the last-4 hint. */
export type AuthView =
  | { type: 'bearer'; secretHint: string | null }
  | { type: 'header'; name: string; secretHint: string | null }
  | { type: 'basic'; username: string; secretHint: string | null }
  | { type: 'query'; name: string; secretHint: string | null }
  | {
      type: 'oauth2_client_credentials'
      tokenUrl: string
      clientId: string
      scopes: string[] | null
      audience: string | null
      clientAuthMethod: ClientAuthMethod
      secretHint: string | null
    }

export type AppView = {
  id: string
  name: string
  description: string | null
  baseUrl: string
  auth: AuthView
  secretVersion: number
  allowedAgentIds: string[] | null
  allowedMethods: Method[] | null
  allowedPathPrefixes: string[] | null
  timeoutMs: number | null
}

/** What the form holds, as typed. `secret` is write-only: it is never filled from a read. */
export type AppFields = {
  name: string
  description: string
  baseUrl: string
  authType: AuthType
  /** The bearer token, header or query value, Basic password or OAuth2 client secret. */
  secret: string
  /** The header name (header) or query parameter name (query). */
  authName: string
  username: string
  tokenUrl: string
  clientId: string
  /** Space-separated, as OAuth2 writes them. */
  scopes: string
  audience: string
  clientAuthMethod: ClientAuthMethod
  /** null: any agent of the workspace; a list (maybe empty): only those. */
  agents: string[] | null
  /** Empty: any method. */
  methods: Method[]
  /** One per line; none: every path under the base URL. */
  prefixes: string
  timeoutMs: string
}

export function emptyAppFields(): AppFields {
  return {
    name: '',
    description: '',
    baseUrl: '',
    authType: 'bearer',
    secret: '',
    authName: '',
    username: '',
    tokenUrl: '',
    clientId: '',
    scopes: '',
    audience: '',
    clientAuthMethod: 'client_secret_basic',
    agents: null,
    methods: [],
    prefixes: '',
    timeoutMs: '',
  }
}

export function appFieldsOf(v: AppView): AppFields {
  const f: AppFields = {
    ...emptyAppFields(),
    name: v.name,
    description: v.description ?? '',
    baseUrl: v.baseUrl,
    authType: v.auth.type,
    agents: v.allowedAgentIds ? [...v.allowedAgentIds] : null,
    methods: v.allowedMethods ? [...v.allowedMethods] : [],
    prefixes: (v.allowedPathPrefixes ?? []).join('\n'),
    timeoutMs: v.timeoutMs === null ? '' : String(v.timeoutMs),
  }
  const a = v.auth
  if (a.type === 'header' || a.type === 'query') f.authName = a.name
  if (a.type === 'basic') f.username = a.username
  if (a.type === 'oauth2_client_credentials') {
    f.tokenUrl = a.tokenUrl
    f.clientId = a.clientId
    f.scopes = (a.scopes ?? []).join(' ')
    f.audience = a.audience ?? ''
    f.clientAuthMethod = a.clientAuthMethod
  }
  return f
}

const words = (s: string) => s.split(/\s+/).filter(Boolean)
const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)

/** The auth to send with `secret` (a PATCH leaves it undefined to keep the stored one). */
function authOf<S extends string | undefined>(f: AppFields, secret: S) {
  switch (f.authType) {
    case 'bearer':
      return { type: 'bearer' as const, value: secret }
    case 'header':
      return { type: 'header' as const, name: f.authName.trim(), value: secret }
    case 'query':
      return { type: 'query' as const, name: f.authName.trim(), value: secret }
    case 'basic':
      return { type: 'basic' as const, username: f.username.trim(), password: secret }
    case 'oauth2_client_credentials': {
      const scopes = words(f.scopes)
      return {
        type: 'oauth2_client_credentials' as const,
        tokenUrl: f.tokenUrl.trim(),
        clientId: f.clientId.trim(),
        clientSecret: secret,
        scopes: scopes.length ? scopes : undefined,
        audience: f.audience.trim() || undefined,
        clientAuthMethod: f.clientAuthMethod,
      }
    }
  }
}

/** The auth for a PATCH: without a secret when none was typed, so the stored one is kept. */
export const authBody = (f: AppFields) => authOf(f, f.secret === '' ? undefined : f.secret)

const rules = (f: AppFields) => {
  const prefixes = lines(f.prefixes)
  return {
    allowedAgentIds: f.agents,
    allowedMethods: f.methods.length ? METHODS.filter((m) => f.methods.includes(m)) : null,
    allowedPathPrefixes: prefixes.length ? prefixes : null,
    timeoutMs: f.timeoutMs.trim() === '' ? null : Number(f.timeoutMs),
  }
}

/** POST /api/app-connections: leaves out what is blank, so the API's defaults apply. */
export function createBody(f: AppFields) {
  const r = rules(f)
  return {
    name: f.name.trim(),
    description: f.description.trim() || undefined,
    baseUrl: f.baseUrl.trim(),
    auth: authOf(f, f.secret),
    allowedAgentIds: r.allowedAgentIds ?? undefined,
    allowedMethods: r.allowedMethods ?? undefined,
    allowedPathPrefixes: r.allowedPathPrefixes ?? undefined,
    timeoutMs: r.timeoutMs ?? undefined,
  }
}

const sameSet = (a: readonly string[] | null, b: readonly string[] | null) =>
  a === null || b === null ? a === b : a.length === b.length && a.every((x) => b.includes(x))
const sameList = (a: readonly string[] | null, b: readonly string[] | null) =>
  a === null || b === null ? a === b : a.length === b.length && a.every((x, i) => x === b[i])

const BLANK_VIEW: AppView = {
  id: '',
  name: '',
  description: null,
  baseUrl: '',
  auth: { type: 'bearer', secretHint: null },
  secretVersion: 0,
  allowedAgentIds: null,
  allowedMethods: null,
  allowedPathPrefixes: null,
  timeoutMs: null,
}

/** Whether the auth as typed differs from the stored one (a typed secret always does). */
function authChanged(v: AuthView, f: AppFields): boolean {
  if (f.secret !== '' || f.authType !== v.type) return true
  const stored = appFieldsOf({ ...BLANK_VIEW, auth: v })
  const keys = ['authName', 'username', 'tokenUrl', 'clientId', 'audience', 'clientAuthMethod'] as const
  return (
    keys.some((k) => stored[k].trim() !== f[k].trim()) || !sameList(words(stored.scopes), words(f.scopes))
  )
}

/**
 * PATCH /api/app-connections/{id}: only the fields that differ from the stored connection, so
 * the audit row names what really changed and an untouched secret stays as it is.
 */
export function patchBody(v: AppView, f: AppFields) {
  const r = rules(f)
  const body: {
    name?: string
    description?: string | null
    baseUrl?: string
    auth?: ReturnType<typeof authBody>
    allowedAgentIds?: string[] | null
    allowedMethods?: Method[] | null
    allowedPathPrefixes?: string[] | null
    timeoutMs?: number | null
  } = {}
  if (f.name.trim() !== v.name) body.name = f.name.trim()
  const description = f.description.trim() || null
  if (description !== v.description) body.description = description
  if (f.baseUrl.trim() !== v.baseUrl) body.baseUrl = f.baseUrl.trim()
  if (authChanged(v.auth, f)) body.auth = authBody(f)
  if (!sameSet(r.allowedAgentIds, v.allowedAgentIds)) body.allowedAgentIds = r.allowedAgentIds
  if (!sameSet(r.allowedMethods, v.allowedMethods)) body.allowedMethods = r.allowedMethods
  if (!sameList(r.allowedPathPrefixes, v.allowedPathPrefixes))
    body.allowedPathPrefixes = r.allowedPathPrefixes
  if (r.timeoutMs !== v.timeoutMs) body.timeoutMs = r.timeoutMs
  return body
}

const originOf = (url: string) => {
  try {
    return new URL(url.trim()).origin
  } catch {
    return null
  }
}

/**
 * Why the secret must be typed again before saving, or null: the API refuses to send a stored
 * secret to another origin (base URL or token endpoint) or to change the type without one.
 */
export function secretNeeded(v: AppView, f: AppFields): string | null {
  if (f.secret !== '') return null
  if (f.authType !== v.auth.type) return 'A new auth type needs its secret.'
  const moved = (a: string, b: string) => originOf(a) !== null && originOf(a) !== originOf(b)
  if (moved(f.baseUrl, v.baseUrl)) return 'The base URL moves to another origin: enter the secret again.'
  if (v.auth.type === 'oauth2_client_credentials' && moved(f.tokenUrl, v.auth.tokenUrl))
    return 'The token URL moves to another origin: enter the client secret again.'
  return null
}

/** Problems the browser can see before asking the server. */
export function localAppErrors(f: AppFields, mode: 'create' | 'edit'): Record<string, string> {
  const out: Record<string, string> = {}
  if (mode === 'create' && f.secret === '') out.secret = 'Enter the secret: Switchboard stores it sealed.'
  if (f.timeoutMs.trim() !== '' && !/^\d+$/.test(f.timeoutMs.trim()))
    out.timeoutMs = 'must be a whole number of milliseconds'
  return out
}

/** API paths under `auth.` and the form field that shows them. */
const AUTH_FIELDS: Record<string, keyof AppFields> = {
  value: 'secret',
  password: 'secret',
  clientSecret: 'secret',
  name: 'authName',
  username: 'username',
  tokenUrl: 'tokenUrl',
  clientId: 'clientId',
  scopes: 'scopes',
  audience: 'audience',
  clientAuthMethod: 'clientAuthMethod',
}

/**
 * Messages for the fields the server refused, keyed by the form's field. A bare `auth` (the
 * secret is needed again) lands on the secret; list items land on their list, with their line.
 */
export function appErrorsFor(e: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  const put = (k: string, msg: string) => {
    out[k] ??= msg
  }
  for (const [path, msg] of Object.entries(fieldErrors(e))) {
    const [head, sub] = path.split('.')
    if (head === 'auth') put(sub ? (AUTH_FIELDS[sub] ?? 'secret') : 'secret', msg)
    else if (head === 'allowedPathPrefixes') {
      const line = Number(sub) + 1
      put(
        'prefixes',
        /^allowedPathPrefixes\[\d+\]/.test(msg)
          ? msg.replace(/^\S+/, `Line ${line}`)
          : `Line ${line}: ${msg}`,
      )
    } else if (head === 'allowedAgentIds') put('agents', msg)
    else if (head === 'allowedMethods') put('methods', msg)
    else if (head) put(head, msg)
  }
  if ((e as ApiError | null)?.code === 'conflict') put('name', (e as ApiError).message)
  return out
}

/** `'…'` for a POSIX shell: a single quote inside becomes `'\''`. */
export const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`

/** The curl an agent's runtime sends to call the app through this connection. */
export function executeCurl(
  origin: string,
  conn: Pick<AppView, 'id' | 'allowedMethods' | 'allowedPathPrefixes'>,
  agentId: string,
  token = 'tk_your_agent_token_here',
) {
  const methods = conn.allowedMethods
  const method = !methods || methods.includes('GET') ? 'GET' : methods[0]!
  const path = conn.allowedPathPrefixes?.[0] ?? '/'
  const payload: Record<string, unknown> = { method, path }
  if (!['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(method)) payload.body = {}
  return [
    `curl -X POST ${origin}/api/agents/${agentId}/app-connections/${conn.id}/execute \\`,
    `  -H "Authorization: Bearer ${token}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d ${shellQuote(JSON.stringify(payload))}`,
  ].join('\n')
}

/** The errors still standing after an edit: a field's message goes once that field is changed. */
export function errorsLeft(errors: Record<string, string>, before: AppFields, after: AppFields) {
  const changed = (k: string) =>
    JSON.stringify(before[k as keyof AppFields]) !== JSON.stringify(after[k as keyof AppFields])
  return Object.fromEntries(Object.entries(errors).filter(([k]) => !changed(k)))
}
