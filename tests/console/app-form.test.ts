import { describe, expect, test } from 'bun:test'
import { ApiError } from '../../web/api/errors'
import {
  type AppView,
  appErrorsFor,
  appFieldsOf,
  createBody,
  emptyAppFields,
  errorsLeft,
  executeCurl,
  localAppErrors,
  patchBody,
  secretNeeded,
} from '../../web/pages/app-body'

const oauth: AppView = {
  id: '0193d8a4-7c2e-7b1a-9f3e-2d4c5b6a7e8f',
  name: 'tickets',
  description: null,
  baseUrl: 'https://tickets.example.com/api',
  auth: {
    type: 'oauth2_client_credentials',
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'switchboard',
    scopes: ['tickets.read', 'tickets.write'],
    audience: null,
    clientAuthMethod: 'client_secret_basic',
    secretHint: '5e4f',
  },
  secretVersion: 2,
  allowedAgentIds: ['a1', 'a2'],
  allowedMethods: ['GET', 'POST'],
  allowedPathPrefixes: ['/tickets'],
  timeoutMs: null,
}

/** The app connection form's pure parts: what it sends, and where the server's errors land. */
describe('app connection form', () => {
  test('create: blank optional fields are left out; the secret goes with its type', () => {
    const f = {
      ...emptyAppFields(),
      name: ' crm ',
      baseUrl: 'https://api.crm.example.com/v2 ',
      secret: 'crm_live_4f9a8b7c6d5e',
      methods: ['POST' as const, 'GET' as const],
      prefixes: '/contacts\n\n /deals \n',
    }
    expect(createBody(f)).toEqual({
      name: 'crm',
      description: undefined,
      baseUrl: 'https://api.crm.example.com/v2',
      auth: { type: 'bearer', value: 'crm_live_4f9a8b7c6d5e' },
      allowedAgentIds: undefined,
      allowedMethods: ['GET', 'POST'],
      allowedPathPrefixes: ['/contacts', '/deals'],
      timeoutMs: undefined,
    })
    const o = createBody({
      ...f,
      authType: 'oauth2_client_credentials',
      tokenUrl: 'https://auth.example.com/token',
      clientId: 'sb',
      scopes: ' a  b ',
      agents: [],
      timeoutMs: '5000',
    })
    expect(o.auth).toEqual({
      type: 'oauth2_client_credentials',
      tokenUrl: 'https://auth.example.com/token',
      clientId: 'sb',
      clientSecret: 'crm_live_4f9a8b7c6d5e',
      scopes: ['a', 'b'],
      audience: undefined,
      clientAuthMethod: 'client_secret_basic',
    })
    expect(o.allowedAgentIds).toEqual([])
    expect(o.timeoutMs).toBe(5000)
    expect(localAppErrors({ ...f, secret: '' }, 'create').secret).toContain('Enter the secret')
    expect(localAppErrors({ ...f, secret: '', timeoutMs: '1.5' }, 'edit')).toEqual({
      timeoutMs: expect.stringContaining('whole number'),
    })
  })

  test('header, query and basic: their name or username beside the secret, and back from a read', () => {
    const f = { ...emptyAppFields(), name: 'x', baseUrl: 'https://x.example', secret: 's3cret-value' }
    const cases = [
      [
        { authType: 'header', authName: ' X-Api-Key ' },
        { type: 'header', name: 'X-Api-Key', value: 's3cret-value' },
      ],
      [
        { authType: 'query', authName: 'api_key' },
        { type: 'query', name: 'api_key', value: 's3cret-value' },
      ],
      [
        { authType: 'basic', username: 'svc' },
        { type: 'basic', username: 'svc', password: 's3cret-value' },
      ],
    ] as const
    for (const [typed, auth] of cases) {
      expect(createBody({ ...f, ...typed }).auth).toEqual(auth)
      const { value: _v, password: _p, ...shown } = auth as Record<string, string>
      const read = appFieldsOf({ ...oauth, auth: { ...shown, secretHint: 'alue' } as never })
      expect(read).toMatchObject({
        ...typed,
        authName: (typed as { authName?: string }).authName?.trim() ?? '',
      })
      expect(read.secret).toBe('')
    }
  })

  test('a read fills every non-secret field and never a secret', () => {
    const f = appFieldsOf(oauth)
    expect(f).toMatchObject({
      authType: 'oauth2_client_credentials',
      secret: '',
      tokenUrl: 'https://auth.example.com/oauth/token',
      clientId: 'switchboard',
      scopes: 'tickets.read tickets.write',
      agents: ['a1', 'a2'],
      methods: ['GET', 'POST'],
      prefixes: '/tickets',
      timeoutMs: '',
    })
  })

  test('PATCH carries only what changed; an untouched auth is left out, a touched one keeps the secret', () => {
    const f = appFieldsOf(oauth)
    expect(patchBody(oauth, f)).toEqual({})
    // Same agents in another order, same methods: nothing to send.
    expect(patchBody(oauth, { ...f, agents: ['a2', 'a1'], methods: ['POST', 'GET'] })).toEqual({})
    expect(patchBody(oauth, { ...f, name: 'tix', methods: [], prefixes: '', timeoutMs: '900' })).toEqual({
      name: 'tix',
      allowedMethods: null,
      allowedPathPrefixes: null,
      timeoutMs: 900,
    })
    expect(patchBody(oauth, { ...f, agents: null }).allowedAgentIds).toBeNull()
    // A scope change sends the auth without clientSecret: the API keeps the stored one.
    const scoped = patchBody(oauth, { ...f, scopes: 'tickets.read' })
    expect(scoped.auth).toMatchObject({ type: 'oauth2_client_credentials', scopes: ['tickets.read'] })
    expect(scoped.auth).toHaveProperty('clientSecret', undefined)
    expect(patchBody(oauth, { ...f, secret: 'cs_new_secret_1234' }).auth).toMatchObject({
      clientSecret: 'cs_new_secret_1234',
    })
    // Moving the base URL alone does not send the auth: the API then asks for the secret.
    expect(patchBody(oauth, { ...f, baseUrl: 'https://evil.example.net/api' })).toEqual({
      baseUrl: 'https://evil.example.net/api',
    })
  })

  test('the form says when the secret must be typed again, as the API will', () => {
    const f = appFieldsOf(oauth)
    expect(secretNeeded(oauth, f)).toBeNull()
    expect(secretNeeded(oauth, { ...f, baseUrl: 'https://tickets.example.com/v2' })).toBeNull()
    expect(secretNeeded(oauth, { ...f, baseUrl: 'https://other.example.com/api' })).toContain('origin')
    expect(secretNeeded(oauth, { ...f, tokenUrl: 'http://auth.example.com/oauth/token' })).toContain(
      'client secret',
    )
    expect(secretNeeded(oauth, { ...f, authType: 'bearer' })).toContain('new auth type')
    expect(secretNeeded(oauth, { ...f, authType: 'bearer', secret: 'x' })).toBeNull()
  })

  test('server errors land on the form field that caused them', () => {
    const validation = new ApiError(400, 'invalid_request', 'Invalid request body', [
      { path: 'auth.tokenUrl', message: 'must be an http(s) URL' },
      { path: 'auth.value', message: 'must not contain control characters' },
      { path: 'allowedPathPrefixes.1', message: 'Too big' },
      { path: 'timeoutMs', message: 'Too small' },
      { path: 'allowedAgentIds.0', message: 'must be a UUID or permanent id' },
    ])
    expect(appErrorsFor(validation)).toEqual({
      tokenUrl: 'must be an http(s) URL',
      secret: 'must not contain control characters',
      prefixes: 'Line 2: Too big',
      timeoutMs: 'Too small',
      agents: 'must be a UUID or permanent id',
    })
    // The secret follows its host: the API names `auth` (base URL moved) or the client secret.
    const moved = 'Moving baseUrl to another origin needs the secret again: send auth with its secret'
    expect(appErrorsFor(new ApiError(400, 'invalid_request', moved, { field: 'auth' }))).toEqual({
      secret: moved,
    })
    const token = 'Moving the token endpoint to another origin needs the client secret again'
    expect(appErrorsFor(new ApiError(400, 'invalid_request', token, { field: 'auth.clientSecret' }))).toEqual(
      {
        secret: token,
      },
    )
    const refused = new ApiError(400, 'invalid_url', 'baseUrl is refused (private): …', {
      field: 'baseUrl',
      rule: 'private',
    })
    expect(appErrorsFor(refused)).toEqual({ baseUrl: 'baseUrl is refused (private): …' })
    const prefix = new ApiError(400, 'invalid_request', 'allowedPathPrefixes[0] is refused: a dot segment', {
      field: 'allowedPathPrefixes.0',
      rule: 'dot_segment',
    })
    expect(appErrorsFor(prefix)).toEqual({ prefixes: 'Line 1 is refused: a dot segment' })
    // Editing a field takes its message away; the others stay until their field changes.
    const f = emptyAppFields()
    expect(errorsLeft({ baseUrl: 'bad', secret: 'needed' }, f, { ...f, baseUrl: 'https://x' })).toEqual({
      secret: 'needed',
    })
    const taken = new ApiError(409, 'conflict', 'An app connection with this name already exists')
    expect(appErrorsFor(taken)).toEqual({ name: 'An app connection with this name already exists' })
  })

  test('the execute curl: this connection, an allowed method and path, quoted for the shell', () => {
    const curl = executeCurl('http://sb.test', oauth, 'agent-1')
    expect(curl).toContain(
      'curl -X POST http://sb.test/api/agents/agent-1/app-connections/0193d8a4-7c2e-7b1a-9f3e-2d4c5b6a7e8f/execute',
    )
    expect(curl).toContain('Bearer tk_your_agent_token_here')
    expect(curl).toContain(`-d '{"method":"GET","path":"/tickets"}'`)
    const post = executeCurl(
      'http://sb.test',
      { ...oauth, allowedMethods: ['POST'], allowedPathPrefixes: null },
      'a',
    )
    expect(post).toContain(`-d '{"method":"POST","path":"/","body":{}}'`)
    const quoted = executeCurl('http://sb.test', { ...oauth, allowedPathPrefixes: ["/it's"] }, 'a')
    expect(quoted).toContain(`-d '{"method":"GET","path":"/it'\\''s"}'`)
  })
})
