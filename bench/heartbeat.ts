/**
 * npm run bench:heartbeat — the agent hot paths of the compiled binary beside its own
 * `/healthz` (the same process, the same request plumbing, no work): heartbeats and
 * `GET /api/agents/me` from 256 agents at 64 connections, on SQLite and on Postgres, in
 * alternating rounds (see lib.ts). First the same two requests on a bare Bun.serve
 * (bench/bare-agent.ts: a JSON body read and a token hashed, nothing else), whose ratio is
 * the ceiling of the heartbeat's. Every contender's requests come from the same kind of wrk
 * script (see healthzScript). Then the cost of resolving a token (cached and uncached)
 * and the binary's idle RSS.
 */
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createWorkspace } from '../src/modules/workspaces/service'
import { buildDeps } from '../src/server'
import {
  build,
  ensureTool,
  fmt,
  fmtSpread,
  loadAverage,
  medianOf,
  pgDatabase,
  ROUNDS,
  ratios,
  rounds,
  rssMb,
  SECONDS,
  seedAgents,
  startBun,
  startSwitchboard,
  tmp,
} from './lib'

const CONNECTIONS = 64

const agentTable = (agents: { id: string; token: string }[]) =>
  `local agents = {\n${agents.map((a) => `{"${a.id}","${a.token}"}`).join(',\n')}\n}\nlocal i = 0\n`

function heartbeatScript(agents: { id: string; token: string }[]) {
  return `${agentTable(agents)}request = function()
  i = i + 1
  local a = agents[(i % #agents) + 1]
  return wrk.format("POST", "/api/agents/" .. a[1] .. "/heartbeat",
    { ["Authorization"] = "Bearer " .. a[2], ["Content-Type"] = "application/json" }, '{"status":"online"}')
end`
}

/**
 * /healthz asked the way the agents' requests are: built by the same Lua function, from the same
 * table, with an agent's Authorization header (which /healthz ignores), so that wrk spends as
 * much on every contender's requests: on two shared cores its CPU is part of every figure. For
 * the binary it made no difference (heartbeat 0.53× the Lua-driven /healthz, 0.54× a statically
 * driven one, in the run that compared them); for the bare Bun.serve, where wrk is the
 * bottleneck, the ceiling went from 0.68× (a static GET) to 0.89× req/s, and stayed 0.68× by
 * CPU per request.
 */
function healthzScript(agents: { id: string; token: string }[]) {
  return `${agentTable(agents)}request = function()
  i = i + 1
  return wrk.format("GET", "/healthz", { ["Authorization"] = "Bearer " .. agents[(i % #agents) + 1][2] })
end`
}

function meScript(agents: { id: string; token: string }[]) {
  return `${agentTable(agents)}request = function()
  i = i + 1
  return wrk.format("GET", "/api/agents/me", { ["Authorization"] = "Bearer " .. agents[(i % #agents) + 1][2] })
end`
}

/** One database: /healthz, heartbeats and /me of one binary, alternating. */
async function measure(label: string, env: Record<string, string>) {
  const sb = await startSwitchboard(env)
  try {
    const { agents } = await seedAgents(sb, 256)
    const pids = [sb.proc.pid]
    console.log(`\n${label}: ${CONNECTIONS} connections, ${SECONDS} s a run, ${ROUNDS} rounds`)
    const runs = await rounds(
      [
        { name: 'GET /healthz', url: sb.url, script: healthzScript(agents), pids },
        { name: 'POST …/heartbeat', url: sb.url, script: heartbeatScript(agents), pids },
        { name: 'GET /api/agents/me', url: sb.url, script: meScript(agents), pids },
      ],
      CONNECTIONS,
    )
    for (const [name, r] of Object.entries(runs))
      console.log(`  median  ${name.padEnd(28)} ${fmt(medianOf(r))}`)
    return runs
  } finally {
    await sb.stop()
  }
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

async function idleRss() {
  const sb = await startSwitchboard({ DATABASE_URL: `sqlite:${join(tmp(), 'db.sqlite')}` })
  await Bun.sleep(2000)
  const rss = rssMb(sb.proc.pid)
  await sb.stop()
  return rss
}

/** The same two requests on a bare Bun.serve (bench/bare-agent.ts): the ceiling of the ratio. */
async function bareCeiling(agents: { id: string; token: string }[]) {
  const bare = await startBun('bench/bare-agent.ts')
  try {
    const script = heartbeatScript(agents).replace('"/api/agents/" .. a[1] .. "/heartbeat"', '"/heartbeat"')
    console.log(`\nbare Bun.serve: ${CONNECTIONS} connections, ${SECONDS} s a run, ${ROUNDS} rounds`)
    const runs = await rounds(
      [
        { name: 'GET /healthz', url: bare.url, script: healthzScript(agents), pids: [bare.proc.pid] },
        { name: 'POST /heartbeat', url: bare.url, script, pids: [bare.proc.pid] },
      ],
      CONNECTIONS,
    )
    for (const [name, r] of Object.entries(runs))
      console.log(`  median  ${name.padEnd(28)} ${fmt(medianOf(r))}`)
    return runs
  } finally {
    bare.proc.kill()
    await bare.proc.exited
  }
}

await ensureTool('wrk')
await build()
console.log(`heartbeat benchmark of dist/switchboard; load average ${loadAverage()}`)
const ceiling = await bareCeiling(
  Array.from({ length: 256 }, (_, i) => ({ id: `agent-${i}`, token: `tk_${String(i).padStart(40, '0')}` })),
)
const sqlite = await measure('SQLite', { DATABASE_URL: `sqlite:${join(tmp(), 'db.sqlite')}` })
const pgDb = await pgDatabase('sb_bench_hb')
let pg: Awaited<ReturnType<typeof measure>> | null = null
if (pgDb) {
  try {
    pg = await measure('Postgres', { DATABASE_URL: pgDb.url, SWITCHBOARD_MASTER_KEY: 'b'.repeat(64) })
  } finally {
    await pgDb.drop()
  }
} else console.log('\nPostgres: skipped (no Postgres on 127.0.0.1:5432)')

const tok = await tokenResolution()
console.log(
  `\ntoken resolution   cached ${tok.cached.toFixed(2)} µs  uncached ${tok.uncached.toFixed(1)} µs  bad checksum ${tok.rejected.toFixed(2)} µs`,
)
const rss = await idleRss()
console.log(`idle RSS of the binary   ${rss.toFixed(1)} MB (goal < 100 MB)`)

const line = (runs: NonNullable<typeof pg>, a: string, goal: number, what: string) => {
  const rps = ratios(runs, a, 'GET /healthz')
  const cpu = ratios(runs, 'GET /healthz', a, (r) => r.cpuUs)
  const met = [...rps].sort((x, y) => x - y)[Math.floor(rps.length / 2)]! >= goal
  console.log(
    `  ${what.padEnd(34)} ${fmtSpread(rps)}× /healthz req/s (goal ≥ ${goal}) ${met ? 'met' : 'NOT met'}; ` +
      `by CPU per request ${fmtSpread(cpu)}×`,
  )
}
console.log(`\ngoals (median of ${ROUNDS} rounds, range in brackets; load average now ${loadAverage()})`)
{
  const rps = ratios(ceiling, 'POST /heartbeat', 'GET /healthz')
  const cpu = ratios(ceiling, 'GET /healthz', 'POST /heartbeat', (r) => r.cpuUs)
  console.log(
    `  ${'ceiling: bare Bun, POST ÷ GET'.padEnd(34)} ${fmtSpread(rps)}× req/s; by CPU per request ${fmtSpread(cpu)}×`,
  )
}
line(sqlite, 'POST …/heartbeat', 0.8, 'heartbeat on SQLite')
if (pg) line(pg, 'POST …/heartbeat', 0.5, 'heartbeat on Postgres')
line(sqlite, 'GET /api/agents/me', 0.5, '/api/agents/me on SQLite')
if (pg) line(pg, 'GET /api/agents/me', 0.5, '/api/agents/me on Postgres')
console.log(
  `  idle RSS                           ${rss.toFixed(1)} MB (goal < 100 MB) ${rss < 100 ? 'met' : 'NOT met'}`,
)
process.exit(0)
