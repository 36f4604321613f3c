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

/**
 * The headers sent upstream: the caller's, cleaned, plus Switchboard's and the endpoint
 * credential. A plain record (header names arrive lower-cased): this runs on every call.
 */
export function upstreamHeaders(incoming: Headers, hop: Hop, call: CallContext): Record<string, string> {
  const connection = incoming.get('connection')
  const named = connection ? new Set(connection.split(',').map((s) => s.trim().toLowerCase())) : null
  const out: Record<string, string> = {}
  for (const [k, value] of incoming) {
    if (HOP_BY_HOP.has(k) || CALLER_ONLY.has(k) || named?.has(k) || k.startsWith('x-switchboard-')) continue
    out[k] = value
  }
  out['x-switchboard-caller'] = call.caller.permanentId
  if (call.connectionId) out['x-switchboard-connection'] = call.connectionId
  out['x-request-id'] = call.requestId
  if (call.extra) for (const k in call.extra) out[k.toLowerCase()] = call.extra[k]!
  if (hop.agent.credential) out[hop.agent.credential.name.toLowerCase()] = hop.agent.credential.value
  return out
}

/** The headers of an upstream answer a caller may see. */
export function answerHeaders(upstream: Headers, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of ANSWER_HEADERS) {
    const v = upstream.get(k)
    if (v !== null) out[k] = v
  }
  for (const k in extra) out[k] = extra[k]!
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
