/**
 * npm run bench:heartbeat — heartbeats/s and p50/p99 at 64 connections on SQLite and on
 * Postgres, beside a bare Elysia route measured in the same run; idle RSS of the compiled
 * binary; the cost of resolving a token (cached and uncached).
 */
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createWorkspace } from '../src/modules/workspaces/service'
import { buildDeps } from '../src/server'
import { ensureTool, fmt, root, rssMb, sh, startProcess, tmp, type WrkResult, wrk } from './lib'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = 64
const ADMIN = 'bench-admin-token-0123456789abcdef0123456789'
const PG_ADMIN = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function freePort() {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port
  s.stop(true)
  return port
}

async function waitHealthy(url: string) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return
    } catch {}
    await Bun.sleep(50)
  }
  throw new Error(`${url} never became healthy`)
}

/** Starts Switchboard in its own process, logging at info level to /dev/null. */
async function startSwitchboard(
  env: Record<string, string>,
  cmd = [process.execPath, 'src/main.ts', 'serve'],
) {
  const port = await freePort()
  const proc = Bun.spawn(cmd, {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SWITCHBOARD_ADMIN_TOKEN: ADMIN,
      // Heartbeats are writes: the benchmark measures them, not the per-credential limit.
      SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND: '0',
      ...env,
    },
    stdout: Bun.file('/dev/null'),
    stderr: 'inherit',
  })
  const url = `http://127.0.0.1:${port}`
  await waitHealthy(url)
  return { proc, url }
}

async function seedAgents(url: string, n: number) {
  const ws = await fetch(`${url}/api/workspaces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `bench-${Date.now()}` }),
  }).then((r) => r.json() as Promise<{ apiKey: string }>)
  const agents: { id: string; token: string }[] = []
  for (let i = 0; i < n; i++) {
    const r = (await fetch(`${url}/api/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench-${i}` }),
    }).then((r) => r.json())) as { agent: { id: string }; token: string }
    agents.push({ id: r.agent.id, token: r.token })
  }
  return agents
}

function heartbeatScript(agents: { id: string; token: string }[]) {
  const rows = agents.map((a) => `{"${a.id}","${a.token}"}`).join(',\n')
  return `local agents = {\n${rows}\n}
local i = 0
request = function()
  i = i + 1
  local a = agents[(i % #agents) + 1]
  return wrk.format("POST", "/api/agents/" .. a[1] .. "/heartbeat",
    { ["Authorization"] = "Bearer " .. a[2], ["Content-Type"] = "application/json" }, '{"status":"online"}')
end`
}

async function measureHeartbeat(env: Record<string, string>): Promise<WrkResult> {
  const sb = await startSwitchboard(env)
  try {
    const script = heartbeatScript(await seedAgents(sb.url, 256))
    await wrk(sb.url, { connections: CONNECTIONS, seconds: 2, script })
    return await wrk(sb.url, { connections: CONNECTIONS, seconds: SECONDS, script })
  } finally {
    sb.proc.kill('SIGTERM')
    await sb.proc.exited
  }
}

async function measureBare(): Promise<WrkResult> {
  const port = await freePort()
  const { proc } = await startProcess([process.execPath, 'bench/bare.ts'], {
    env: { PORT: String(port) },
    ready: /listening/,
  })
  try {
    const script = heartbeatScript([{ id: crypto.randomUUID(), token: 'x' }])
    const url = `http://127.0.0.1:${port}`
    await wrk(url, { connections: CONNECTIONS, seconds: 2, script })
    return await wrk(url, { connections: CONNECTIONS, seconds: SECONDS, script })
  } finally {
    proc.kill()
  }
}

async function idleRss() {
  await sh(['npm', 'run', 'build'])
  const dir = tmp()
  const sb = await startSwitchboard({ DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` }, [
    join(root, 'dist/switchboard'),
  ])
  await Bun.sleep(1000)
  const rss = rssMb(sb.proc.pid)
  sb.proc.kill('SIGTERM')
  await sb.proc.exited
  return rss
}

async function tokenResolution() {
  const dir = tmp()
  const deps = await buildDeps(
    loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, SWITCHBOARD_LOG_LEVEL: 'silent' }),
  )
  const { apiKey } = await createWorkspace({ deps, actor: { kind: 'admin' }, input: { name: 'tokbench' } })
  const resolved = await deps.credentials.resolve(apiKey)
  if (!resolved) throw new Error('key did not resolve')
  const time = async (n: number, fn: () => Promise<unknown>) => {
    const t = performance.now()
    for (let i = 0; i < n; i++) await fn()
    return ((performance.now() - t) * 1000) / n
  }
  const cached = await time(200_000, () => deps.credentials.resolve(apiKey))
  const uncached = await time(20_000, () => {
    deps.credentials.clear()
    return deps.credentials.resolve(apiKey)
  })
  const badChecksum = `${apiKey.slice(0, -1)}${apiKey.endsWith('A') ? 'B' : 'A'}`
  const rejected = await time(200_000, () => deps.credentials.resolve(badChecksum))
  await deps.db.close()
  return { cached, uncached, rejected }
}

async function pgAvailable() {
  return (
    (await sh(['pg_isready', '-h', '127.0.0.1', '-q'], { quiet: true }).catch(() => ({ code: 1 }))).code === 0
  )
}

await ensureTool('wrk')
console.log(`heartbeat benchmark: ${CONNECTIONS} connections, ${SECONDS}s each, wrk -t2\n`)
const bare = await measureBare()
console.log(`bare Elysia route         ${fmt(bare)}`)
const sqlite = await measureHeartbeat({ DATABASE_URL: `sqlite:${join(tmp(), 'db.sqlite')}` })
console.log(`heartbeat on SQLite       ${fmt(sqlite)}   ratio ${(sqlite.rps / bare.rps).toFixed(2)}× bare`)
if (await pgAvailable()) {
  const db = `switchboard_bench_${Date.now()}`
  await sh(['psql', PG_ADMIN, '-qc', `CREATE DATABASE ${db}`])
  try {
    const pg = await measureHeartbeat({
      DATABASE_URL: PG_ADMIN.replace(/\/[^/]*$/, `/${db}`),
      SWITCHBOARD_MASTER_KEY: 'b'.repeat(64),
    })
    console.log(`heartbeat on Postgres     ${fmt(pg)}   ratio ${(pg.rps / bare.rps).toFixed(2)}× bare`)
  } finally {
    await sh(['psql', PG_ADMIN, '-qc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`], { quiet: true })
  }
} else console.log('heartbeat on Postgres     skipped (no Postgres on 127.0.0.1:5432)')

const tok = await tokenResolution()
console.log(
  `\ntoken resolution          cached ${tok.cached.toFixed(2)} µs  uncached ${tok.uncached.toFixed(1)} µs  bad checksum ${tok.rejected.toFixed(2)} µs`,
)
console.log(`idle RSS of the binary    ${(await idleRss()).toFixed(1)} MB (goal < 100 MB)`)
console.log(`\ngoal: heartbeat on SQLite ≥ 0.5× bare → ${(sqlite.rps / bare.rps).toFixed(2)}×`)
