import { Webhook } from 'standardwebhooks'

/**
 * Standard Webhooks headers for one attempt. Every secret given signs (space-separated
 * `v1,…` signatures), so during a rotation receivers holding either secret can verify.
 */
export function signatureHeaders(
  secrets: readonly string[],
  messageId: string,
  at: Date,
  body: string,
): Record<string, string> {
  if (secrets.length === 0) throw new Error('no signing secret')
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(messageId, at, body)).join(' '),
  }
}

/** A new `whsec_` secret: 32 random bytes, base64, as Standard Webhooks libraries expect. */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`
}
