import { describe, expect, test } from 'bun:test'
import { harness, registerAgent } from '../helpers'

/**
 * Input a hostile client sends to make the server fail: bodies nested deeper than any real
 * document, text Postgres cannot store (NUL, a lone surrogate) in bodies, filters and paths,
 * and asset names that are properties of every object. Each is a 400 (or 404) with the error
 * envelope on both databases — never a 500.
 */
const h = await harness()
const ws = await h.workspace()
const agent = await registerAgent(h, ws.key)

const json = { 'content-type': 'application/json' }
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`

const expectEnvelope = (res: { status: number; body: any }, status: number, what: string) => {
  expect({ what, status: res.status }).toEqual({ what, status })
  expect({ what, code: typeof res.body?.code, error: typeof res.body?.error }).toEqual({
    what,
    code: 'string',
    error: 'string',
  })
}

describe('deeply nested JSON', () => {
  test('a 100,000-deep body or metadata is a 400, not a stack overflow', async () => {
    const body = await h.call('POST', '/api/agents', { token: ws.key, raw: deep(100_000), headers: json })
    expectEnvelope(body, 400, 'deep body')
    expect(body.body.code).toBe('invalid_json')
    const metadata = await h.call('POST', '/api/agents', {
      token: ws.key,
      raw: `{"name":"x","capabilities":[{"name":"a","metadata":{"m":${deep(100_000)}}}]}`,
      headers: json,
    })
    expectEnvelope(metadata, 400, 'deep metadata')
    const payload = await h.call('POST', `/api/agents/${agent.id}/messages/send`, {
      token: ws.key,
      raw: `{"toAgentId":"${agent.id}","payload":${deep(5_000)}}`,
      headers: json,
    })
    expectEnvelope(payload, 400, 'deep payload')
  })

  test('ordinary nesting still passes', async () => {
    const res = await h.call('POST', `/api/agents/${agent.id}/messages/send`, {
      token: ws.key,
      raw: `{"toAgentId":"${agent.id}","payload":${deep(20)}}`,
      headers: json,
    })
    expect(res.status).toBe(200)
  })
})

describe('text no database should be asked to store', () => {
  const bodies: [string, string, string][] = [
    ['NUL in a name', '/api/agents', '{"name":"a\\u0000b"}'],
    ['lone surrogate in a name', '/api/agents', '{"name":"a\\ud800b"}'],
    ['lone low surrogate in a description', '/api/agents', '{"name":"a","description":"\\udc00"}'],
    [
      'NUL in capability metadata',
      '/api/agents',
      '{"name":"a","capabilities":[{"name":"c","metadata":{"k":"\\u0000"}}]}',
    ],
    [
      'NUL in a metadata key',
      '/api/agents',
      '{"name":"a","capabilities":[{"name":"c","metadata":{"\\u0000":1}}]}',
    ],
    ['NUL in a label', '/api/agents', '{"name":"a","label":"x\\u0000"}'],
  ]
  for (const [what, path, raw] of bodies) {
    test(`${what} → 400`, async () => {
      const res = await h.call('POST', path, { token: ws.key, raw, headers: json })
      expectEnvelope(res, 400, what)
      expect(res.body.code).toBe('invalid_request')
    })
  }

  test('message payloads, command params and workspace names are checked too', async () => {
    for (const [what, method, path, raw, token] of [
      [
        'payload value',
        'POST',
        `/api/agents/${agent.id}/messages/send`,
        `{"toAgentId":"${agent.id}","payload":{"k":"\\u0000"}}`,
        ws.key,
      ],
      [
        'payload key',
        'POST',
        `/api/agents/${agent.id}/messages/send`,
        `{"toAgentId":"${agent.id}","payload":{"k\\ud800":1}}`,
        ws.key,
      ],
      [
        'command params',
        'POST',
        `/api/agents/${agent.id}/command`,
        '{"action":"status","params":{"x":"\\u0000"}}',
        ws.key,
      ],
      ['key name', 'POST', '/api/workspace/keys', '{"name":"k\\u0000"}', ws.key],
    ] as const) {
      const res = await h.call(method, path, { token, raw, headers: json })
      expectEnvelope(res, 400, what)
    }
  })

  test('NUL in a query filter or a path parameter → 400', async () => {
    for (const path of [
      '/api/agents?q=%00',
      '/api/agents?label=a%00',
      '/api/agents?capability=%00x',
      '/api/agents/by-capability/a%00b',
      `/api/agents/${agent.id}/messages?channel=%00`,
      '/api/audit-logs?action=%00',
    ]) {
      const res = await h.call('GET', path, { token: ws.key })
      expectEnvelope(res, 400, path)
    }
  })

  test('a stored agent is untouched by the refused requests', async () => {
    const list = await h.call('GET', '/api/agents?limit=500', { token: ws.key })
    expect(list.status).toBe(200)
    expect(list.text).not.toContain('\\u0000')
  })
})

describe('asset names that are object properties', () => {
  test('/docs/assets/<prototype property> → 404 with the envelope, no credential needed', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const res = await h.call('GET', `/docs/assets/${name}`)
      expectEnvelope(res, 404, name)
    }
    expect((await h.call('GET', '/docs/assets/swagger-ui.css')).status).toBe(200)
  })
})
