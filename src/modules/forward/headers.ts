import type { Credential } from './routing'

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

/**
 * Which of a caller's headers go up. Hop-by-hop headers, those the caller's `Connection`
 * names and `x-switchboard-*` never do; `drop` names the rest that stay behind.
 */
export type RequestHeaderRules = { drop: ReadonlySet<string> }

/** Which of an upstream answer's headers come back: a list of names, or everything but some. */
export type AnswerHeaderRules = { only: readonly string[] } | { except: ReadonlySet<string> }

/**
 * The proxy lanes: the caller's secrets and Switchboard's own business stay behind; the answer
 * brings back its type, caching and encoding only (set-cookie and the rest stay behind).
 */
export const LANE_HEADERS = {
  request: {
    drop: new Set(['host', 'authorization', 'cookie', 'x-api-key', 'x-request-id', 'content-length']),
  } satisfies RequestHeaderRules,
  answer: {
    only: ['content-type', 'cache-control', 'content-encoding', 'content-disposition', 'content-language'],
  } satisfies AnswerHeaderRules,
}

/**
 * A transparent hop (the relays): every header of the protocol passes both ways, except the
 * client's credentials and cookies going up, and cookies, auth challenges and connection
 * framing coming back (the relay is the client's only authority). `alt-svc` would point the
 * client at the upstream's own address, so it stays behind too.
 */
export const TRANSPARENT_HEADERS = {
  request: {
    drop: new Set([
      'host',
      'authorization',
      'cookie',
      'x-api-key',
      'x-request-id',
      'content-length',
      'expect',
      'forwarded',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-real-ip',
    ]),
  } satisfies RequestHeaderRules,
  answer: {
    except: new Set([
      ...HOP_BY_HOP,
      'set-cookie',
      'set-cookie2',
      'www-authenticate',
      'content-length',
      'alt-svc',
    ]),
  } satisfies AnswerHeaderRules,
}

/**
 * A third-party API called on an agent's behalf (app connections): the caller's own headers go
 * up (the app's API may need them) but never a credential, cookie, host or forwarding header —
 * the connection's credential is the only one; the answer's headers come back except cookies,
 * connection framing and the length and encoding of a body that is read, decoded and re-shaped.
 */
export const APP_HEADERS = {
  request: {
    drop: new Set([
      'host',
      'authorization',
      'proxy-authorization',
      'cookie',
      'cookie2',
      'content-length',
      'accept-encoding',
      'forwarded',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-real-ip',
    ]),
  } satisfies RequestHeaderRules,
  answer: {
    except: new Set([
      ...HOP_BY_HOP,
      'set-cookie',
      'set-cookie2',
      'content-length',
      'content-encoding',
      'alt-svc',
    ]),
  } satisfies AnswerHeaderRules,
}

/**
 * The headers sent upstream: the caller's, cleaned by `rules`, then Switchboard's own (`add`),
 * then the hop's trace context (the caller's `traceparent`/`tracestate` never pass as they
 * came: the hop names its own span as the parent), then the endpoint credential, which nothing
 * can override. A plain record (header names arrive lower-cased): this runs on every call.
 */
export function outgoingHeaders(
  incoming: Headers,
  rules: RequestHeaderRules,
  add: Record<string, string> | undefined,
  credential: Credential | null,
  traceparent?: string,
  tracestate?: string | null,
): Record<string, string> {
  const connection = incoming.get('connection')
  const named = connection ? new Set(connection.split(',').map((s) => s.trim().toLowerCase())) : null
  const out: Record<string, string> = {}
  for (const [k, value] of incoming) {
    if (HOP_BY_HOP.has(k) || rules.drop.has(k) || named?.has(k) || k.startsWith('x-switchboard-')) continue
    if (k === 'traceparent' || k === 'tracestate') continue
    out[k] = value
  }
  if (add) for (const k in add) out[k.toLowerCase()] = add[k]!
  if (traceparent) {
    out.traceparent = traceparent
    if (tracestate) out.tracestate = tracestate
  }
  if (credential) out[credential.name.toLowerCase()] = credential.value
  return out
}

/** The headers of an upstream answer a caller may see, plus the user's own (`extra` wins). */
export function answerHeaders(
  upstream: Headers,
  rules: AnswerHeaderRules = LANE_HEADERS.answer,
  extra: Record<string, string> = {},
): Headers | Record<string, string> {
  if ('only' in rules) {
    const out: Record<string, string> = {}
    for (const k of rules.only) {
      const v = upstream.get(k)
      if (v !== null) out[k] = v
    }
    for (const k in extra) out[k] = extra[k]!
    return out
  }
  const out = new Headers()
  for (const [k, v] of upstream) {
    if (rules.except.has(k) || k.startsWith('x-switchboard-')) continue
    out.append(k, v)
  }
  // Several values of one header (set-cookie aside, already gone) were joined by the iterator.
  for (const k in extra) out.set(k, extra[k]!)
  return out
}

/** Who is calling, over what, with which request id: the headers every lane adds. */
export type CallContext = {
  /** The calling agent; absent when no agent called (a webhook trigger's job). */
  caller?: { permanentId: string } | undefined
  connectionId?: string | null
  requestId: string
  /** Headers a lane adds (job id, status URL…). */
  extra?: Record<string, string>
}

export function callerHeaders(call: CallContext): Record<string, string> {
  const out: Record<string, string> = { 'x-request-id': call.requestId }
  if (call.caller) out['x-switchboard-caller'] = call.caller.permanentId
  if (call.connectionId) out['x-switchboard-connection'] = call.connectionId
  if (call.extra) for (const k in call.extra) out[k.toLowerCase()] = call.extra[k]!
  return out
}
