import { describe, expect, test } from 'bun:test'
import { harness } from '../helpers'

/** The group, pool and lane routes in the OpenAPI document. */
const h = await harness()

describe('OpenAPI', () => {
  test('every group, pool and lane route is documented with its tag and schemas', async () => {
    const spec = (await h.call('GET', '/docs/json')).body
    const want: [string, string, string][] = [
      ['post', '/api/broadcast-groups', 'broadcast-groups'],
      ['get', '/api/broadcast-groups', 'broadcast-groups'],
      ['get', '/api/broadcast-groups/{id}', 'broadcast-groups'],
      ['patch', '/api/broadcast-groups/{id}', 'broadcast-groups'],
      ['delete', '/api/broadcast-groups/{id}', 'broadcast-groups'],
      ['post', '/api/broadcast-groups/{id}/members', 'broadcast-groups'],
      ['delete', '/api/broadcast-groups/{id}/members/{memberId}', 'broadcast-groups'],
      ['post', '/api/pools', 'pools'],
      ['get', '/api/pools', 'pools'],
      ['get', '/api/pools/{id}', 'pools'],
      ['patch', '/api/pools/{id}', 'pools'],
      ['delete', '/api/pools/{id}', 'pools'],
      ['post', '/api/pools/{id}/members', 'pools'],
      ['patch', '/api/pools/{id}/members/{memberId}', 'pools'],
      ['delete', '/api/pools/{id}/members/{memberId}', 'pools'],
      ['post', '/api/proxy/broadcast/{groupId}', 'proxy'],
      ['post', '/api/proxy/pool/{poolId}', 'proxy'],
    ]
    for (const [method, path, tag] of want) {
      const op = spec.paths[path]?.[method]
      expect({ method, path, documented: !!op }).toEqual({ method, path, documented: true })
      expect(op.tags).toContain(tag)
      expect(op.security.length).toBeGreaterThan(0)
      for (const s of ['401', '403']) expect(op.responses[s]?.content).toBeTruthy()
      if (path.includes('{')) expect(op.responses['404']).toBeTruthy()
      if (method === 'post' || method === 'patch') expect(op.requestBody).toBeTruthy()
    }
    const lane = spec.paths['/api/proxy/broadcast/{groupId}'].post
    expect(lane.responses['413']).toBeTruthy()
    expect(lane.description).toContain('fulfilled when the member answered over HTTP')
    const pool = spec.paths['/api/proxy/pool/{poolId}'].post
    expect(pool.responses['502']).toBeTruthy()
    expect(spec.tags.map((t: any) => t.name)).toEqual(expect.arrayContaining(['broadcast-groups', 'pools']))
  })
})
