import { describe, expect, test } from 'bun:test'
import { harness } from '../helpers'
import { HOSTILE_PATHS } from './corpus'
import { appWorkspace, createConnection, execute, standInSaas, tokenEndpoint } from './fixtures'

/**
 * The traversal corpus against the real route: every hostile path is a 400 naming its rule,
 * nothing reaches the stand-in SaaS or the token endpoint, and the secret is never unsealed.
 */
const h = await harness()
const saas = standInSaas()
const tokens = tokenEndpoint()
const { ws, agent } = await appWorkspace(h)

// Count every unsealing of an app connection secret (the sealer itself is real).
let unsealed = 0
const open = h.deps.sealer.open.bind(h.deps.sealer)
h.deps.sealer.open = (sealed: string, context: string) => {
  if (context.startsWith('app_connections.secret:')) unsealed++
  return open(sealed, context)
}

describe('the traversal corpus', () => {
  test(`${HOSTILE_PATHS.length} hostile paths: each a 400 naming its rule, nothing sent, no secret opened`, async () => {
    expect(HOSTILE_PATHS.length).toBeGreaterThanOrEqual(30)
    const connections = [
      await createConnection(h, ws.key, {
        baseUrl: `${saas.url}/api`,
        auth: { type: 'bearer', value: 'corpus-bearer-1' },
      }),
      await createConnection(h, ws.key, {
        baseUrl: `${saas.url}/api`,
        auth: {
          type: 'oauth2_client_credentials',
          tokenUrl: tokens.url,
          clientId: 'c',
          clientSecret: 'corpus-oauth-2',
        },
      }),
    ]
    const seen = saas.mark()
    for (const c of connections)
      for (const [path, rule] of HOSTILE_PATHS) {
        const res = await execute(h, agent, c.id, { method: 'GET', path })
        expect({ path, status: res.status, code: res.body.code, rule: res.body.details?.rule }).toEqual({
          path,
          status: 400,
          code: 'invalid_request',
          rule,
        })
      }
    expect(seen()).toEqual([])
    expect(tokens.requests.length).toBe(0)
    expect(unsealed).toBe(0)
    // The same connections do work (so the counters above can see a call).
    const ok = await execute(h, agent, connections[0]!.id, { method: 'GET', path: '/echo' })
    expect(ok.body.status).toBe(200)
    expect(unsealed).toBe(1)
    expect(seen().length).toBe(1)
  })

  test('a path that looks odd but stays under the base URL is sent as written', async () => {
    const c = await createConnection(h, ws.key, {
      baseUrl: `${saas.url}/api/v2`,
      auth: { type: 'bearer', value: 'v' },
    })
    const seen = saas.mark()
    for (const path of ['/@evil.example', '/items:batchGet', '/a%2541', '/files/q%20r.pdf'])
      expect((await execute(h, agent, c.id, { method: 'GET', path })).body.status).toBe(200)
    expect(seen().map((r) => r.target)).toEqual([
      '/api/v2/@evil.example',
      '/api/v2/items:batchGet',
      '/api/v2/a%2541',
      '/api/v2/files/q%20r.pdf',
    ])
  })

  test('methods, prefixes, forbidden headers and the query credential are refused by rule, before the secret', async () => {
    const c = await createConnection(h, ws.key, {
      baseUrl: `${saas.url}/api`,
      auth: { type: 'query', name: 'api_key', value: 'rules-query-3' },
      allowedMethods: ['GET'],
      allowedPathPrefixes: ['/contacts'],
    })
    const before = unsealed
    const seen = saas.mark()
    const cases = [
      [{ method: 'DELETE', path: '/contacts/1' }, 'method_not_allowed'],
      [{ method: 'GET', path: '/admin' }, 'path_not_allowed'],
      [{ method: 'GET', path: '/contactsX' }, 'path_not_allowed'],
      [{ method: 'GET', path: '/contacts', headers: { Authorization: 'Bearer mine' } }, 'forbidden_header'],
      [{ method: 'GET', path: '/contacts', headers: { host: 'evil.example' } }, 'forbidden_header'],
      [{ method: 'GET', path: '/contacts', headers: { Cookie: 'a=b' } }, 'forbidden_header'],
      [{ method: 'GET', path: '/contacts', query: { API_KEY: 'mine' } }, 'credential_query_parameter'],
      [{ method: 'GET', path: '/contacts', body: { a: 1 } }, 'invalid_body'],
    ] as const
    for (const [call, rule] of cases) {
      const res = await execute(h, agent, c.id, call)
      expect({ call, status: res.status, rule: res.body.details?.rule }).toEqual({ call, status: 400, rule })
    }
    expect(seen()).toEqual([])
    expect(unsealed).toBe(before)
    expect((await execute(h, agent, c.id, { method: 'GET', path: '/contacts/7' })).body.status).toBe(200)
  })
})
