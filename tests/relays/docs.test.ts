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
      'GET /relay/{permanentId}/a2a/{path}',
      'POST /relay/{permanentId}/a2a/{path}',
      'DELETE /relay/{permanentId}/a2a/{path}',
      'GET /relay/{permanentId}/mcp',
      'POST /relay/{permanentId}/mcp',
      'DELETE /relay/{permanentId}/mcp',
      'GET /relay/{permanentId}/openai/{path}',
      'POST /relay/{permanentId}/openai/{path}',
      'PUT /relay/{permanentId}/openai/{path}',
      'PATCH /relay/{permanentId}/openai/{path}',
      'DELETE /relay/{permanentId}/openai/{path}',
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
