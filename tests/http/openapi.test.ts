import { describe, expect, test } from 'bun:test'
import { z } from 'zod'
import pkg from '../../package.json'
import { harness, registerAgent } from '../helpers'

/**
 * The served OpenAPI document holds together, whatever routes the app has: these checks walk
 * the document, not a list, so a route added later is held to the same rules.
 */
const h = await harness()
const spec = (await h.call('GET', '/docs/json')).body

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const operations = () =>
  Object.entries<any>(spec.paths).flatMap(([path, item]) =>
    Object.entries<any>(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, method, path, op })),
  )

/** Every value in the document with the JSON pointer to it. */
function* walk(value: unknown, pointer = '#'): Generator<[string, string, unknown]> {
  if (!value || typeof value !== 'object') return
  for (const [k, v] of Object.entries(value)) {
    yield [pointer, k, v]
    yield* walk(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)
  }
}

function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined
  let node: any = spec
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (!node || typeof node !== 'object' || !(key in node)) return undefined
    node = node[key]
  }
  return node
}

const OWN_ERROR_SCHEMAS = ['#/components/schemas/PoolExhausted', '#/components/schemas/Readiness']

/** The operationId @elysiajs/openapi makes up for a route that names none. */
const generatedId = (method: string, path: string) =>
  method +
  path
    .split('/')
    .map((s) =>
      s.startsWith('{') ? `By${s[1]!.toUpperCase()}${s.slice(2, -1)}` : s && s[0]!.toUpperCase() + s.slice(1),
    )
    .join('')

const OPEN_ROUTES = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /docs', 'GET /docs/json']
/** Relays and webhook triggers check their own credentials (or none), not a bearer scheme. */
const mayBeOpen = (route: string) => OPEN_ROUTES.includes(route) || / \/(relay|hooks)\//.test(route)

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 with info: title, version, license, description', () => {
    expect(spec.openapi).toMatch(/^3\.1\.\d+$/)
    expect(spec.info.title).toBe('Switchboard')
    expect(spec.info.version).toBe(pkg.version)
    expect(spec.info.license.name).toBe(pkg.license)
    expect(spec.info.description).toContain('Errors')
    for (const tag of spec.tags) expect(tag.description).toBeTruthy()
  })

  test('every $ref resolves inside the document; no $defs, definitions or $schema are left', () => {
    const broken: string[] = []
    const leftovers: string[] = []
    let refs = 0
    for (const [at, key, value] of walk(spec)) {
      if (key === '$ref') {
        refs++
        if (typeof value !== 'string' || !value.startsWith('#/components/') || !resolve(value))
          broken.push(`${at}: ${String(value)}`)
      }
      // `$defs` as a property name inside `properties` would be data, not a keyword.
      if (['$defs', 'definitions', '$schema'].includes(key) && !at.endsWith('/properties')) leftovers.push(at)
    }
    expect(refs).toBeGreaterThan(100)
    expect(broken).toEqual([])
    expect(leftovers).toEqual([])
  })

  test('named schemas: PascalCase names (no clash suffix, no unnamed recursion), each one used', () => {
    const names = Object.keys(spec.components.schemas)
    expect(names.length).toBeGreaterThan(50)
    // `Name_2` means two different schemas claim one name; `Unnamed_n` a recursive schema without `.meta({ id })`.
    expect(names.filter((n) => !/^[A-Z][A-Za-z0-9]*$/.test(n))).toEqual([])
    const text = JSON.stringify(spec.paths) + JSON.stringify(spec.components.schemas)
    expect(names.filter((n) => !text.includes(`"#/components/schemas/${n}"`))).toEqual([])
  })

  test('operationIds are unique, camelCase and chosen by the route (not made up from the path)', () => {
    const ids = operations().map(({ route, method, path, op }) => ({
      route,
      id: op.operationId,
      ok: /^[a-z][a-zA-Z0-9]+$/.test(op.operationId ?? '') && op.operationId !== generatedId(method, path),
    }))
    expect(ids.filter((i) => !i.ok)).toEqual([])
    const seen = new Map<string, string>()
    for (const { route, id } of ids) {
      expect({ id, route: seen.get(id) ?? route }).toEqual({ id, route })
      seen.set(id, route)
    }
    expect(spec.paths['/api/agents'].post.operationId).toBe('registerAgent')
    expect(spec.paths['/api/agents/{agentId}/heartbeat'].post.operationId).toBe('sendHeartbeat')
    expect(spec.paths['/api/proxy/{connectionId}'].post.operationId).toBe('callSync')
  })

  test('every operation has a summary, a tag and a success answer with a schema; JSON bodies are named', () => {
    const problems: string[] = []
    for (const { route, op } of operations()) {
      if (!op.summary) problems.push(`${route}: no summary`)
      if (!op.tags?.length) problems.push(`${route}: no tag`)
      const success = Object.entries<any>(op.responses ?? {}).filter(([s]) => /^2\d\d$/.test(s))
      if (!success.length) problems.push(`${route}: no 2xx answer`)
      for (const [status, res] of success) {
        if (!res.description) problems.push(`${route} ${status}: no description`)
        const media = Object.entries<any>(res.content ?? {})
        if (status !== '204' && !media.length) problems.push(`${route} ${status}: no content`)
        for (const [type, m] of media) {
          if (!m.schema) problems.push(`${route} ${status} ${type}: no schema`)
          else if (type === 'application/json' && !m.schema.$ref)
            problems.push(`${route} ${status}: unnamed schema`)
        }
      }
      const body = op.requestBody?.content?.['application/json']
      if (body && !body.schema?.$ref) problems.push(`${route}: unnamed request body`)
    }
    expect(problems).toEqual([])
  })

  test('every error answer is the Error schema, described, with an example of its code', () => {
    const errorSchema = spec.components.schemas.Error
    expect(errorSchema.required).toEqual(['error', 'code'])
    expect(errorSchema.properties.code.enum).toEqual(
      expect.arrayContaining(['not_found', 'unauthorized', 'rate_limited']),
    )
    const problems: string[] = []
    for (const { route, op } of operations())
      for (const [status, res] of Object.entries<any>(op.responses ?? {})) {
        if (Number(status) < 400) continue
        const json = res.content?.['application/json']
        if (!res.description) problems.push(`${route} ${status}: no description`)
        // The pool lane's 502 is an Error-shaped answer of its own (it lists the attempts); /readyz's 503 a report.
        if (OWN_ERROR_SCHEMAS.includes(json?.schema?.$ref)) continue
        if (json?.schema?.$ref !== '#/components/schemas/Error')
          problems.push(`${route} ${status}: not Error`)
        else if (!errorSchema.properties.code.enum.includes(json.example?.code))
          problems.push(`${route} ${status}: no example`)
        else if (!res.headers?.['x-switchboard-error']) problems.push(`${route} ${status}: no error header`)
      }
    expect(problems).toEqual([])
  })

  test('open routes say security: []; every other route names its scheme and documents its 401', () => {
    const schemes = Object.keys(spec.components.securitySchemes)
    // Only schemes some route takes are published (the metrics token only when it is set).
    expect(schemes).not.toContain('metricsToken')
    const problems: string[] = []
    for (const { route, op } of operations()) {
      if (!Array.isArray(op.security)) problems.push(`${route}: security unspecified`)
      else if (!op.security.length && !mayBeOpen(route))
        problems.push(`${route}: open, but not an open route`)
      else if (OPEN_ROUTES.includes(route) && op.security.length) problems.push(`${route}: should be open`)
      for (const requirement of op.security ?? [])
        for (const name of Object.keys(requirement))
          if (!schemes.includes(name)) problems.push(`${route}: unknown scheme ${name}`)
      if (op.security?.length && !op.responses?.['401']) problems.push(`${route}: no 401`)
    }
    expect(problems).toEqual([])
    for (const route of OPEN_ROUTES) {
      const [method, path] = route.split(' ')
      expect(spec.paths[path!]?.[method!.toLowerCase()]?.security).toEqual([])
    }
  })

  test('every {param} of a path is declared, required, with a schema; no wildcard is left', () => {
    expect(Object.keys(spec.paths).filter((p) => p.includes('*') || p.includes(':'))).toEqual([])
    const problems: string[] = []
    for (const { route, path, op } of operations())
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        const p = op.parameters?.find((x: any) => x.in === 'path' && x.name === name)
        if (!p?.required || !p.schema) problems.push(`${route}: {${name}}`)
      }
    expect(problems).toEqual([])
  })

  test('every example in a named schema is valid for the zod schema of that name', () => {
    const registry = z.globalRegistry._idmap as Map<string, z.ZodType>
    let checked = 0
    const problems: string[] = []
    for (const [name, schema] of Object.entries<any>(spec.components.schemas))
      for (const example of schema.examples ?? []) {
        const zod = registry.get(name) ?? registry.get(name.replace(/Input$/, ''))
        if (!zod) problems.push(`${name}: no zod schema of this name`)
        else if (!zod.safeParse(example).success) problems.push(`${name}: ${JSON.stringify(example)}`)
        else checked++
      }
    expect(problems).toEqual([])
    expect(checked).toBeGreaterThan(15)
    for (const name of ['RegisterAgentRequest', 'RegisteredAgent', 'Agent', 'HeartbeatRequest', 'Heartbeat'])
      expect({ name, examples: spec.components.schemas[name].examples?.length > 0 }).toEqual({
        name,
        examples: true,
      })
  })
})

describe('request bodies', () => {
  test('required only where the server refuses an empty one', async () => {
    const { key } = await h.workspace()
    const agent = await registerAgent(h, key)
    const heartbeat = spec.paths['/api/agents/{agentId}/heartbeat'].post.requestBody
    expect(heartbeat.required).toBe(false)
    const noBody = await h.call('POST', `/api/agents/${agent.id}/heartbeat`, { token: agent.token })
    expect(noBody.status).toBe(200)
    expect(noBody.body.status).toBe('online')

    expect(spec.paths['/api/agents'].post.requestBody.required).toBe(true)
    const empty = await h.call('POST', '/api/agents', { token: key })
    expect([empty.status, empty.headers.get('x-switchboard-error')]).toEqual([400, 'invalid_request'])
    expect(spec.paths['/api/workspace/webhook-secret/rotate'].post.requestBody.required).toBe(false)
  })

  test('JSON bodies are documented as JSON only (the server parses nothing else)', () => {
    for (const { route, op } of operations()) {
      const types = Object.keys(op.requestBody?.content ?? {})
      expect({ route, form: types.some((t) => t.includes('form')) }).toEqual({ route, form: false })
    }
  })
})

describe('servers', () => {
  test('a relative "/" by default: never built from the request Host', async () => {
    const res = await h.call('GET', '/docs/json', {
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    })
    expect(res.body.servers).toEqual([{ url: '/', description: expect.any(String) }])
    expect(res.text).not.toContain('evil.example')
  })

  test('SWITCHBOARD_PUBLIC_URL when set', async () => {
    const other = await harness({ env: { SWITCHBOARD_PUBLIC_URL: 'https://switchboard.example.com/' } })
    const res = await other.call('GET', '/docs/json', { headers: { host: 'evil.example' } })
    expect(res.body.servers).toEqual([
      { url: 'https://switchboard.example.com', description: 'SWITCHBOARD_PUBLIC_URL' },
    ])
  })
})
