import { describe, expect, test } from 'bun:test'
import { bootstrapDefaultWorkspace } from '../../src/modules/workspaces/service'
import { ADMIN_TOKEN, harness, onPostgres, TestClock } from '../helpers'

const clock = new TestClock()
const h = await harness({ clock })

describe('workspaces (admin)', () => {
  test('create returns the key once; list pages through', async () => {
    const name = `acme-${crypto.randomUUID().slice(0, 6)}`
    const res = await h.call('POST', '/api/workspaces', { token: ADMIN_TOKEN, body: { name } })
    expect(res.status).toBe(201)
    expect(res.body.workspace.name).toBe(name)
    expect(res.body.apiKey).toMatch(/^wk_/)
    const me = await h.call('GET', '/api/workspace', { token: res.body.apiKey })
    expect(me.body).toEqual(res.body.workspace)
    const dup = await h.call('POST', '/api/workspaces', { token: ADMIN_TOKEN, body: { name } })
    expect(dup.status).toBe(409)
    const list = await h.call('GET', '/api/workspaces?limit=500', { token: ADMIN_TOKEN })
    expect(list.body.workspaces.map((w: any) => w.name)).toContain(name)
    expect(JSON.stringify(list.body)).not.toContain('wk_')
  })

  test('bad input', async () => {
    for (const body of [
      {},
      { name: '' },
      { name: ' ' },
      { name: '-x' },
      { name: 'x'.repeat(101) },
      { name: 'a', b: 1 },
    ]) {
      expect((await h.call('POST', '/api/workspaces', { token: ADMIN_TOKEN, body })).status).toBe(400)
    }
  })

  test('a new key for an existing workspace: admin only, the old keys still work, audited', async () => {
    const created = await h.call('POST', '/api/workspaces', {
      token: ADMIN_TOKEN,
      body: { name: `lost-${crypto.randomUUID().slice(0, 6)}` },
    })
    const id = created.body.workspace.id
    const res = await h.call('POST', `/api/workspaces/${id}/keys`, {
      token: ADMIN_TOKEN,
      body: { name: 'recovery' },
    })
    expect(res.status).toBe(201)
    expect(res.body.workspace).toEqual(created.body.workspace)
    expect(res.body.key).toMatchObject({ name: 'recovery', expiresAt: null })
    expect(res.body.apiKey).toMatch(/^wk_/)
    expect((await h.call('GET', '/api/workspace', { token: res.body.apiKey })).body.id).toBe(id)
    expect((await h.call('GET', '/api/workspace', { token: created.body.apiKey })).status).toBe(200)
    const audit = await h.call('GET', '/api/audit-logs', { token: res.body.apiKey })
    expect(audit.body.logs.map((e: any) => [e.action, e.actorType])).toContainEqual([
      'workspace_key_created',
      'admin',
    ])
    // Auth: none 401, a workspace key 403; an unknown workspace 404; bad input 400.
    const path = `/api/workspaces/${id}/keys`
    expect((await h.call('POST', path, { body: { name: 'x' } })).status).toBe(401)
    expect((await h.call('POST', path, { token: created.body.apiKey, body: { name: 'x' } })).status).toBe(403)
    const unknown = `/api/workspaces/${crypto.randomUUID()}/keys`
    expect((await h.call('POST', unknown, { token: ADMIN_TOKEN, body: { name: 'x' } })).status).toBe(404)
    for (const body of [
      {},
      { name: '' },
      { name: 1 },
      { name: 'a\u0000b' },
      { name: 'x'.repeat(101) },
      { name: 'a', x: 1 },
    ])
      expect((await h.call('POST', path, { token: ADMIN_TOKEN, body })).status).toBe(400)
    expect(
      (await h.call('POST', '/api/workspaces/not-a-uuid/keys', { token: ADMIN_TOKEN, body: { name: 'x' } }))
        .status,
    ).toBe(400)
  })

  test('without an admin token configured, nobody is admin', async () => {
    const h2 = await harness({ env: { SWITCHBOARD_ADMIN_TOKEN: '' } })
    const res = await h2.call('POST', '/api/workspaces', { token: ADMIN_TOKEN, body: { name: 'nope' } })
    expect(res.status).toBe(401)
  })
})

describe('workspace keys', () => {
  test('create with expiry, list without secrets, expiry ends access', async () => {
    const ws = await h.workspace()
    const res = await h.call('POST', '/api/workspace/keys', {
      token: ws.key,
      body: { name: 'deploy', expiresInSeconds: 120 },
    })
    expect(res.status).toBe(201)
    expect(res.body.key).toMatchObject({ name: 'deploy', prefix: res.body.apiKey.slice(0, 10) })
    const list = await h.call('GET', '/api/workspace/keys', { token: res.body.apiKey })
    expect(list.body.keys).toHaveLength(2)
    expect(list.text).not.toContain(res.body.apiKey)
    clock.advance(121_000)
    expect((await h.call('GET', '/api/workspace', { token: res.body.apiKey })).status).toBe(401)
    expect((await h.call('GET', '/api/workspace', { token: ws.key })).status).toBe(200)
  })

  test('bad input and foreign keys', async () => {
    const ws = await h.workspace()
    const other = await h.workspace()
    for (const body of [
      {},
      { name: 'x', expiresInSeconds: 10 },
      { name: 'x', expiresInSeconds: 'soon' },
      { name: 'x', y: 1 },
    ]) {
      expect((await h.call('POST', '/api/workspace/keys', { token: ws.key, body })).status).toBe(400)
    }
    const foreignKeyId = (await h.call('GET', '/api/workspace/keys', { token: other.key })).body.keys[0].id
    expect((await h.call('DELETE', `/api/workspace/keys/${foreignKeyId}`, { token: ws.key })).status).toBe(
      404,
    )
    expect((await h.call('DELETE', '/api/workspace/keys/not-a-uuid', { token: ws.key })).status).toBe(400)
  })
})

test.skipIf(onPostgres)('first start creates workspace "default" once', async () => {
  const fresh = await harness()
  const first = await bootstrapDefaultWorkspace(fresh.deps)
  expect(first?.apiKey).toMatch(/^wk_/)
  expect(await bootstrapDefaultWorkspace(fresh.deps)).toBeNull()
  const res = await fresh.call('GET', '/api/workspace', { token: first!.apiKey })
  expect(res.body.name).toBe('default')
})
