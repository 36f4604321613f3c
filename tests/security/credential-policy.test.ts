import { describe, expect, test } from 'bun:test'
import { estimatedBits, MIN_TOKEN_BITS } from '../../src/modules/tokens/entropy'
import { harness, registerAgent, TestClock } from '../helpers'

/**
 * Credential policy a hostile workspace (or a leaked short-lived key) would probe: a key
 * outliving the key that made it, a guessable pre-generated token, the registration answer as
 * an oracle for other workspaces' tokens, and revoking the last key that still works.
 */
const clock = new TestClock()
const h = await harness({ clock })
// Requests through app.handle share one client address: this suite's IP limit is its own.
const guarded = await harness({
  env: { SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0.001', SWITCHBOARD_RATE_LIMIT_IP_BURST: '4' },
})
const strong = () => `agent_tok_${crypto.randomUUID().replaceAll('-', '')}`

describe('a key may not outlive the key that made it', () => {
  test('a key expiring in 1 h cannot mint a longer-lived or everlasting key', async () => {
    const ws = await h.workspace()
    const hourKey = await h.call('POST', '/api/workspace/keys', {
      token: ws.key,
      body: { name: 'ci', expiresInSeconds: 3600 },
    })
    expect(hourKey.status).toBe(201)
    const parentExpiry = hourKey.body.key.expiresAt
    const longer = await h.call('POST', '/api/workspace/keys', {
      token: hourKey.body.apiKey,
      body: { name: 'forever-ish', expiresInSeconds: 7200 },
    })
    expect(longer.status).toBe(400)
    expect(longer.body.code).toBe('invalid_request')
    // Without an expiry of its own the new key ends with its parent.
    const inherits = await h.call('POST', '/api/workspace/keys', {
      token: hourKey.body.apiKey,
      body: { name: 'child' },
    })
    expect(inherits.status).toBe(201)
    expect(inherits.body.key.expiresAt).toBe(parentExpiry)
    const shorter = await h.call('POST', '/api/workspace/keys', {
      token: hourKey.body.apiKey,
      body: { name: 'short', expiresInSeconds: 600 },
    })
    expect(shorter.status).toBe(201)
    // A key without an expiry may still make one without.
    const free = await h.call('POST', '/api/workspace/keys', { token: ws.key, body: { name: 'free' } })
    expect(free.body.key.expiresAt).toBeNull()
  })

  test('an agent rotating its own expiring token never gets an everlasting one', async () => {
    const ws = await h.workspace()
    const a = await registerAgent(h, ws.key)
    const short = await h.call('POST', `/api/agents/${a.id}/rotate-token`, {
      token: ws.key,
      body: { ttlSeconds: 3600 },
    })
    expect(short.body.expiresAt).not.toBeNull()
    const self = await h.call('POST', `/api/agents/${a.id}/rotate-token`, {
      token: short.body.token,
      body: {},
    })
    expect(self.status).toBe(200)
    expect(self.body.expiresAt).not.toBeNull()
    // The owner may still give it a token without an expiry.
    const owner = await h.call('POST', `/api/agents/${a.id}/rotate-token`, { token: ws.key, body: {} })
    expect(owner.body.expiresAt).toBeNull()
  })
})

describe('pre-generated tokens need real entropy', () => {
  test('repeats, runs and patterns are refused; random tokens are taken', async () => {
    const ws = await h.workspace()
    for (const token of [
      'a'.repeat(32),
      'abcdefghijklmnopqrstuvwxyzABCDEF',
      '0123456789'.repeat(4),
      'abc1'.repeat(10),
      'agent_tok_1234567890abcdefghijklmnop',
      'abababababababababababababababab',
    ]) {
      const res = await h.call('POST', '/api/agents', { token: ws.key, body: { name: 'weak', token } })
      expect({ token, status: res.status, code: res.body.code }).toEqual({
        token,
        status: 400,
        code: 'invalid_request',
      })
    }
    const ok = await h.call('POST', '/api/agents', {
      token: ws.key,
      body: { name: 'strong', token: strong() },
    })
    expect(ok.status).toBe(201)
  })

  test('the estimate: random hex and base64url pass, made-up text does not', () => {
    for (let i = 0; i < 200; i++) {
      const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('hex')
      const b64 = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')
      expect(estimatedBits(hex)).toBeGreaterThanOrEqual(MIN_TOKEN_BITS)
      expect(estimatedBits(b64)).toBeGreaterThanOrEqual(MIN_TOKEN_BITS)
    }
    expect(estimatedBits('a'.repeat(256))).toBeLessThan(16)
    expect(estimatedBits('9876543210'.repeat(5))).toBeLessThan(MIN_TOKEN_BITS)
    expect(estimatedBits('Password1'.repeat(5))).toBeLessThan(MIN_TOKEN_BITS)
  })
})

describe('registration is no oracle for other workspaces’ tokens', () => {
  test('a taken token and a taken id answer the same 409, and each counts against the IP limit', async () => {
    const victim = await guarded.workspace()
    const attacker = await guarded.workspace()
    const token = strong()
    const id = crypto.randomUUID()
    expect(
      (
        await guarded.call('POST', '/api/agents', {
          token: victim.key,
          body: { name: 'v', token, agentId: id },
        })
      ).status,
    ).toBe(201)
    const byToken = await guarded.call('POST', '/api/agents', {
      token: attacker.key,
      body: { name: 'x', token },
    })
    const byId = await guarded.call('POST', '/api/agents', {
      token: attacker.key,
      body: { name: 'x', agentId: id },
    })
    expect(byToken.status).toBe(409)
    expect(byId.status).toBe(409)
    expect(byToken.body).toEqual(byId.body)
    expect(byToken.text).not.toMatch(/token/i)
    // The IP allows 4 failures at once: two above, two more, then 429 however valid the key.
    const more = []
    for (let i = 0; i < 3; i++)
      more.push(
        (await guarded.call('POST', '/api/agents', { token: attacker.key, body: { name: 'x', token } }))
          .status,
      )
    expect(more).toEqual([409, 409, 429])
    // Nothing of the victim was touched, and the attacker's key still works elsewhere.
    expect((await guarded.call('GET', '/api/agents/me', { token })).body.id).toBe(id)
    expect((await guarded.call('GET', '/api/workspace', { token: attacker.key })).status).toBe(200)
  })
})

describe('the last usable key', () => {
  test('cannot be revoked while every other key has expired', async () => {
    const ws = await h.workspace()
    const keys = await h.call('GET', '/api/workspace/keys', { token: ws.key })
    const firstId = keys.body.keys[0].id
    const temp = await h.call('POST', '/api/workspace/keys', {
      token: ws.key,
      body: { name: 'temp', expiresInSeconds: 60 },
    })
    expect(temp.status).toBe(201)
    clock.advance(120_000)
    expect((await h.call('GET', '/api/workspace', { token: temp.body.apiKey })).status).toBe(401)
    const revoke = await h.call('DELETE', `/api/workspace/keys/${firstId}`, { token: ws.key })
    expect(revoke.status).toBe(409)
    expect(revoke.body.code).toBe('conflict')
    expect((await h.call('GET', '/api/workspace', { token: ws.key })).status).toBe(200)
    // With a second usable key it can go.
    const spare = await h.call('POST', '/api/workspace/keys', { token: ws.key, body: { name: 'spare' } })
    expect(
      (await h.call('DELETE', `/api/workspace/keys/${firstId}`, { token: spare.body.apiKey })).status,
    ).toBe(200)
  })
})
