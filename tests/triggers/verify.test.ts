import { describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { deliveryKeyOf } from '../../src/modules/triggers/calls'
import { passableHeaders } from '../../src/modules/triggers/envelope'
import { verifyCall } from '../../src/modules/triggers/verify'
import { githubSignature, stripeSignature } from './fixtures'

/** The pure rules of a trigger call: verification of each kind, the delivery id, the headers an agent may see. */
const body = new TextEncoder().encode('{"hello":"world"}')
const now = Date.now()
const check = (v: Parameters<typeof verifyCall>[0], headers: Record<string, string>, b = body, at = now) =>
  verifyCall(v, new Headers(headers), b, at).ok

describe('verification', () => {
  const secret = 'shared-secret-0123456789'
  test('none passes anything; a kind that needs a secret and has none passes nothing', () => {
    expect(check({ type: 'none', secret: null, header: null }, {})).toBe(true)
    expect(check({ type: 'token', secret: null, header: null }, { authorization: 'Bearer x' })).toBe(false)
  })

  test('token: Bearer for Authorization, the bare value for any other header', () => {
    const v = { type: 'token' as const, secret, header: null }
    expect(check(v, { authorization: `Bearer ${secret}` })).toBe(true)
    expect(check(v, { authorization: `bearer   ${secret} ` })).toBe(true)
    expect(check(v, { authorization: secret })).toBe(false)
    expect(check(v, { authorization: `Bearer ${secret}x` })).toBe(false)
    expect(check(v, {})).toBe(false)
    const custom = { type: 'token' as const, secret, header: 'x-gitlab-token' }
    expect(check(custom, { 'X-Gitlab-Token': secret })).toBe(true)
    expect(check(custom, { authorization: `Bearer ${secret}` })).toBe(false)
  })

  test('hmac_sha256, GitHub-style: sha256=<hex>, bare hex or base64 of the raw body', () => {
    const v = { type: 'hmac_sha256' as const, secret, header: null }
    const mac = createHmac('sha256', secret).update(body).digest()
    expect(check(v, { 'x-hub-signature-256': githubSignature(secret, body) })).toBe(true)
    expect(check(v, { 'x-hub-signature-256': mac.toString('hex') })).toBe(true)
    expect(check(v, { 'x-hub-signature-256': mac.toString('hex').toUpperCase() })).toBe(true)
    expect(check(v, { 'x-hub-signature-256': mac.toString('base64') })).toBe(true)
    expect(check(v, { 'x-hub-signature-256': githubSignature(secret, 'other') })).toBe(false)
    expect(check(v, { 'x-hub-signature-256': githubSignature(secret, body).slice(0, -2) })).toBe(false)
    expect(check(v, { 'x-hub-signature': githubSignature(secret, body) })).toBe(false)
    const shopify = { type: 'hmac_sha256' as const, secret, header: 'x-shopify-hmac-sha256' }
    expect(check(shopify, { 'x-shopify-hmac-sha256': mac.toString('base64') })).toBe(true)
  })

  test('hmac_sha256, Stripe-style: t and v1, the timestamp within 5 minutes', () => {
    const v = { type: 'hmac_sha256' as const, secret, header: 'stripe-signature' }
    const text = new TextDecoder().decode(body)
    const t = Math.floor(now / 1000)
    expect(check(v, { 'stripe-signature': stripeSignature(secret, text, t) })).toBe(true)
    expect(check(v, { 'stripe-signature': stripeSignature(secret, text, t - 299) })).toBe(true)
    expect(check(v, { 'stripe-signature': stripeSignature(secret, text, t - 301) })).toBe(false)
    expect(check(v, { 'stripe-signature': stripeSignature(secret, text, t + 301) })).toBe(false)
    expect(check(v, { 'stripe-signature': stripeSignature('other-secret-0123456789', text, t) })).toBe(false)
    expect(check(v, { 'stripe-signature': `t=${t}` })).toBe(false)
    expect(check(v, { 'stripe-signature': 'garbage' })).toBe(false)
    // A v0 (test mode, another scheme) is not a v1.
    const v1 = stripeSignature(secret, text, t).split('v1=')[1]
    expect(check(v, { 'stripe-signature': `t=${t},v0=${v1}` })).toBe(false)
  })

  test('standard_webhooks: the reference library signs, verification agrees', () => {
    const key = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`
    const v = { type: 'standard_webhooks' as const, secret: key, header: null }
    const at = new Date()
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(key).sign('msg_1', at, new TextDecoder().decode(body)),
    }
    expect(check(v, headers)).toBe(true)
    expect(check(v, { ...headers, 'webhook-id': 'msg_2' })).toBe(false)
    expect(check(v, { ...headers, 'webhook-signature': 'v1,AAAA' })).toBe(false)
    expect(check(v, { 'webhook-id': 'msg_1' })).toBe(false)
  })
})

describe('delivery ids', () => {
  test('Idempotency-Key first, then X-GitHub-Delivery, then webhook-id; none: not deduplicated', () => {
    expect(deliveryKeyOf(new Headers({ 'x-github-delivery': 'g', 'idempotency-key': 'i' }))?.key).toBe(
      'idempotency-key:i',
    )
    expect(deliveryKeyOf(new Headers({ 'x-github-delivery': 'g', 'webhook-id': 'w' }))?.key).toBe(
      'x-github-delivery:g',
    )
    expect(deliveryKeyOf(new Headers({ 'webhook-id': 'w' }))?.key).toBe('webhook-id:w')
    expect(deliveryKeyOf(new Headers({}))).toBeNull()
  })

  test('a value that is too long or not printable is refused', () => {
    expect(() => deliveryKeyOf(new Headers({ 'idempotency-key': 'k'.repeat(256) }))).toThrow()
    expect(() => deliveryKeyOf(new Headers({ 'idempotency-key': '   ' }))).toThrow()
  })
})

describe('headers an agent may see', () => {
  test('no credentials, no framing, not the token header, not ours', () => {
    const h = new Headers({
      authorization: 'Bearer s',
      cookie: 'a=1',
      'x-api-key': 'k',
      'x-token': 't',
      host: 'h',
      'x-forwarded-for': '1.2.3.4',
      'x-switchboard-caller': 'agt-x',
      'x-github-event': 'push',
      'user-agent': 'GitHub-Hookshot/1',
    })
    expect(passableHeaders(h, 'X-Token')).toEqual({
      'x-github-event': 'push',
      'user-agent': 'GitHub-Hookshot/1',
    })
  })
})
