import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { ADMIN_TOKEN, harness, registerAgent } from '../helpers'

/** The signing secret's routes: created on first read, sealed at rest, rotated by the workspace key only. */
const h = await harness()
const ws = await h.workspace()
const other = await h.workspace()

describe('webhook secret routes', () => {
  test('GET creates it once; the same after; another workspace has its own', async () => {
    const a = await h.call('GET', '/api/workspace/webhook-secret', { token: ws.key })
    expect(a.status).toBe(200)
    expect(a.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{44}$/)
    expect(a.body.previousSecretValidUntil).toBeNull()
    expect((await h.call('GET', '/api/workspace/webhook-secret', { token: ws.key })).body.secret).toBe(
      a.body.secret,
    )
    const b = await h.call('GET', '/api/workspace/webhook-secret', { token: other.key })
    expect(b.body.secret).not.toBe(a.body.secret)
    // Sealed at rest: the column holds ciphertext, never the secret.
    const { workspaces: w } = h.deps.db.t
    const [row] = await h.deps.db.orm.select().from(w).where(eq(w.id, ws.id))
    expect(row!.webhookSecret).toStartWith('v1.')
    expect(row!.webhookSecret).not.toContain(a.body.secret.slice(6, 20))
  })

  test('rotate answers the new secret and how long the old one still signs; it is audited', async () => {
    const before = (await h.call('GET', '/api/workspace/webhook-secret', { token: ws.key })).body.secret
    const res = await h.call('POST', '/api/workspace/webhook-secret/rotate', { token: ws.key })
    expect(res.status).toBe(200)
    expect(res.body.secret).not.toBe(before)
    const until = Date.parse(res.body.previousSecretValidUntil)
    expect(until - Date.now()).toBeGreaterThan(23.9 * 3600_000)
    expect(until - Date.now()).toBeLessThanOrEqual(24 * 3600_000)
    const now = (await h.call('GET', '/api/workspace/webhook-secret', { token: ws.key })).body
    expect(now.secret).toBe(res.body.secret)
    expect(now.previousSecretValidUntil).toBe(res.body.previousSecretValidUntil)
    const audit = await h.call('GET', '/api/audit-logs?action=webhook_secret_rotated', { token: ws.key })
    expect(audit.body.logs).toHaveLength(1)
    expect(audit.body.logs[0].action).toBe('webhook_secret_rotated')
    expect(JSON.stringify(audit.body)).not.toContain(res.body.secret)
    expect(JSON.stringify(audit.body)).not.toContain(before)
  })

  test('rotating a workspace that had none: a secret, no previous one', async () => {
    const fresh = await h.workspace()
    const res = await h.call('POST', '/api/workspace/webhook-secret/rotate', { token: fresh.key, body: {} })
    expect(res.status).toBe(200)
    expect(res.body.previousSecretValidUntil).toBeNull()
    expect((await h.call('GET', '/api/workspace/webhook-secret', { token: fresh.key })).body.secret).toBe(
      res.body.secret,
    )
  })

  test('auth and input: none 401, wrong kind 403, unknown fields 400', async () => {
    const agent = await registerAgent(h, ws.key)
    for (const [method, path] of [
      ['GET', '/api/workspace/webhook-secret'],
      ['POST', '/api/workspace/webhook-secret/rotate'],
    ] as const) {
      expect((await h.call(method, path)).status).toBe(401)
      expect((await h.call(method, path, { token: agent.token })).status).toBe(403)
      expect((await h.call(method, path, { token: ADMIN_TOKEN })).status).toBe(403)
    }
    const bad = await h.call('POST', '/api/workspace/webhook-secret/rotate', {
      token: ws.key,
      body: { graceHours: 1 },
    })
    expect(bad.status).toBe(400)
    expect(
      (await h.call('POST', '/api/workspace/webhook-secret/rotate', { token: ws.key, raw: '[' })).status,
    ).toBe(400)
  })
})
