/**
 * npm run bench:handlers — what the hot routes' own code costs, without the network: each
 * route's handler is called in this process with a request built here, on the fast path
 * (http/fast.ts) and through the framework (`app.handle`), alternating, and timed per call.
 * The upstream is not a server: this process's `fetch` answers at once with the small JSON
 * the proxy bench's upstream sends, so what is left is Switchboard's JavaScript (auth, the
 * lookups, the header rules, the outbound guard, metrics, the log line, the answer) and the
 * runtime's Request/Response objects. Its runs agree within about 3 %, where a wrk run moves
 * ±15 % on a shared machine: use it to tell whether a change to a hot route's code is worth
 * anything before `npm run bench:ab` measures it on the wire. SQLite in a temp file, or
 * DATABASE_URL=postgres://… (an empty database; each call then includes its statements' round
 * trips); the log lines are written to /dev/null, batched as the server batches them for
 * stdout. BENCH_HANDLERS=sync,relay,heartbeat,me, BENCH_CALLS (50,000 a run), BENCH_ROUNDS (3).
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createApp } from '../src/http/app'
import { type FastHandler, fastRoute } from '../src/http/fast'
import { createLogger } from '../src/lib/log'
import { createWorkspace } from '../src/modules/workspaces/service'
import { buildDeps } from '../src/server'
import { fmtSpread, inProcessCaller, loadAverage, ROUNDS, tmp } from './lib'

const WHICH = (process.env.BENCH_HANDLERS ?? 'sync,relay,heartbeat,me').split(',')
const CALLS = Number(process.env.BENCH_CALLS ?? 50_000)
const BODY = '{"model":"bench","messages":[{"role":"user","content":"hello"}]}'
const ANSWER = '{"ok":true,"from":"upstream"}'

const devNull = openSync('/dev/null', 'w')
// As the server's log writes (lib/log.ts): the lines of one turn of the event loop in one write.
let lines: string[] = []
const logWrite = (line: string) => {
  if (lines.length === 0)
    setImmediate(() => {
      writeSync(devNull, lines.join(''))
      lines = []
    })
  lines.push(line)
}
const deps = await buildDeps(
  loadConfig({
    DATABASE_URL: process.env.DATABASE_URL ?? `sqlite:${join(tmp(), 'db.sqlite')}`,
    SWITCHBOARD_MASTER_KEY: 'd'.repeat(64),
    SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
    SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '1000000',
    SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '1000000',
    SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0',
    SWITCHBOARD_RATE_LIMIT_RELAY_IP_PER_SECOND: '0',
    SWITCHBOARD_RATE_LIMIT_RELAY_AGENT_PER_SECOND: '0',
    SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND: '0',
  }),
  { log: createLogger('info', logWrite) },
)
const app = createApp(deps)
const call = inProcessCaller(app)
const { apiKey } = await createWorkspace({ deps, actor: { kind: 'admin' }, input: { name: 'handlers' } })
const caller = await call('POST', '/api/agents', apiKey, { name: 'caller' })
const target = await call('POST', '/api/agents', apiKey, {
  name: 'target',
  endpointUrl: 'http://127.0.0.1:9/',
  endpointCredential: 'upstream-api-key-0123456789',
})
const conn = await call('POST', '/api/connections', apiKey, {
  agentId: caller.agent.id,
  targetAgentId: target.agent.id,
  type: 'private',
})
const llm = await call('POST', '/api/agents', apiKey, {
  name: 'llm',
  endpointCredential: 'sk-upstream-0123456789',
  externalInvocation: true,
  protocols: { openai: { enabled: true, url: 'http://127.0.0.1:9' } },
})

// From here on no request leaves the process: the upstream's answer, at once.
globalThis.fetch = (async () =>
  new Response(ANSWER, {
    headers: { 'content-type': 'application/json', 'content-length': String(ANSWER.length) },
  })) as unknown as typeof fetch

type Route = { method: string; path: string; url: string; params: Record<string, string>; init: RequestInit }
const origin = 'http://127.0.0.1:8080'
const agentAuth = { authorization: `Bearer ${caller.token}` }
const json = { 'content-type': 'application/json' }
const routes: Record<string, Route> = {
  sync: {
    method: 'POST',
    path: '/api/proxy/:connectionId',
    url: `/api/proxy/${conn.id}`,
    params: { connectionId: conn.id },
    init: { method: 'POST', headers: { ...agentAuth, ...json }, body: BODY },
  },
  relay: {
    method: 'POST',
    path: '/relay/:permanentId/openai/*',
    url: `/relay/${llm.agent.permanentId}/openai/v1/chat/completions`,
    // Bun's router names no `*`; the framework's value, which the route's schema asks for.
    params: { permanentId: llm.agent.permanentId, '*': 'v1/chat/completions' },
    init: { method: 'POST', headers: json, body: BODY },
  },
  heartbeat: {
    method: 'POST',
    path: '/api/agents/:agentId/heartbeat',
    url: `/api/agents/${caller.agent.id}/heartbeat`,
    params: { agentId: caller.agent.id },
    init: { method: 'POST', headers: { ...agentAuth, ...json }, body: '{"status":"online"}' },
  },
  me: {
    method: 'GET',
    path: '/api/agents/me',
    url: '/api/agents/me',
    params: {},
    init: { headers: agentAuth },
  },
}

// As Bun's server gives them: the peer's address, and (on its router) the path's parameters.
const server = { requestIP: () => ({ address: '127.0.0.1', family: 'IPv4', port: 40000 }) }
// A client's request declares its body's length (wrk's does); one built here would not.
for (const r of Object.values(routes))
  if (typeof r.init.body === 'string')
    r.init.headers = { ...r.init.headers, 'content-length': String(Buffer.byteLength(r.init.body)) }
const request = (r: Route, withParams: boolean) => {
  const req = new Request(`${origin}${r.url}`, r.init)
  return withParams ? Object.assign(req, { params: r.params }) : req
}

/** µs a call (the answer read to its end), and a check that every answer was a 200. */
async function timed(r: Route, send: (req: Request) => Promise<Response>, fast: boolean) {
  let t = performance.now()
  for (let i = 0; i < CALLS; i++) await request(r, fast).arrayBuffer()
  const building = performance.now() - t
  t = performance.now()
  for (let i = 0; i < CALLS; i++) {
    const res = await send(request(r, fast))
    if (res.status !== 200) throw new Error(`${r.url}: ${res.status} ${await res.text()}`)
    await res.arrayBuffer()
    // Let the after-response hooks (log line, metrics) run, as a server's event loop would.
    if (i % 64 === 63) await new Promise((done) => setImmediate(done))
  }
  await new Promise((done) => setImmediate(done))
  return ((performance.now() - t - building) * 1000) / CALLS
}

console.log(`bench:handlers: ${CALLS} calls a run, ${ROUNDS} rounds; load average ${loadAverage()}`)
for (const name of WHICH) {
  const r = routes[name]
  if (!r) throw new Error(`BENCH_HANDLERS: no route ${name} (sync, relay, heartbeat, me)`)
  const handler: FastHandler = fastRoute(app, r.method, r.path)
  const fast = (req: Request) => Promise.resolve(handler(req, server))
  const framework = (req: Request) => app.handle(req)
  await timed(r, fast, true) // warm both
  await timed(r, framework, false)
  const f: number[] = []
  const s: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    f.push(await timed(r, fast, true))
    s.push(await timed(r, framework, false))
  }
  const line = `  ${name.padEnd(10)} fast path ${fmtSpread(f, 1, ' µs')}   framework ${fmtSpread(s, 1, ' µs')}   fast ÷ framework ${fmtSpread(
    f.map((x, i) => x / s[i]!),
    2,
    '×',
  )}`
  console.log(line)
}
closeSync(devNull)
process.exit(0)
