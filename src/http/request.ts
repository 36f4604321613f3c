import { Elysia } from 'elysia'
import type { Deps } from '../deps'
import { AppError } from '../lib/errors'
import { LATENCY_BUCKETS } from '../lib/metrics'
import { rateLimitHeaders } from '../lib/ratelimit'
import { idsOnly, type Trace } from '../lib/trace/tracer'
import { mentionsSession } from '../modules/sessions/cookie'

type Server = { requestIP(r: Request): { address: string } | null } | null

/** Per-request facts every layer may need, keyed by the Request object itself. */
export type RequestMeta = {
  id: string
  start: number
  server: Server
  trace: Trace
  /** The authenticated caller's workspace (set by auth), for the log line of a failed request. */
  workspaceId?: string
  /** The error code the answer carries (set by the error handler). */
  errorCode?: string
  /** The client address, when something needed it (a failed request, an IP limit, an exported span). */
  ip?: string
}
const metas = new WeakMap<Request, RequestMeta>()

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/

export function requestMeta(request: Request): RequestMeta {
  let m = metas.get(request)
  if (!m) {
    m = {
      id: crypto.randomUUID(),
      start: performance.now(),
      server: null,
      trace: idsOnly.request(null, null, null),
    }
    metas.set(request, m)
  }
  return m
}

/**
 * Request id (taken from a well-formed incoming `x-request-id`, else generated), trace context
 * (the caller's `traceparent` continued, else a new trace), one JSON log line per request, and
 * the request metrics. The log line carries no header, query string or body: nothing a
 * credential could hide in. A failed request's line (4xx/5xx) also names the client address,
 * the caller's workspace and the error code; a lane's line lists its upstream calls.
 */
export function requestPlugin(deps: Deps) {
  const requests = deps.metrics.counter(
    'switchboard_http_requests_total',
    'HTTP requests by route, method and status',
  )
  const latency = deps.metrics.histogram(
    'switchboard_http_request_duration_seconds',
    'HTTP request latency by route, in seconds',
    LATENCY_BUCKETS,
  )
  const tracer = deps.tracer
  // Both scopes show from the first scrape, at zero until something is refused.
  for (const scope of ['ip', 'proxy']) refusals(deps).series({ scope })
  return new Elysia({ name: 'switchboard.request' })
    .onRequest(({ request, set, server }) => {
      const headers = request.headers
      const incoming = headers.get('x-request-id')
      const traceparent = headers.get('traceparent')
      const start = performance.now()
      const meta: RequestMeta = {
        id: incoming && INCOMING_ID.test(incoming) ? incoming : crypto.randomUUID(),
        start,
        server,
        // What a server span needs is gathered only when spans are exported.
        trace: tracer.request(
          traceparent,
          // Only a continued trace carries the caller's tracestate: not looked up otherwise.
          traceparent === null ? null : headers.get('tracestate'),
          tracer.exporting
            ? {
                method: request.method,
                url: request.url,
                userAgent: headers.get('user-agent'),
                startedAt: performance.timeOrigin + start,
              }
            : null,
        ),
      }
      if (tracer.exporting) meta.ip = clientIp(request, server, deps.config.trustProxy)
      metas.set(request, meta)
      set.headers['x-request-id'] = meta.id
      // Requests without a credential are limited per client IP (credentials are limited where
      // they are used; a stream's ?token= and a console session cookie count against the IP
      // only when they fail).
      // Probes (load balancer, orchestrator, Prometheus) are never limited: a burst of bad
      // requests from the same address must not make a health check see 429. The relays and
      // the webhook triggers take no Switchboard credential and have limits of their own
      // (modules/relays/admit.ts, modules/triggers/receive.ts).
      if (
        !isProbe(request.url) &&
        !headers.has('authorization') &&
        !headers.has('x-api-key') &&
        !hasStreamToken(request) &&
        !isRelay(request) &&
        !isHook(request) &&
        !hasApiSession(request)
      ) {
        limitByIp(deps, request)
      }
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set, responseValue }) => {
      const meta = requestMeta(request)
      const ms = performance.now() - meta.start
      const status = responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200)
      const routeLabel = route || 'unmatched'
      requests.inc({ route: routeLabel, method: request.method, status: String(status) })
      latency.observe({ route: routeLabel }, ms / 1000)
      const failed = status >= 400
      const ip =
        failed || tracer.exporting
          ? (meta.ip ?? clientIp(request, meta.server, deps.config.trustProxy))
          : null
      const trace = meta.trace
      if (tracer.exporting)
        tracer.endRequest(trace, {
          route: routeLabel,
          status,
          errorCode: meta.errorCode ?? null,
          clientIp: ip,
        })
      const fields: Record<string, unknown> = {
        requestId: meta.id,
        traceId: trace.traceId,
        method: request.method,
        route: routeLabel,
        status,
        durationMs: Math.round(ms * 100) / 100,
      }
      if (failed) {
        fields.code = meta.errorCode ?? null
        fields.ip = ip
        fields.workspaceId = meta.workspaceId ?? null
      }
      if (trace.hops && trace.hops.length > 0) fields.upstream = trace.hops
      deps.log.info('request', fields)
    })
}

/** The client address of a request (see clientIp). */
export const clientAddress = (request: Request, trustProxy: boolean) =>
  clientIp(request, requestMeta(request).server, trustProxy)

/** The client address: the socket's peer, or the last X-Forwarded-For hop behind a trusted proxy. */
export function clientIp(request: Request, server: Server, trustProxy: boolean) {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')
    const last = forwarded?.split(',').at(-1)?.trim()
    if (last) return last
  }
  return server?.requestIP(request)?.address ?? 'unknown'
}

/**
 * Counts one request against the client IP; over the limit it is a 429 with Retry-After.
 * The address is only looked up here: most requests carry a credential and never need it.
 */
export function limitByIp(deps: Deps, request: Request) {
  if (!deps.limits.ip.enabled) return
  const meta = requestMeta(request)
  const ip = clientIp(request, meta.server, deps.config.trustProxy)
  meta.ip = ip
  const d = deps.limits.ip.take(`ip:${ip}`)
  if (d.allowed) return
  countRefusal(deps, 'ip')
  throw new AppError(
    'rate_limited',
    'Too many requests from this address; retry later',
    undefined,
    rateLimitHeaders(d),
  )
}

/** A rate-limit refusal, by the limit that refused (`proxy`: per agent on the lanes; `ip`). */
export function countRefusal(deps: Pick<Deps, 'metrics'>, scope: 'ip' | 'proxy') {
  refusals(deps).inc({ scope })
}
const refusals = (deps: Pick<Deps, 'metrics'>) =>
  deps.metrics.counter('switchboard_rate_limited_total', 'Requests refused by a rate limit, by scope')

const PROBES = new Set(['/healthz', '/readyz', '/metrics'])

function isProbe(url: string) {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return false
  const q = url.indexOf('?', start)
  return PROBES.has(q === -1 ? url.slice(start) : url.slice(start, q))
}

/**
 * A console session cookie on an API route: every API route that takes it checks it and
 * counts a failure (http/auth.ts); elsewhere (relays, hooks, pages) nothing reads it, so it
 * exempts nothing there.
 */
function hasApiSession(request: Request) {
  if (!mentionsSession(request.headers.get('cookie'))) return false
  const start = request.url.indexOf('/', request.url.indexOf('//') + 2)
  return start !== -1 && request.url.startsWith('/api/', start)
}

/** A WebSocket upgrade carrying `?token=`: many agents behind one NAT may reconnect at once. */
function hasStreamToken(request: Request) {
  const url = request.url
  const q = url.indexOf('?')
  return q !== -1 && url.slice(0, q).endsWith('/api/ws') && new URLSearchParams(url.slice(q + 1)).has('token')
}

/** `/relay/…`: the external relays, limited by their own settings. */
/** `POST /hooks/{id}`: webhook triggers count per IP on a bucket of their own (modules/triggers/receive.ts). */
function isHook(request: Request) {
  const url = request.url
  const start = url.indexOf('/', url.indexOf('//') + 2)
  return url.startsWith('/hooks/', start)
}

function isRelay(request: Request) {
  const url = request.url
  const start = url.indexOf('/', url.indexOf('//') + 2)
  return url.startsWith('/relay/', start)
}
