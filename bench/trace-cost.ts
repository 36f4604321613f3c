/**
 * npm run bench:trace-cost — what trace context costs a sync-lane call with export off, told
 * as a share of the whole call's CPU. Throughput A/B runs (`bench:ab`) on a shared 2-core
 * machine move by ±15 % between rounds, far more than the few hundred nanoseconds measured
 * here, so this bench takes the two halves apart:
 * 1. in this process, the per-request work tracing adds on the lane's path, run a million
 *    times against the same work without it: reading `traceparent`, making the request's
 *    trace (a new trace, or the caller's continued), the hop's `traceparent`, the two trace
 *    headers in the upstream request, the trace id in the log line;
 * 2. the compiled binary's CPU per sync-lane call under wrk (BENCH_SECONDS, 64 connections),
 *    read from /proc like every bench here.
 * It prints the added nanoseconds and their share of (2): the bound is 3 %.
 * Not a test: run on demand.
 */
import { join } from 'node:path'
import { logLine } from '../src/lib/log'
import { childTraceparent, idsOnly, Trace } from '../src/lib/trace/tracer'
import { LANE_HEADERS, outgoingHeaders } from '../src/modules/forward/headers'
import {
  ADMIN,
  binary,
  ensureTool,
  fmt,
  loadAverage,
  startBun,
  startSwitchboard,
  tmp,
  wrk,
  wrkPost,
} from './lib'

const N = Number(process.env.BENCH_ITERATIONS ?? 1_000_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)

// The headers wrk's POST carries through the lane, as the engine sees them.
const base = {
  host: '127.0.0.1:8080',
  authorization: 'Bearer tk_0123456789abcdef0123456789abcdef0123456789abcdef',
  'content-type': 'application/json',
  'content-length': '64',
}
const plain = new Headers(base)
const continued = new Headers({
  ...base,
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'vendor=opaque',
})
const add = { 'x-switchboard-caller': 'agt-abcdefgh', 'x-switchboard-request-id': '' }
const fixed = new Trace('4bf92f3577b34da6a3ce929d0e0e4736', null, '00', null, false, true, null)

let sink = 0
/** The lane's per-request work; `traced` adds what trace context does to it. */
function call(headers: Headers, traced: boolean) {
  // As request.ts reads them: tracestate only when a traceparent came.
  const traceparent = traced ? headers.get('traceparent') : null
  const trace = traced
    ? idsOnly.request(traceparent, traceparent === null ? null : headers.get('tracestate'), null)
    : fixed
  const out = outgoingHeaders(
    headers,
    LANE_HEADERS.request,
    add,
    null,
    traced ? childTraceparent(trace) : undefined,
    traced ? trace.state : null,
  )
  const fields: Record<string, unknown> = { requestId: '0f8fad5b-d9cb-469f-a165-70867728950e' }
  if (traced) fields.traceId = trace.traceId
  fields.method = 'POST'
  fields.route = '/api/proxy/:connectionId'
  fields.status = 200
  fields.durationMs = 1.23
  sink += logLine('info', 'request', fields).length + Object.keys(out).length
}

/** Nanoseconds per call, the best of five runs (the least disturbed by the machine). */
function time(headers: Headers, traced: boolean): number {
  let best = Number.POSITIVE_INFINITY
  for (let run = 0; run < 5; run++) {
    const t0 = Bun.nanoseconds()
    for (let i = 0; i < N; i++) call(headers, traced)
    best = Math.min(best, (Bun.nanoseconds() - t0) / N)
  }
  return best
}

for (let i = 0; i < 200_000; i++) call(plain, i % 2 === 0) // warm up both shapes
const work = {
  newTrace: time(plain, true) - time(plain, false),
  continuedTrace: time(continued, true) - time(continued, false),
}

await ensureTool('wrk')
console.log(`trace context cost, export off; load average ${loadAverage()}`)
const up = await startBun('bench/upstream.ts')
const sb = await startSwitchboard(
  { DATABASE_URL: `sqlite:${join(tmp(), 'db.sqlite')}` },
  { cmd: [binary, 'serve'] },
)
try {
  const ws = await sb.post('/api/workspaces', ADMIN, { name: 'bench' })
  const caller = await sb.post('/api/agents', ws.apiKey, { name: 'caller' })
  const target = await sb.post('/api/agents', ws.apiKey, { name: 'target', endpointUrl: `${up.url}/` })
  const conn = await sb.post('/api/connections', ws.apiKey, {
    agentId: caller.agent.id,
    targetAgentId: target.agent.id,
    type: 'private',
  })
  const script = wrkPost(`/api/proxy/${conn.id}`, '{"message":"hello"}', caller.token)
  await wrk(sb.url, { connections: 64, seconds: 2, script }) // warm up
  const r = await wrk(sb.url, { connections: 64, seconds: SECONDS, script, pids: [sb.proc.pid] })
  console.log(`sync lane (${binary}): ${fmt(r)}`)
  const callNs = r.cpuUs * 1000
  for (const [name, ns] of Object.entries(work))
    console.log(
      `  ${name.padEnd(15)} +${ns.toFixed(0).padStart(4)} ns per call = ${((ns / callNs) * 100).toFixed(2)} % of a call's CPU`,
    )
} finally {
  await sb.stop()
  up.proc.kill()
}
if (sink === 0) console.log('')
