import { Elysia, ValidationError } from 'elysia'
import { classify, unavailableError } from '../db/health'
import type { Deps } from '../deps'
import { AppError, type ErrorBody, errorBody } from '../lib/errors'
import { clientIp, requestMeta } from './request'

/**
 * The one place errors become HTTP answers. Known errors keep their code; validation and
 * parse failures are 400s with the offending fields; anything else is logged with the
 * request id and answered with a generic 500 that reveals nothing.
 */
export function errorPlugin(deps: Deps) {
  const faultLog = throttledFaultLog(deps)
  const faults = deps.metrics.counter(
    'switchboard_db_faults_total',
    'Requests answered 503 because of the database, by code (database_unavailable, storage_unavailable)',
  )
  for (const code of ['database_unavailable', 'storage_unavailable']) faults.series({ code })
  return new Elysia({ name: 'switchboard.errors' }).onError(
    { as: 'global' },
    ({ code, error, request, set }) => {
      const reply = (status: number, body: ErrorBody, headers?: Record<string, string>) => {
        const meta = requestMeta(request)
        meta.errorCode = body.code
        // The peer's address is known only while the request is in flight: the log line needs it.
        meta.ip ??= clientIp(request, meta.server, deps.config.trustProxy)
        set.status = status
        if (headers) Object.assign(set.headers, headers)
        set.headers['content-type'] = 'application/json'
        // Tells Switchboard's own refusal from an agent's answer on the pass-through proxy lanes.
        set.headers['x-switchboard-error'] = body.code
        return body
      }
      // Elysia wraps what a parse hook throws (our body limit and JSON errors) in a ParseError.
      // A database fault (unreachable, timed out, disk full, read-only) is a 503 the client can
      // retry, logged as the driver named it, whatever wraps it.
      const fault = classify(error)
      if (fault) {
        faults.inc({ code: fault.code })
        faultLog(fault.code, fault.cause, requestMeta(request), error)
        const e = unavailableError(fault)
        return reply(e.status, errorBody(e), e.headers)
      }
      const known = error instanceof AppError ? error : (error as { cause?: unknown })?.cause
      if (known instanceof AppError) return reply(known.status, errorBody(known), known.headers)
      if (code === 'VALIDATION' && error instanceof ValidationError && error.type !== 'response') {
        return reply(400, {
          error: `Invalid ${error.type === 'body' ? 'request body' : error.type}`,
          code: 'invalid_request',
          details: validationDetails(error),
        })
      }
      if (code === 'PARSE')
        return reply(400, { error: 'The request body could not be parsed', code: 'invalid_json' })
      if (code === 'NOT_FOUND') {
        return reply(404, {
          error: `No route for ${request.method} ${new URL(request.url).pathname}`,
          code: 'not_found',
        })
      }
      const meta = requestMeta(request)
      deps.log.error('unhandled error', {
        requestId: meta.id,
        traceId: meta.trace.traceId,
        code: String(code),
        error,
      })
      return reply(500, { error: 'Internal error', code: 'internal_error' })
    },
  )
}

/**
 * One line per fault kind a second at most (with how many were left out): an outage answers
 * every request with the same error, and the log must still show the cause, not drown in it.
 */
function throttledFaultLog(deps: Deps) {
  const last = new Map<string, { at: number; suppressed: number }>()
  return (code: string, cause: string, meta: { id: string; trace: { traceId: string } }, error: unknown) => {
    const key = `${code}:${cause}`
    const now = Date.now()
    const seen = last.get(key)
    if (seen && now - seen.at < 1000) {
      seen.suppressed++
      return
    }
    last.set(key, { at: now, suppressed: 0 })
    const level = code === 'storage_unavailable' ? 'error' : 'warn'
    deps.log[level](code === 'storage_unavailable' ? 'storage error' : 'database unavailable', {
      requestId: meta.id,
      traceId: meta.trace.traceId,
      cause,
      suppressed: seen?.suppressed ?? 0,
      error,
    })
  }
}

function validationDetails(error: ValidationError): { path: string; message: string }[] {
  const issues = (error.all ?? []) as Array<{ path?: unknown; message?: string; summary?: string }>
  return issues.slice(0, 20).map((i) => ({
    path: Array.isArray(i.path)
      ? i.path.map(String).join('.')
      : typeof i.path === 'string'
        ? i.path.replace(/^\//, '').replace(/\//g, '.')
        : '',
    message: String(i.message ?? i.summary ?? 'invalid'),
  }))
}
