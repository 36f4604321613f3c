import { resultOf } from '../jobs/result'

/** Headers a sender's call never hands on: its credentials, its connection's framing, our own. */
const WITHHELD = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
])

/** The sender's headers the agent may see: all but credentials, framing, `x-switchboard-*` and the trigger's token header. */
export function passableHeaders(headers: Headers, tokenHeader: string | null): Record<string, string> {
  const out: Record<string, string> = {}
  const token = tokenHeader?.toLowerCase()
  for (const [k, v] of headers) {
    if (WITHHELD.has(k) || k === token || k.startsWith('x-switchboard-')) continue
    out[k] = v
  }
  return out
}

/**
 * The `json_envelope` transform: one JSON document for the agent, whatever the sender sent —
 * the trigger, when it came, the sender's headers (see passableHeaders), the query of the hook
 * URL, and the body (JSON when it parses, else text, else `{encoding: "base64", data}`).
 */
export function envelope(input: {
  trigger: { id: string; name: string }
  receivedAt: Date
  headers: Headers
  tokenHeader: string | null
  query: URLSearchParams
  body: Uint8Array
}): Uint8Array {
  const doc = {
    trigger: input.trigger,
    receivedAt: input.receivedAt.toISOString(),
    contentType: input.headers.get('content-type'),
    headers: passableHeaders(input.headers, input.tokenHeader),
    query: Object.fromEntries(input.query),
    body: resultOf(input.body, false),
  }
  return new TextEncoder().encode(JSON.stringify(doc))
}
