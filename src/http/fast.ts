import { type AnyElysia, ParseError, ValidationError } from 'elysia'
import { mapEarlyResponse, mapResponse } from 'elysia/adapter/bun/handler'
import { ElysiaCustomStatusResponse, ERROR_CODE } from 'elysia/error'

/**
 * The hottest routes, taken by Bun's router ahead of the framework's per-route machinery.
 * Each runs the very hooks the framework would — the global request hooks, the route's
 * parse and transform hooks, its param and body schemas, its auth resolve, its handler, its error hooks,
 * the after-response hooks — in the framework's order and with its response mapping, so the
 * status, body, headers, error envelope, log line and metrics are the same. What it leaves
 * out is what costs without showing: the per-request context the framework assembles, and
 * the re-validation of the handler's own answer against the response schema (the OpenAPI
 * document still says what the answer is; tests hold the answers to it on both paths).
 * See docs/adr/0014-fast-path.md.
 *
 * Only `app.listen()` uses it (Bun's `routes`); `app.handle(request)` is always the framework,
 * which is how tests run the same assertions through both paths.
 */
export const FAST_ROUTES: readonly (readonly [method: string, path: string])[] = [
  ['POST', '/api/proxy/:connectionId'],
  ['POST', '/api/agents/:agentId/heartbeat'],
  ['GET', '/api/agents/me'],
]

type Fn = (c: Context, ...rest: unknown[]) => unknown
type Hook = { fn: Fn | string; subType?: string }
type Standard = { '~standard': { validate(v: unknown): Validated | Promise<Validated> } }
type Validated = { value?: unknown; issues?: readonly unknown[] }
type RouteHooks = Partial<Record<string, Hook[] | undefined>> & {
  params?: Standard
  body?: Standard
}
type Route = { method: string; path: string; handler: Fn; hooks: RouteHooks }
type Internals = {
  router: { history: Route[] }
  event: Partial<Record<string, Hook[] | undefined>>
  extender: { higherOrderFunctions: unknown[] }
  singleton: { decorator: Record<string, unknown> }
  store: unknown
  handleError(c: Context, error: unknown, skipGlobal: boolean): Promise<Response>
}
type Context = Record<string, unknown> & {
  request: Request
  set: { headers: Record<string, string>; status: number }
}
type BunRequest = Request & { params?: Record<string, string> }
export type FastHandler = (request: BunRequest, server: unknown) => Response | Promise<Response>

/** Requests the fast path took (tests check which path served them; not a metric, nothing differs). */
export const fastPathServed = { count: 0 }

/** Hook kinds the fast path runs; a fast route with any other kind refuses to be built. */
const ROUTE_HOOKS = new Set(['parse', 'transform', 'beforeHandle', 'afterResponse', 'error', 'request'])
const GLOBAL_HOOKS = new Set(['request', 'parse', 'transform', 'beforeHandle', 'afterResponse', 'error'])

/**
 * Bun `routes` for the fast routes. Built once the app has every plugin (the end of
 * `createApp`), so a hook the fast path does not run stops the start, never a request.
 */
export function fastRoutes(
  app: AnyElysia,
  routes = FAST_ROUTES,
): Record<string, Record<string, FastHandler>> {
  const out: Record<string, Record<string, FastHandler>> = {}
  for (const [method, path] of routes) out[path] = { ...out[path], [method]: fastRoute(app, method, path) }
  return out
}

/** One route's handler; throws when the route has something the fast path does not run. */
export function fastRoute(app: AnyElysia, method: string, path: string): FastHandler {
  const a = app as unknown as Internals
  const route = a.router.history.find((r) => r.method === method && r.path === path)
  if (!route) throw new Error(`fast path: no route ${method} ${path}`)
  const h = route.hooks
  const odd = [
    ...Object.keys(a.event).filter((k) => a.event[k]?.length && !GLOBAL_HOOKS.has(k)),
    ...Object.keys(h).filter((k) => Array.isArray(h[k]) && h[k]!.length && !ROUTE_HOOKS.has(k)),
    ...(a.extender.higherOrderFunctions.length ? ['wrap'] : []),
  ]
  if (odd.length) throw new Error(`fast path: ${method} ${path} has hooks it does not run: ${odd.join(', ')}`)

  const fns = (list: Hook[] | undefined) => (list ?? []).map((x) => x.fn)
  const onRequest = fns(a.event.request) as Fn[]
  // The framework reads a body only for a route that declares one (the fast routes name theirs).
  const parsers = h.body ? fns(h.parse) : []
  // Between parse and validation, as in the framework: input checks and the credential (auth.ts).
  const transforms = fns(h.transform) as Fn[]
  const before = (h.beforeHandle ?? []).map((x) => ({ fn: x.fn as Fn, resolve: x.subType === 'resolve' }))
  const onError = fns(h.error) as Fn[]
  const afterResponse = fns(h.afterResponse) as Fn[]
  const paramsSchema = h.params
  const bodySchema = h.body
  const decorators = Object.entries(a.singleton.decorator)
  const after = (c: Context) =>
    setImmediate(async () => {
      if (c.responseValue instanceof ElysiaCustomStatusResponse) c.set.status = c.responseValue.code
      for (const fn of afterResponse) await fn(c)
    })

  return async (request, server) => {
    fastPathServed.count++
    const c: Context = {
      request,
      store: a.store,
      params: request.params,
      path,
      url: request.url,
      set: { headers: Object.create(null), status: 200 },
      server,
      route: path,
    }
    for (const [k, v] of decorators) c[k] = v
    try {
      for (const fn of onRequest) {
        let r = fn(c)
        if (r instanceof Promise) r = await r
        if (r !== undefined) {
          const early = mapEarlyResponse(r, c.set)
          if (early !== undefined) return early
        }
      }
    } catch (error) {
      return a.handleError(c, error, false)
    }
    try {
      if (parsers.length) await parseBody(c, parsers)
      for (const fn of transforms) {
        const r = fn(c)
        if (r instanceof Promise) await r
      }
      if (paramsSchema) c.params = await validate(c, 'params', paramsSchema, c.params)
      if (bodySchema) c.body = await validate(c, 'body', bodySchema, c.body)
      for (const b of before) {
        let r = b.fn(c)
        if (r instanceof Promise) r = await r
        if (b.resolve) {
          if (r instanceof ElysiaCustomStatusResponse) {
            c.response = c.responseValue = r
            after(c)
            return mapResponse(r, c.set, request)
          }
          Object.assign(c, r)
        } else if (r !== undefined) {
          c.response = c.responseValue = r
          after(c)
          return mapEarlyResponse(r, c.set, request) ?? mapResponse(r, c.set, request)
        }
      }
      let r = route.handler(c)
      if (r instanceof Promise) r = await r
      if (r instanceof ElysiaCustomStatusResponse) {
        c.set.status = r.code
        r = r.response
      }
      c.response = c.responseValue = r
      const res = mapResponse(r, c.set, request)
      after(c)
      return res
    } catch (error) {
      const set = c.set
      const e = error as { status?: number; code?: string; [ERROR_CODE]?: string } | null
      if (!set.status || set.status < 300) set.status = e?.status || 500
      c.error = error
      c.code = e?.code ?? e?.[ERROR_CODE] ?? 'UNKNOWN'
      for (const fn of onError) {
        let er = fn(c)
        if (er instanceof Promise) er = await er
        const res = mapEarlyResponse(er, set, request)
        if (res) {
          after(c)
          return res
        }
      }
      return a.handleError(c, error, true)
    }
  }
}

/** The route's parse hooks in order; the first that answers gives the body (`'json'`: request.json()). */
async function parseBody(c: Context, parsers: (Fn | string)[]) {
  const request = c.request
  let type = ''
  if (request.body) {
    const t = request.headers.get('content-type')
    if (t) type = t.indexOf(';') === -1 ? t : t.slice(0, t.indexOf(';'))
  }
  c.contentType = type
  try {
    for (const p of parsers) {
      let r = typeof p === 'string' ? await request.json() : p(c, type)
      if (r instanceof Promise) r = await r
      if (r !== undefined) {
        c.body = r
        return
      }
    }
    c.body = await request.json()
  } catch (error) {
    throw new ParseError(error as Error)
  } finally {
    delete c.contentType
  }
}

/** The route's schema, as the framework runs it: the parsed value, or a 422 ValidationError. */
async function validate(c: Context, on: 'params' | 'body', schema: Standard, value: unknown) {
  let v = schema['~standard'].validate(value)
  if (v instanceof Promise) v = await v
  if (v.issues) {
    c.set.status = 422
    throw new ValidationError(on, schema as never, value, false, v.issues as never)
  }
  return v.value
}
