import { Elysia } from 'elysia'
import type { Deps } from '../deps'

/** Per-request facts every layer may need, keyed by the Request object itself. */
export type RequestMeta = { id: string; start: number }
const metas = new WeakMap<Request, RequestMeta>()

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/

export function requestMeta(request: Request): RequestMeta {
  let m = metas.get(request)
  if (!m) {
    m = { id: crypto.randomUUID(), start: performance.now() }
    metas.set(request, m)
  }
  return m
}

/**
 * Request id (taken from a well-formed incoming `x-request-id`, else generated), one JSON
 * log line per request, and the request metrics. The log line carries no header, query
 * string or body: nothing a credential could hide in.
 */
export function requestPlugin(deps: Deps) {
  const requests = deps.metrics.counter(
    'switchboard_http_requests_total',
    'HTTP requests by route, method and status',
  )
  const latency = deps.metrics.histogram(
    'switchboard_http_request_duration_seconds',
    'HTTP request latency by route',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
  )
  return new Elysia({ name: 'switchboard.request' })
    .onRequest(({ request, set }) => {
      const incoming = request.headers.get('x-request-id')
      const meta = {
        id: incoming && INCOMING_ID.test(incoming) ? incoming : crypto.randomUUID(),
        start: performance.now(),
      }
      metas.set(request, meta)
      set.headers['x-request-id'] = meta.id
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set, responseValue }) => {
      const meta = requestMeta(request)
      const ms = performance.now() - meta.start
      const status = responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200)
      const routeLabel = route || 'unmatched'
      requests.inc({ route: routeLabel, method: request.method, status: String(status) })
      latency.observe({ route: routeLabel }, ms / 1000)
      deps.log.info('request', {
        requestId: meta.id,
        method: request.method,
        route: routeLabel,
        status,
        durationMs: Math.round(ms * 100) / 100,
      })
    })
}
