/**
 * bun bench/presence-sweep.ts — the presence sweep after a restart, timed in-process: one
 * `sweepPresence` call over SWEEP_AGENTS agents (100,000, in two workspaces) of which
 * SWEEP_STALE (30,000) are online or idle with no signal at all, so every one of them goes
 * offline (as after an outage). Reports each run's time, the changes it made and the longest
 * stall of the event loop (a 1 ms timer). Between runs the stale agents are put back.
 * SQLite by default; BENCH_DATABASE=postgres runs on a fresh Postgres database (dropped
 * afterwards; PG_ADMIN_URL as elsewhere). SWEEP_RUNS (3).
 */
import { join } from 'node:path'
import { eq, inArray, sql } from 'drizzle-orm'
import { loadConfig } from '../src/config'
import type { Deps } from '../src/deps'
import { createApp } from '../src/http/app'
import { newId } from '../src/lib/ids'
import { sweepPresence } from '../src/modules/presence/service'
import { createWorkspace } from '../src/modules/workspaces/service'
import { buildDeps } from '../src/server'
import { pgDatabase, tmp } from './lib'

const AGENTS = Number(process.env.SWEEP_AGENTS ?? 100_000)
const STALE = Number(process.env.SWEEP_STALE ?? 30_000)
const RUNS = Number(process.env.SWEEP_RUNS ?? 3)
const onPostgres = process.env.BENCH_DATABASE === 'postgres'

const pg = onPostgres ? await pgDatabase('sb_sweep') : null
if (onPostgres && !pg) throw new Error('Postgres is not reachable')
const url = pg ? pg.url : `sqlite:${join(tmp(), 'sweep.db')}`

const deps: Deps = await buildDeps(
  loadConfig({
    DATABASE_URL: url,
    SWITCHBOARD_MASTER_KEY: 'b'.repeat(64),
    SWITCHBOARD_ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef0123456789',
    SWITCHBOARD_LOG_LEVEL: 'warn',
  }),
)

/** A real agent made through the API, whose row every seeded one copies. */
async function template(workspaceKey: string) {
  const app = createApp(deps)
  const res = await app.handle(
    new Request('http://localhost/api/agents', {
      method: 'POST',
      headers: { authorization: `Bearer ${workspaceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'template' }),
    }),
  )
  const id = ((await res.json()) as { agent: { id: string } }).agent.id
  const { agents } = deps.db.t
  return (await deps.db.orm.select().from(agents).where(eq(agents.id, id)))[0]!
}

async function seed() {
  const t0 = performance.now()
  const spaces = await Promise.all(
    ['sweep-a', 'sweep-b'].map((name) =>
      createWorkspace({ deps, actor: { kind: 'admin' }, input: { name: `${name}-${Date.now()}` } }),
    ),
  )
  const row = await template(spaces[0]!.apiKey)
  const { agents } = deps.db.t
  const stale: { id: string; presence: 'online' | 'idle' }[] = []
  const at = deps.clock.now()
  const CHUNK = 500
  for (let i = 0; i < AGENTS; i += CHUNK) {
    const rows: (typeof row)[] = []
    for (let j = i; j < Math.min(AGENTS, i + CHUNK); j++) {
      // Every third or so agent is stale (spread over the id order, so every page has some).
      const isStale = Math.floor(((j + 1) * STALE) / AGENTS) > Math.floor((j * STALE) / AGENTS)
      const presence: 'online' | 'idle' | 'offline' = isStale ? (j % 3 === 0 ? 'idle' : 'online') : 'offline'
      const id = newId()
      if (presence !== 'offline') stale.push({ id, presence })
      rows.push({
        ...row,
        id,
        workspaceId: spaces[j % 2]!.workspace.id,
        permanentId: `agt-${j.toString(36).padStart(8, '0')}`,
        name: `seed-${j}`,
        presence,
        createdAt: at,
        updatedAt: at,
      })
    }
    await deps.db.tx((tx) => tx.insert(agents).values(rows))
  }
  console.log(
    `seeded ${AGENTS} agents (${stale.length} online or idle with no signal) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  )
  return stale
}

/** Puts the stale agents back online or idle, as they were seeded. */
async function reset(stale: { id: string; presence: 'online' | 'idle' }[]) {
  const { agents } = deps.db.t
  for (const presence of ['online', 'idle'] as const) {
    const ids = stale.filter((s) => s.presence === presence).map((s) => s.id)
    for (let i = 0; i < ids.length; i += 1000)
      await deps.db.tx((tx) =>
        tx
          .update(agents)
          .set({ presence })
          .where(inArray(agents.id, ids.slice(i, i + 1000))),
      )
  }
}

try {
  const stale = await seed()
  await deps.db.execute(sql.raw('ANALYZE'))
  for (let run = 1; run <= RUNS; run++) {
    if (run > 1) await reset(stale)
    let last = performance.now()
    let stall = 0
    const probe = setInterval(() => {
      const now = performance.now()
      stall = Math.max(stall, now - last)
      last = now
    }, 1)
    const t0 = performance.now()
    const changed = await sweepPresence(deps)
    const ms = performance.now() - t0
    clearInterval(probe)
    console.log(
      `${deps.db.dialect} run ${run}: sweepPresence ${ms.toFixed(0)} ms, ${changed} changes (${((ms * 1000) / Math.max(1, changed)).toFixed(0)} µs each), longest event-loop stall ${stall.toFixed(0)} ms`,
    )
  }
} finally {
  await deps.heartbeats.stop().catch(() => {})
  await deps.activity.stop().catch(() => {})
  await deps.bus.close().catch(() => {})
  await deps.db.close()
  await pg?.drop()
}
