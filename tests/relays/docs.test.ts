import { expect, test } from 'bun:test'
import { harness } from '../helpers'

/** /docs/json documents every relay route: no token (security: []), a readable operationId, the error envelope. */
const h = await harness()

test('the relay routes are documented, each without a token', async () => {
  const spec = (await h.call('GET', '/docs/json')).body
  const ops: Record<string, any> = {}
  for (const [path, methods] of Object.entries<any>(spec.paths))
    for (const [method, op] of Object.entries<any>(methods))
      if (path.startsWith('/relay/')) ops[`${method.toUpperCase()} ${path}`] = op
  expect(Object.keys(ops).sort()).toEqual(
    [
      'GET /relay/{permanentId}/a2a/.well-known/agent-card.json',
      'GET /relay/{permanentId}/.well-known/agent-card.json',
      'POST /relay/{permanentId}/a2a',
      'GET /relay/{permanentId}/a2a/*',
      'POST /relay/{permanentId}/a2a/*',
      'DELETE /relay/{permanentId}/a2a/*',
      'GET /relay/{permanentId}/mcp',
      'POST /relay/{permanentId}/mcp',
      'DELETE /relay/{permanentId}/mcp',
      'GET /relay/{permanentId}/openai/*',
      'POST /relay/{permanentId}/openai/*',
      'PUT /relay/{permanentId}/openai/*',
      'PATCH /relay/{permanentId}/openai/*',
      'DELETE /relay/{permanentId}/openai/*',
    ].sort(),
  )
  for (const [route, op] of Object.entries(ops)) {
    expect({ route, security: op.security }).toEqual({ route, security: [] })
    expect({ route, tags: op.tags }).toEqual({ route, tags: ['relays'] })
    expect(op.operationId).toMatch(/^[a-z][A-Za-z0-9]+$/)
    expect(op.responses['404']?.content?.['application/json']?.schema).toBeTruthy()
    expect(op.responses['502']?.content?.['application/json']?.schema).toBeTruthy()
  }
  const ids = Object.values(spec.paths)
    .flatMap((m: any) => Object.values<any>(m).map((o) => o.operationId))
    .filter(Boolean)
  expect(new Set(ids).size).toBe(ids.length)
  const card = ops['GET /relay/{permanentId}/a2a/.well-known/agent-card.json']
  expect(JSON.stringify(card.responses['200'])).toContain('A2AAgentCard')
})
