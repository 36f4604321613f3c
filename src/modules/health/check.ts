import type { Trace } from '../../lib/trace/tracer'
import type { ForwardingEngine } from '../forward/engine'
import { LANE_HEADERS } from '../forward/headers'

export type CheckResult = {
  ok: boolean
  httpStatus: number | null
  latencyMs: number | null
  error: string | null
}

const NO_HEADERS = new Headers()
const CHECK_HEADERS = { 'user-agent': 'Switchboard-Health/1', accept: '*/*' }

/**
 * One health check: a GET to the endpoint through the forwarding engine (the outbound guard,
 * the upstream metrics as lane `health`, a hop of the sweep's trace). Any HTTP answer below
 * 500 means something is there and answering (a 401 or 404 included); a 5xx, a timeout, a
 * refused address or a network error does not.
 */
export async function checkEndpoint(
  forward: ForwardingEngine,
  url: string,
  opts: { timeoutMs: number; signal?: AbortSignal; trace: Trace },
): Promise<CheckResult> {
  const started = performance.now()
  const sent = await forward.send(
    { url, credential: null },
    { method: 'GET', headers: NO_HEADERS, body: null },
    {
      lane: 'health',
      trace: opts.trace,
      rules: LANE_HEADERS.request,
      add: CHECK_HEADERS,
      timeoutMs: opts.timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
  )
  const latencyMs = Math.round(performance.now() - started)
  if (!sent.ok)
    return { ok: false, httpStatus: null, latencyMs: null, error: `${sent.kind}: ${sent.message}` }
  const status = sent.response.status
  await discardBody(sent.response)
  return {
    ok: status < 500,
    httpStatus: status,
    latencyMs,
    error: status < 500 ? null : `HTTP ${status}`,
  }
}

/**
 * Only the status matters, but a body read to its end lets the connection be reused for
 * the next check; a large one is cut off instead (which closes that connection).
 */
async function discardBody(response: Response, limit = 65_536) {
  const body = response.body
  if (!body) return
  const reader = body.getReader()
  let read = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      read += value.byteLength
      if (read > limit) {
        await reader.cancel()
        return
      }
    }
  } catch {
    // A body that fails half-way changes nothing: the status was already decided.
  }
}
