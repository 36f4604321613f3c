/**
 * bun bench/search.ts — `GET /api/agents?limit=50&q=…` on one workspace of SEARCH_AGENTS agents
 * (100,000), shaped as bench:scale seeds them (`seed-<n>`, "Seeded agent number <n>", a label of
 * 100, a tenth online, a tenth with a capability), in process through `app.handle`: p50 and p99
 * of each kind, SEARCH_ROUNDS (200) requests a kind, kinds interleaved. SQLite in a temp file
 * by default; DATABASE_URL=postgres://… runs on that (empty) database. ADR 0016.
 */
import { join } from 'node:path'
import { eq, sql } from 'drizzle-orm'
import { loadConfig } from '../src/config'
import { createApp } from '../src/http/app'
import { createWorkspace } from '../src/modules/workspaces/service'
import { buildDeps } from '../src/server'
import { inProcessCaller, tmp } from './lib'

const AGENTS = Number(process.env.SEARCH_AGENTS ?? 100_000)
const ROUNDS = Number(process.env.SEARCH_ROUNDS ?? 200)
const url = process.env.DATABASE_URL ?? `sqlite:${join(tmp(), 'search.db')}`

const deps = await buildDeps(
  loadConfig({
    DATABASE_URL: url,
    SWITCHBOARD_MASTER_KEY: 'd'.repeat(64),
    SWITCHBOARD_LOG_LEVEL: 'warn',
    SWITCHBOARD_RATE_LIMIT_IP_PER_SECOND: '0',
    SWITCHBOARD_RATE_LIMIT_WRITE_PER_SECOND: '0',
  }),
)
const app = createApp(deps)
const call = inProcessCaller(app)

const { workspace, apiKey } = await createWorkspace({
  deps,
  actor: { kind: 'admin' },
  input: { name: `search-${Date.now()}` },
})
const template = (await call('POST', '/api/agents', apiKey, { name: 'template' })).agent.id as string
const { agents: a, agentCapabilities: c } = deps.db.t
const [row] = await deps.db.orm.select().from(a).where(eq(a.id, template))
const t0 = performance.now()
for (let i = 0; i < AGENTS; i += 1000) {
  const agents: (typeof a.$inferInsert)[] = []
  const caps: (typeof c.$inferInsert)[] = []
  for (let j = i; j < Math.min(AGENTS, i + 1000); j++) {
    const id = Bun.randomUUIDv7()
    agents.push({
      ...row!,
      id,
      permanentId: `agt-${j.toString(36).padStart(8, '0')}`,
      name: `seed-${j}`,
      description: `Seeded agent number ${j}`,
      label: `team-${j % 100}`,
      presence: j % 10 === 0 ? 'online' : j % 10 < 3 ? 'idle' : 'offline',
      status: j % 20 === 0 ? 'inactive' : 'active',
      archived: j % 50 === 0,
    })
    if (j % 10 === 0)
      caps.push({
        agentId: id,
        workspaceId: workspace.id,
        name: 'translate',
        metadata: {},
        createdAt: new Date(),
      })
  }
  await deps.db.tx(async (tx) => {
    await tx.insert(a).values(agents)
    await tx.insert(c).values(caps)
  })
}
await deps.db.execute(sql`ANALYZE`)
console.log(
  `seeded ${AGENTS} agents on ${deps.db.dialect} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
)

// Cursors all over the list, as bench:scale draws its deep pages.
const cursors: string[] = []
for (let cursor: string | null = ''; cursor !== null; ) {
  const page = await call(
    'GET',
    `/api/agents?limit=500&archived=any${cursor ? `&cursor=${cursor}` : ''}`,
    apiKey,
  )
  if (page.nextCursor) cursors.push(page.nextCursor)
  cursor = page.nextCursor
}
const anywhere = () => `&cursor=${cursors[Math.floor(Math.random() * cursors.length)]}`
const kinds: Record<string, () => string> = {
  'q=seed-4242 (11 match)': () => 'q=seed-4242',
  'q=no-such-agent': () => 'q=no-such-agent',
  'q=SEED-42 (1,111)': () => 'q=SEED-42',
  'q=seed-42, a deep page': () => `q=seed-42${anywhere()}`,
  'q=number 7 (11,111)': () => `q=${encodeURIComponent('number 7')}`,
  'q=number 7, a deep page': () => `q=${encodeURIComponent('number 7')}${anywhere()}`,
  'q=seed (all)': () => 'q=seed',
  'q=seed, a deep page': () => `q=seed${anywhere()}`,
  'q=42 (2 chars)': () => 'q=42',
  'q=x (1 char, none)': () => 'q=x',
  'q=x, a deep page': () => `q=x${anywhere()}`,
  'q=seed-42&online=true': () => 'q=seed-42&online=true',
  'q=seed-4242&capability=…': () => 'q=seed-4242&capability=translate',
  'q=seed-42&label=team-42': () => 'q=seed-42&label=team-42',
}
const times: Record<string, number[]> = {}
for (let i = 0; i < ROUNDS; i++)
  for (const [kind, query] of Object.entries(kinds)) {
    const path = `/api/agents?limit=50&${query()}`
    const s = performance.now()
    await call('GET', path, apiKey)
    times[kind] = [...(times[kind] ?? []), performance.now() - s]
  }
const pct = (xs: number[], p: number) =>
  [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!
console.log(`GET /api/agents?limit=50 on ${AGENTS} agents, ${ROUNDS} a kind, ms:`)
for (const [kind, ts] of Object.entries(times))
  console.log(
    `  ${kind.padEnd(28)} p50 ${pct(ts, 50).toFixed(2).padStart(7)}  p99 ${pct(ts, 99).toFixed(2).padStart(7)}`,
  )
await deps.db.close()
