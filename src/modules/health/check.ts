import type { OutboundClient } from '../../lib/outbound/client'

export type CheckResult = {
  ok: boolean
  httpStatus: number | null
  latencyMs: number | null
  error: string | null
}

/**
 * One health check: a GET to the endpoint through the outbound guard. Any HTTP answer
 * below 500 means something is there and answering (a 401 or 404 included); a 5xx, a
 * timeout, a refused address or a network error does not.
 */
export async function checkEndpoint(
  outbound: OutboundClient,
  url: string,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<CheckResult> {
  const started = performance.now()
  const sent = await outbound.send(
    { url, method: 'GET', headers: { 'user-agent': 'Switchboard-Health/1', accept: '*/*' } },
    { timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) },
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
