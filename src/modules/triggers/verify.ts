import { createHmac, timingSafeEqual } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import type { TriggerVerifyType } from '../../db/schema/types'
import { safeEqual } from '../../lib/crypto'

export type VerifySettings = { type: TriggerVerifyType; secret: string | null; header: string | null }
export type Verdict = { ok: true } | { ok: false; reason: string }

/** The header each kind reads when the trigger names none. */
export const DEFAULT_HEADER: Record<TriggerVerifyType, string | null> = {
  none: null,
  token: 'authorization',
  hmac_sha256: 'x-hub-signature-256',
  standard_webhooks: null,
}

/** Stripe-style signatures (`t=…,v1=…`) are read from this header; any other carries GitHub-style ones. */
export const STRIPE_HEADER = 'stripe-signature'
/** How far a signed timestamp (Stripe-style, Standard Webhooks) may be from now. */
export const TOLERANCE_SECONDS = 300

const refused = (reason: string): Verdict => ({ ok: false, reason })

/**
 * Checks a call against its trigger's verification, before anything about it is stored. Every
 * comparison of a secret or a signature is constant-time; a signature's length is public.
 * - `token`: the header holds the secret (`Authorization: Bearer <secret>` for Authorization);
 * - `hmac_sha256`: HMAC-SHA256 of the raw body under the secret — GitHub-style
 *   `X-Hub-Signature-256: sha256=<hex>` (hex or base64 also taken bare), or Stripe-style
 *   `Stripe-Signature: t=<unix>,v1=<hex>` over `<t>.<body>` with the timestamp within 5 minutes;
 * - `standard_webhooks`: webhook-id, webhook-timestamp and webhook-signature, checked by the
 *   reference library (timestamp within 5 minutes).
 */
export function verifyCall(v: VerifySettings, headers: Headers, body: Uint8Array, nowMs: number): Verdict {
  if (v.type === 'none') return { ok: true }
  if (!v.secret) return refused('no secret is configured')
  switch (v.type) {
    case 'token':
      return checkToken(v.secret, (v.header ?? DEFAULT_HEADER.token)!, headers)
    case 'hmac_sha256': {
      const header = (v.header ?? DEFAULT_HEADER.hmac_sha256)!.toLowerCase()
      const given = headers.get(header)
      if (!given) return refused(`the ${header} header is missing`)
      return header === STRIPE_HEADER
        ? checkStripe(v.secret, given, body, nowMs)
        : checkHmac(v.secret, given, body)
    }
    case 'standard_webhooks':
      return checkStandard(v.secret, headers, body)
  }
}

function checkToken(secret: string, header: string, headers: Headers): Verdict {
  const raw = headers.get(header)
  if (!raw) return refused(`the ${header} header is missing`)
  let token = raw.trim()
  if (header.toLowerCase() === 'authorization') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(raw)
    if (!m) return refused('Authorization is not Bearer <token>')
    token = m[1]!
  }
  return safeEqual(token, secret) ? { ok: true } : refused('the token is wrong')
}

/** A signature as bytes: `sha256=<hex>`, bare hex, or base64 (as some senders send it). */
function signatureBytes(given: string): Buffer | null {
  const s = given.trim()
  const hex = s.toLowerCase().startsWith('sha256=') ? s.slice(7) : s
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return Buffer.from(hex, 'hex')
  if (/^[A-Za-z0-9+/]{43}=$/.test(s)) return Buffer.from(s, 'base64')
  return null
}

function checkHmac(secret: string, given: string, body: Uint8Array): Verdict {
  const sig = signatureBytes(given)
  if (!sig) return refused('the signature is not sha256=<hex>')
  const mac = createHmac('sha256', secret).update(body).digest()
  return timingSafeEqual(sig, mac) ? { ok: true } : refused('the signature does not match')
}

function checkStripe(secret: string, given: string, body: Uint8Array, nowMs: number): Verdict {
  let t: string | null = null
  const v1: Buffer[] = []
  for (const part of given.split(',')) {
    const eq = part.indexOf('=')
    const [k, val] = [part.slice(0, eq).trim(), part.slice(eq + 1).trim()]
    if (k === 't' && /^\d{1,12}$/.test(val)) t = val
    else if (k === 'v1' && /^[0-9a-fA-F]{64}$/.test(val)) v1.push(Buffer.from(val, 'hex'))
  }
  if (t === null || v1.length === 0) return refused('the signature is not t=<timestamp>,v1=<hex>')
  if (Math.abs(nowMs / 1000 - Number(t)) > TOLERANCE_SECONDS)
    return refused('the signed timestamp is too old or new')
  const mac = createHmac('sha256', secret).update(`${t}.`).update(body).digest()
  // Every candidate is compared, so the time taken does not say which one matched.
  let match = false
  for (const sig of v1) match = timingSafeEqual(sig, mac) || match
  return match ? { ok: true } : refused('the signature does not match')
}

function checkStandard(secret: string, headers: Headers, body: Uint8Array): Verdict {
  const wanted = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const
  const given: Record<string, string> = {}
  for (const h of wanted) {
    const v = headers.get(h)
    if (!v) return refused(`the ${h} header is missing`)
    given[h] = v
  }
  try {
    new Webhook(secret).verify(new TextDecoder().decode(body), given, { jsonParse: false })
    return { ok: true }
  } catch (e) {
    return refused(e instanceof Error ? e.message : 'the signature does not match')
  }
}
