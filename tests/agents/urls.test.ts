import { describe, expect, test } from 'bun:test'
import { harness, registerAgent } from '../helpers'

// Tests allow 127.0.0.0/8 (local upstream agents); everything else keeps the default rules.
const h = await harness()
const ws = await h.workspace()

describe('outbound guard at registration', () => {
  const refused: [string, string, string][] = [
    ['endpointUrl', 'http://169.254.169.254/latest/meta-data/', 'metadata'],
    ['endpointUrl', 'http://10.0.0.5:8080/', 'private'],
    ['endpointUrl', 'http://192.168.1.10/', 'private'],
    ['endpointUrl', 'http://[::1]:8080/', 'loopback'],
    ['endpointUrl', 'http://0.0.0.0/', 'unspecified'],
    ['endpointUrl', 'http://100.64.0.1/', 'shared_address'],
    ['endpointUrl', 'http://[fe80::1]/', 'link_local'],
    ['endpointUrl', 'http://[::ffff:10.0.0.1]/', 'ipv4_mapped'],
    ['webhookUrl', 'http://172.16.0.1/hook', 'private'],
  ]
  for (const [field, url, rule] of refused) {
    test(`${field} ${url} → 400 naming "${rule}"`, async () => {
      const res = await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'x', [field]: url } })
      expect(res.status).toBe(400)
      expect(res.body.code).toBe('invalid_url')
      expect(res.body.details).toEqual({ field, rule })
      expect(res.body.error).toContain(rule)
    })
  }

  test('protocol override URLs are checked too, on registration and on PATCH', async () => {
    const res = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'x', protocols: { mcp: { enabled: true, url: 'http://10.1.2.3/mcp' } } },
    })
    expect(res.body.details).toEqual({ field: 'protocols.mcp.url', rule: 'private' })
    const a = await registerAgent(h, ws.key)
    const patched = await h.call('PATCH', `/api/agents/${a.id}`, {
      token: ws.key,
      body: { endpointUrl: 'http://169.254.169.254/' },
    })
    expect(patched.status).toBe(400)
    expect(patched.body.details.rule).toBe('metadata')
  })

  test('a name that does not resolve yet is accepted; an allowed network is accepted', async () => {
    const later = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'x', endpointUrl: 'https://not-yet-registered.invalid/run' },
    })
    expect(later.status).toBe(201)
    const local = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'x', endpointUrl: 'http://127.0.0.1:9/' },
    })
    expect(local.status).toBe(201)
  })
})
