import type { Deps } from '../../deps'
import type { SendResult } from '../../lib/outbound/client'
import type { Hop } from './routing'

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy-* family never cross Switchboard. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
])

/** Caller headers that are Switchboard's business or the caller's secrets, never the upstream's. */
const CALLER_ONLY = new Set([
  'host',
  'authorization',
  'cookie',
  'x-api-key',
  'x-request-id',
  'content-length',
])

/** Upstream answer headers a caller gets back; everything else (set-cookie included) stays behind. */
const ANSWER_HEADERS = [
  'content-type',
  'cache-control',
  'content-encoding',
  'content-disposition',
  'content-language',
]

export type CallContext = {
  caller: { permanentId: string }
  connectionId?: string | null
  requestId: string
  /** Headers a lane adds (job id, status URL…). */
  extra?: Record<string, string>
}

/** The headers sent upstream: the caller's, cleaned, plus Switchboard's and the endpoint credential. */
export function upstreamHeaders(incoming: Headers, hop: Hop, call: CallContext): Headers {
  const named = new Set(
    (incoming.get('connection') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  )
  const out = new Headers()
  incoming.forEach((value, key) => {
    const k = key.toLowerCase()
    if (HOP_BY_HOP.has(k) || CALLER_ONLY.has(k) || named.has(k) || k.startsWith('x-switchboard-')) return
    out.set(k, value)
  })
  out.set('x-switchboard-caller', call.caller.permanentId)
  if (call.connectionId) out.set('x-switchboard-connection', call.connectionId)
  out.set('x-request-id', call.requestId)
  for (const [k, v] of Object.entries(call.extra ?? {})) out.set(k, v)
  if (hop.agent.credential) out.set(hop.agent.credential.name, hop.agent.credential.value)
  return out
}

/** The headers of an upstream answer a caller may see. */
export function answerHeaders(upstream: Headers, extra: Record<string, string> = {}): Headers {
  const out = new Headers()
  for (const k of ANSWER_HEADERS) {
    const v = upstream.get(k)
    if (v !== null) out.set(k, v)
  }
  for (const [k, v] of Object.entries(extra)) out.set(k, v)
  return out
}

/** Sends one planned hop through the outbound client (SSRF guard, pinned address, no redirects). */
export function sendHop(
  deps: Pick<Deps, 'outbound'>,
  hop: Hop,
  request: { method: string; headers: Headers; body: Bun.BodyInit | null },
  call: CallContext,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<SendResult> {
  return deps.outbound.send(
    {
      url: hop.url,
      method: request.method,
      headers: upstreamHeaders(request.headers, hop, call),
      body: request.body,
    },
    opts,
  )
}
