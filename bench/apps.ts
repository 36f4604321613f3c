/**
 * npm run bench:apps — app connection execute beside the direct call and the sync lane, with
 * wrk against a local upstream: a bearer connection and an OAuth2 one (token cached), each with
 * auth, connection lookup, the path rules, unsealing, the engine, the answer decoded into JSON
 * and an audit row per call. req/s and p50/p99 at 10 connections.
 */
import { join } from 'node:path'
import { ensureTool, fmt, root, startProcess, tmp, type WrkResult, wrk, wrkPost } from './lib'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ADMIN = 'bench-admin-token-0123456789abcdef0123456789'
const CONNECTIONS = 10

async function freePort() {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port
  s.stop(true)
  return port
}

const post = async (url: string, path: string, token: string, body: unknown) =>
  (await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.json())) as any

const upPort = await freePort()
const { proc: up } = await startProcess([process.execPath, 'bench/upstream.ts'], {
  env: { PORT: String(upPort) },
  ready: /listening/,
})
const upstream = `http://127.0.0.1:${upPort}`
// The token endpoint counts its requests: the cache should keep it at one.
let tokenRequests = 0
const tokens = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch: () => {
    tokenRequests++
    return Response.json({
      access_token: `bench-token-${tokenRequests}`,
      token_type: 'Bearer',
      expires_in: 3600,
    })
  },
})

const port = await freePort()
const sb = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
  cwd: root,
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${join(tmp(), 'db.sqlite')}`,
    SWITCHBOARD_MASTER_KEY: 'c'.repeat(64),
    SWITCHBOARD_ADMIN_TOKEN: ADMIN,
    SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
    SWITCHBOARD_BOOTSTRAP: 'false',
    // On, but high enough that the benchmark measures the limiter's cost, not its refusals.
    SWITCHBOARD_RATE_LIMIT_PROXY_PER_SECOND: '1000000',
    SWITCHBOARD_RATE_LIMIT_PROXY_BURST: '1000000',
    // An execute is a write to the caller's credential: the write limit would answer 429 first.
    SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND: '1000000',
    SWITCHBOARD_RATE_LIMIT_WRITE_BURST: '1000000',
  },
  stdout: Bun.file('/dev/null'),
  stderr: 'inherit',
})
const url = `http://127.0.0.1:${port}`
for (let i = 0; i < 200; i++) {
  try {
    if ((await fetch(`${url}/healthz`)).ok) break
  } catch {}
  await Bun.sleep(50)
}

const ws = await post(url, '/api/workspaces', ADMIN, { name: 'bench' })
const caller = await post(url, '/api/agents', ws.apiKey, { name: 'caller' })
const target = await post(url, '/api/agents', ws.apiKey, { name: 'target', endpointUrl: `${upstream}/` })
const conn = await post(url, '/api/connections', ws.apiKey, {
  agentId: caller.agent.id,
  targetAgentId: target.agent.id,
  type: 'private',
})
const bearer = await post(url, '/api/app-connections', ws.apiKey, {
  name: 'bearer',
  baseUrl: `${upstream}/v2`,
  auth: { type: 'bearer', value: 'bench-bearer-secret-0123456789' },
})
const oauth = await post(url, '/api/app-connections', ws.apiKey, {
  name: 'oauth',
  baseUrl: `${upstream}/v2`,
  auth: {
    type: 'oauth2_client_credentials',
    tokenUrl: `http://127.0.0.1:${tokens.port}/token`,
    clientId: 'bench',
    clientSecret: 'bench-client-secret',
  },
})

const executeBody = JSON.stringify({
  method: 'POST',
  path: '/contacts',
  query: { q: 'ada' },
  body: { name: 'Ada' },
})
const execPath = (id: string) => `/api/agents/${caller.agent.id}/app-connections/${id}/execute`

await ensureTool('wrk')
const measure = async (name: string, target: string, s: string): Promise<WrkResult> => {
  await wrk(target, { connections: CONNECTIONS, seconds: 2, script: s })
  const r = await wrk(target, { connections: CONNECTIONS, seconds: SECONDS, script: s })
  console.log(`  ${name.padEnd(26)} ${fmt(r)}`)
  return r
}
try {
  console.log(`\n${CONNECTIONS} connections, ${SECONDS}s each (wrk -t2)`)
  const direct = await measure('direct upstream', upstream, wrkPost('/v2/contacts?q=ada', '{"name":"Ada"}'))
  await measure('sync lane', url, wrkPost(`/api/proxy/${conn.id}`, '{"name":"Ada"}', caller.token))
  const b = await measure(
    'app execute (bearer)',
    url,
    wrkPost(execPath(bearer.id), executeBody, caller.token),
  )
  await measure('app execute (oauth2)', url, wrkPost(execPath(oauth.id), executeBody, caller.token))
  console.log(
    `\n  added latency of execute over direct: p50 ${(b.p50 - direct.p50).toFixed(2)} ms, p99 ${(b.p99 - direct.p99).toFixed(2)} ms`,
  )
  console.log(`  token requests for every oauth2 execute: ${tokenRequests}`)
} finally {
  sb.kill('SIGTERM')
  up.kill()
  tokens.stop(true)
}
