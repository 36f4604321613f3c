/**
 * npm run bench:heartbeats-pg — 2,000 agents heartbeating once a second through two instances
 * (the compiled binary) on one fresh Postgres database: errors, "deadlock detected" in the
 * logs, latency p50/p99, and whether every agent's last acknowledged heartbeat is stored.
 * Needs `npm run build` and the Postgres named by PG_ADMIN_URL (a database is created and
 * dropped). BENCH_SECONDS (default 20), BENCH_AGENTS (default 2000).
 */
import { join } from 'node:path'
import postgres from 'postgres'
import { root } from './lib'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20)
const AGENTS = Number(process.env.BENCH_AGENTS ?? 2000)
const ADMIN = 'bench-admin-token-0123456789abcdef0123456789'
const PG_ADMIN = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const name = `sb_bench_hb_${Date.now()}`
const admin = postgres(PG_ADMIN, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database ${name}`)
const url = new URL(PG_ADMIN)
url.pathname = `/${name}`

async function instance() {
  const proc = Bun.spawn([join(root, 'dist/switchboard'), 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: url.toString(),
      SWITCHBOARD_MASTER_KEY: 'e'.repeat(64),
      SWITCHBOARD_ADMIN_TOKEN: ADMIN,
      SWITCHBOARD_BOOTSTRAP: 'false',
      SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0',
      SWITCHBOARD_LOG_LEVEL: 'warn',
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let out = ''
  void (async () => {
    for await (const c of proc.stdout) out += new TextDecoder().decode(c)
  })()
  void (async () => {
    for await (const c of proc.stderr) out += new TextDecoder().decode(c)
  })()
  // warn level: no listening line; find the port from the process's socket instead.
  for (let i = 0; i < 200; i++) {
    const port = Bun.spawnSync([
      'sh',
      '-c',
      `ss -ltnp | grep 'pid=${proc.pid},' | grep -o '127.0.0.1:[0-9]*'`,
    ])
      .stdout.toString()
      .trim()
    if (port) return { proc, base: `http://${port.split('\n')[0]}`, log: () => out }
    await Bun.sleep(50)
  }
  throw new Error(`instance did not start: ${out}`)
}

const a = await instance()
const b = await instance()
const post = (base: string, path: string, token: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const ws = (await (await post(a.base, '/api/workspaces', ADMIN, { name: 'bench' })).json()) as {
  apiKey: string
}
const agents: { id: string; token: string; lastAck: string | null }[] = []
for (let i = 0; i < AGENTS; i += 50) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(50, AGENTS - i) }, async (_, j) => {
      const r = (await (await post(a.base, '/api/agents', ws.apiKey, { name: `hb-${i + j}` })).json()) as {
        agent: { id: string }
        token: string
      }
      return { id: r.agent.id, token: r.token, lastAck: null }
    }),
  )
  agents.push(...batch)
}

const latencies: number[] = []
/** After each agent's first heartbeat (which changes presence: a transaction and an event each). */
const steady: number[] = []
const statuses = new Map<number, number>()
const until = Date.now() + SECONDS * 1000
// Every agent once a second, spread over the second; alternate instances.
await Promise.all(
  agents.map(async (agent, i) => {
    await Bun.sleep((i / agents.length) * 1000)
    for (let n = 0; Date.now() < until; n++) {
      const base = (i + n) % 2 === 0 ? a.base : b.base
      const t = performance.now()
      let status = 0
      try {
        const r = await post(base, `/api/agents/${agent.id}/heartbeat`, agent.token, { status: 'online' })
        status = r.status
        const body = (await r.json()) as { lastHeartbeatAt?: string }
        if (status === 200 && body.lastHeartbeatAt) agent.lastAck = body.lastHeartbeatAt
      } catch {}
      latencies.push(performance.now() - t)
      if (n > 0) steady.push(performance.now() - t)
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      await Bun.sleep(Math.max(0, 1000 - (performance.now() - t)))
    }
  }),
)
a.proc.kill('SIGTERM')
b.proc.kill('SIGTERM')
await Promise.all([a.proc.exited, b.proc.exited])

const db = postgres(url.toString(), { max: 1, onnotice: () => {} })
const rows = await db<{ id: string; at: Date | null }[]>`select id, last_heartbeat_at as at from agents`
const stored = new Map(rows.map((r) => [r.id, r.at?.getTime() ?? 0]))
const missing = agents.filter((x) => x.lastAck && (stored.get(x.id) ?? 0) < new Date(x.lastAck).getTime())
await db.end()
await admin.unsafe(`drop database ${name} with (force)`)
await admin.end()

latencies.sort((x, y) => x - y)
steady.sort((x, y) => x - y)
// Latency as the client saw it, its own connection queueing included (one process, 2,000 loops).
const pct = (p: number, l = latencies) => l[Math.min(l.length - 1, Math.floor(l.length * p))]!.toFixed(1)
const deadlocks = (a.log() + b.log()).split('deadlock detected').length - 1
const errors = [...statuses].filter(([s]) => s !== 200).reduce((n, [, c]) => n + c, 0)
console.log(
  `${AGENTS} agents, ${SECONDS} s, 2 instances on Postgres: ${latencies.length} heartbeats, ` +
    `errors ${errors} (${JSON.stringify(Object.fromEntries(statuses))}), deadlocks logged ${deadlocks}, ` +
    `p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms (after the first round: p50 ${pct(0.5, steady)} ms, p99 ${pct(0.99, steady)} ms), last acknowledged heartbeat not stored: ${missing.length}/${AGENTS}`,
)
process.exit(0)
