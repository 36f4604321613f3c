/**
 * npm run bench:scale — does the cost of the hot paths stay flat as a workspace grows? Two
 * compiled binaries run side by side: one on a database holding only the bench's own rows, one
 * on a database seeded (in SQL, after the bench's rows were made over HTTP) with
 * SCALE_AGENTS agents (100,000), SCALE_CONNECTIONS connections (20,000) and SCALE_EVENTS events
 * (1,000,000), all in the bench's workspace, the worst case for its lists. Then:
 * 1. heartbeat and sync-lane throughput, in alternating rounds (lib.ts), seeded / empty;
 * 2. `GET /api/agents?limit=50` on the seeded database: the first page, deep pages (random
 *    cursors over the whole list) and every filter the API has, each asked 200 times in turn —
 *    p50 and p99 per kind (the goal: p99 ≤ 20 ms);
 * 3. `/api/ws?since=` replaying the last 10,000 events to a workspace key: until the last frame;
 * 4. the route and credential caches' size and hit rate from `/metrics`.
 * SQLite by default; BENCH_DATABASE=postgres runs both binaries on fresh Postgres databases
 * (dropped afterwards). BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNECTIONS (64) as elsewhere.
 */
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import postgres from 'postgres'
import {
  ADMIN,
  binary,
  ensureTool,
  fmt,
  fmtSpread,
  loadAverage,
  medianOf,
  pgDatabase,
  ratios,
  rounds,
  rssMb,
  type Switchboard,
  startBun,
  startSwitchboard,
  tmp,
  wrkPost,
} from './lib'

const AGENTS = Number(process.env.SCALE_AGENTS ?? 100_000)
const CONNECTIONS = Number(process.env.SCALE_CONNECTIONS ?? 20_000)
const EVENTS = Number(process.env.SCALE_EVENTS ?? 1_000_000)
const WRK_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const onPostgres = process.env.BENCH_DATABASE === 'postgres'
const REPLAY = 10_000

// Events are kept far past the default cap of 100,000 per workspace for this bench.
const SETTINGS = { SWITCHBOARD_EVENTS_MAX_PER_WORKSPACE: String(EVENTS * 2), SWITCHBOARD_LOG_LEVEL: 'warn' }

type Setup = { key: string; workspaceId: string; caller: { id: string; token: string }; conn: string }

/** The bench's own rows, over HTTP: a workspace, a caller, a target at the upstream, their connection. */
async function setup(sb: Switchboard, upstream: string): Promise<Setup> {
  const ws = await sb.post('/api/workspaces', ADMIN, { name: 'bench' })
  const caller = await sb.post('/api/agents', ws.apiKey, { name: 'caller' })
  const target = await sb.post('/api/agents', ws.apiKey, {
    name: 'target',
    endpointUrl: upstream,
    capabilities: [{ name: 'translate' }],
    label: 'team-1',
  })
  const conn = await sb.post('/api/connections', ws.apiKey, {
    agentId: caller.agent.id,
    targetAgentId: target.agent.id,
    type: 'private',
  })
  return {
    key: ws.apiKey,
    workspaceId: ws.workspace.id,
    caller: { id: caller.agent.id, token: caller.token },
    conn: conn.id,
  }
}

/** Rows shaped like the template (read back raw), inserted in batches. */
interface Seeder {
  template(table: string, id: string): Promise<Record<string, unknown>>
  insert(table: string, rows: Record<string, unknown>[]): Promise<void>
  /** A timestamp column's value for `ms` in this dialect's raw form. */
  time(ms: number): unknown
  bool(v: boolean): unknown
  json(v: unknown): unknown
  lastEventId(): Promise<number>
  close(): Promise<void>
}

function sqliteSeeder(file: string): Seeder {
  const db = new Database(file)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF')
  const statements = new Map<string, ReturnType<Database['prepare']>>()
  return {
    async template(table, id) {
      return db.query(`SELECT * FROM ${table} WHERE id = ?`).get(id) as Record<string, unknown>
    },
    async insert(table, rows) {
      const cols = Object.keys(rows[0]!)
      const k = `${table}:${cols.join(',')}`
      let st = statements.get(k)
      if (!st) {
        st = db.prepare(`INSERT INTO ${table} (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`)
        statements.set(k, st)
      }
      const s = st
      db.transaction(() => {
        for (const r of rows) s.run(...(cols.map((c) => r[c]) as never[]))
      })()
    },
    time: (ms) => ms,
    bool: (v) => (v ? 1 : 0),
    json: (v) => JSON.stringify(v),
    async lastEventId() {
      return (db.query('SELECT max(id) AS id FROM events').get() as { id: number }).id
    },
    async close() {
      db.exec('ANALYZE')
      db.close()
    },
  }
}

function pgSeeder(url: string): Seeder {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  return {
    async template(table, id) {
      const [row] = await sql`SELECT * FROM ${sql(table)} WHERE id = ${id}`
      // Generated columns (the agents' search folds, migration 0009) are Postgres's to write.
      const generated = await sql`SELECT column_name FROM information_schema.columns
        WHERE table_name = ${table} AND is_generated = 'ALWAYS'`
      for (const g of generated) delete row![g.column_name as string]
      return row as Record<string, unknown>
    },
    async insert(table, rows) {
      // Bind parameters are capped at 65,535 a statement.
      const per = Math.floor(60_000 / Object.keys(rows[0]!).length)
      for (let i = 0; i < rows.length; i += per)
        await sql`INSERT INTO ${sql(table)} ${sql(rows.slice(i, i + per))}`
    },
    time: (ms) => new Date(ms),
    bool: (v) => v,
    json: (v) => v,
    async lastEventId() {
      const [row] = await sql`SELECT max(id)::int AS id FROM events`
      return row!.id as number
    },
    async close() {
      await sql`ANALYZE`
      await sql.end()
    },
  }
}

const uuid7 = () => Bun.randomUUIDv7()
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
const permanentId = (i: number) => {
  let s = ''
  for (let n = i + 36 ** 7; s.length < 8; n = Math.floor(n / 36)) s = ALPHABET[n % 36] + s
  return `agt-${s}`
}

/** Seeds agents, connections and events beside the bench's rows, copying their shapes. */
async function seed(s: Seeder, bench: Setup) {
  const t0 = performance.now()
  const agentTemplate = await s.template('agents', bench.caller.id)
  const connTemplate = await s.template('connections', bench.conn)
  const now = Date.now()
  const ids: string[] = []
  const BATCH = 10_000
  for (let i = 0; i < AGENTS; i += BATCH) {
    const agents: Record<string, unknown>[] = []
    const agentIds: Record<string, unknown>[] = []
    const caps: Record<string, unknown>[] = []
    for (let j = i; j < Math.min(AGENTS, i + BATCH); j++) {
      const id = uuid7()
      ids.push(id)
      const presence = j % 10 === 0 ? 'online' : j % 10 < 3 ? 'idle' : 'offline'
      agents.push({
        ...agentTemplate,
        id,
        permanent_id: permanentId(j),
        name: `seed-${j}`,
        description: `Seeded agent number ${j}`,
        label: `team-${j % 100}`,
        presence,
        status: j % 20 === 0 ? 'inactive' : 'active',
        archived: s.bool(j % 50 === 0),
        created_at: s.time(now),
        updated_at: s.time(now),
      })
      agentIds.push({
        id,
        permanent_id: permanentId(j),
        workspace_id: bench.workspaceId,
        created_at: s.time(now),
      })
      if (j % 10 === 0)
        caps.push({
          agent_id: id,
          workspace_id: bench.workspaceId,
          name: 'translate',
          metadata: s.json({}),
          created_at: s.time(now),
        })
    }
    await s.insert('agents', agents)
    await s.insert('agent_ids', agentIds)
    await s.insert('agent_capabilities', caps)
  }
  for (let i = 0; i < CONNECTIONS; i += BATCH) {
    const rows: Record<string, unknown>[] = []
    for (let j = i; j < Math.min(CONNECTIONS, i + BATCH); j++)
      rows.push({
        ...connTemplate,
        id: uuid7(),
        agent_id: ids[(2 * j) % ids.length],
        target_agent_id: ids[(2 * j + 1) % ids.length],
        created_at: s.time(now),
        updated_at: s.time(now),
      })
    await s.insert('connections', rows)
  }
  for (let i = 0; i < EVENTS; i += BATCH * 5) {
    const rows: Record<string, unknown>[] = []
    for (let j = i; j < Math.min(EVENTS, i + BATCH * 5); j++)
      rows.push({
        workspace_id: bench.workspaceId,
        type: 'agent.updated',
        agent_id: ids[j % ids.length],
        data: s.json({ fields: ['description'], seed: j }),
        created_at: s.time(now - (EVENTS - j)),
      })
    await s.insert('events', rows)
  }
  const lastEvent = await s.lastEventId()
  await s.close()
  console.log(
    `seeded ${AGENTS} agents, ${CONNECTIONS} connections, ${EVENTS} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  )
  return lastEvent
}

async function get(sb: Switchboard, path: string, key: string) {
  const r = await fetch(`${sb.url}${path}`, { headers: { authorization: `Bearer ${key}` } })
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`)
  return r.json() as Promise<any>
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/** p50/p99 of `GET /api/agents` for each kind of page, `n` requests a kind, kinds interleaved. */
async function listLatency(sb: Switchboard, key: string, n = 200) {
  // Cursors all over the list: walk it once in pages of 500.
  const cursors: string[] = []
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page: any = await get(
      sb,
      `/api/agents?limit=500&archived=any${cursor ? `&cursor=${cursor}` : ''}`,
      key,
    )
    if (page.nextCursor) cursors.push(page.nextCursor)
    cursor = page.nextCursor
  }
  const kinds: Record<string, () => string> = {
    'first page': () => '',
    'a deep page': () => `cursor=${cursors[Math.floor(Math.random() * cursors.length)]}`,
    'status=inactive': () => 'status=inactive',
    'online=true': () => 'online=true',
    'online=false': () => 'online=false',
    'presence=idle': () => 'presence=idle',
    'label=team-7': () => 'label=team-7',
    'capability=translate': () => 'capability=translate',
    'capability (a deep page)': () =>
      `capability=translate&cursor=${cursors[Math.floor(Math.random() * cursors.length)]}`,
    'q=seed-4242 (one match)': () => 'q=seed-4242',
    'q=nothing (no match)': () => 'q=no-such-agent',
    'archived=true': () => 'archived=true',
    'label=none (no match)': () => 'label=nobody',
  }
  const times: Record<string, number[]> = {}
  for (let i = 0; i < n; i++)
    for (const [kind, query] of Object.entries(kinds)) {
      const q = query()
      const t0 = performance.now()
      await get(sb, `/api/agents?limit=50${q ? `&${q}` : ''}`, key)
      const ms = performance.now() - t0
      times[kind] ??= []
      times[kind].push(ms)
    }
  return { pages: cursors.length + 1, times }
}

/** Milliseconds from `since` until no more than the bench's own agents are online or idle. */
async function settle(sb: Switchboard, since: number): Promise<number> {
  for (const deadline = performance.now() + 300_000; performance.now() < deadline; ) {
    const text = await (await fetch(`${sb.url}/metrics`)).text()
    const live = [...text.matchAll(/^switchboard_agents\{presence="(?:online|idle)"\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    )
    if (live <= 2) return performance.now() - since
    await Bun.sleep(250)
  }
  throw new Error('the seeded agents never went offline')
}

/** Milliseconds from opening `/api/ws?since=` to the last of `REPLAY` replayed frames. */
async function replay(sb: Switchboard, key: string, lastEvent: number): Promise<number> {
  const since = Math.max(0, lastEvent - REPLAY)
  return await new Promise<number>((resolve, reject) => {
    const t0 = performance.now()
    let got = 0
    const ws = new WebSocket(`${sb.url.replace('http', 'ws')}/api/ws?since=${since}`, {
      headers: { authorization: `Bearer ${key}` },
    } as never)
    const timer = setTimeout(() => reject(new Error(`replay: ${got} frames in 30 s`)), 30_000)
    ws.onmessage = (m) => {
      const f = JSON.parse(String(m.data))
      if (typeof f.id === 'number' && f.id > since && ++got >= REPLAY) {
        clearTimeout(timer)
        ws.close()
        resolve(performance.now() - t0)
      }
    }
    ws.onerror = () => reject(new Error('replay: socket error'))
  })
}

async function cacheLines(sb: Switchboard) {
  const text = await (await fetch(`${sb.url}/metrics`)).text()
  return text.split('\n').filter((l) => /^switchboard_cache_/.test(l))
}

await ensureTool('wrk')
console.log(`bench:scale on ${onPostgres ? 'Postgres' : 'SQLite'}; load average ${loadAverage()}`)
const up = await startBun('bench/upstream.ts')
const dbs = onPostgres ? await Promise.all([pgDatabase('sb_scale_empty'), pgDatabase('sb_scale_full')]) : null
if (onPostgres && (!dbs?.[0] || !dbs[1]))
  throw new Error('BENCH_DATABASE=postgres but Postgres is not reachable')
const fullFile = join(tmp(), 'db.sqlite')
const env = (which: 0 | 1) => ({
  ...SETTINGS,
  DATABASE_URL: dbs ? dbs[which]!.url : `sqlite:${which === 0 ? join(tmp(), 'db.sqlite') : fullFile}`,
  ...(dbs ? { SWITCHBOARD_MASTER_KEY: 'd'.repeat(64) } : {}),
})
const servers: Switchboard[] = []
try {
  const empty = await startSwitchboard(env(0), { cmd: [binary, 'serve'] })
  servers.push(empty)
  const emptySetup = await setup(empty, `${up.url}/`)
  // The seeded one: its bench rows made over HTTP, the rest in SQL while it is stopped.
  let full = await startSwitchboard(env(1), { cmd: [binary, 'serve'] })
  const fullSetup = await setup(full, `${up.url}/`)
  await full.stop()
  const lastEvent = await seed(dbs ? pgSeeder(dbs[1]!.url) : sqliteSeeder(fullFile), fullSetup)
  const restarted = performance.now()
  full = await startSwitchboard(env(1), { cmd: [binary, 'serve'] })
  servers.push(full)
  // The seeded agents that are online or idle have no heartbeat: the first presence sweep after
  // the start takes them offline (as after an outage). Measured apart, then out of the way.
  const settledMs = await settle(full, restarted)
  console.log(
    `presence sweep after the restart (stale online/idle agents to offline): done ${settledMs.toFixed(0)} ms after the start`,
  )

  const heartbeat = (s: Setup) =>
    wrkPost(`/api/agents/${s.caller.id}/heartbeat`, '{"status":"online"}', s.caller.token)
  const sync = (s: Setup) => wrkPost(`/api/proxy/${s.conn}`, '{"message":"hello"}', s.caller.token)
  const runs = await rounds(
    [
      { name: 'heartbeat, empty', url: empty.url, script: heartbeat(emptySetup), pids: [empty.proc.pid] },
      { name: 'heartbeat, seeded', url: full.url, script: heartbeat(fullSetup), pids: [full.proc.pid] },
      { name: 'sync lane, empty', url: empty.url, script: sync(emptySetup), pids: [empty.proc.pid] },
      { name: 'sync lane, seeded', url: full.url, script: sync(fullSetup), pids: [full.proc.pid] },
    ],
    WRK_CONNECTIONS,
  )
  const lists = await listLatency(full, fullSetup.key)
  const replayMs = await replay(full, fullSetup.key, lastEvent)

  console.log(`\nheartbeat and sync lane at ${WRK_CONNECTIONS} connections (medians of the rounds):`)
  for (const name of Object.keys(runs)) console.log(`  ${name.padEnd(20)} ${fmt(medianOf(runs[name]!))}`)
  console.log(
    `  heartbeat seeded/empty ${fmtSpread(ratios(runs, 'heartbeat, seeded', 'heartbeat, empty'), 3, '×')}` +
      `   (goal ≥ 0.9×)`,
  )
  console.log(
    `  sync lane seeded/empty ${fmtSpread(ratios(runs, 'sync lane, seeded', 'sync lane, empty'), 3, '×')}` +
      `   (goal ≥ 0.9×)`,
  )
  console.log(
    `\nGET /api/agents?limit=50 on ${AGENTS} agents (${lists.pages} pages of 500), ms (goal p99 ≤ 20):`,
  )
  let worst = 0
  for (const [kind, ts] of Object.entries(lists.times)) {
    worst = Math.max(worst, pct(ts, 99))
    console.log(
      `  ${kind.padEnd(26)} p50 ${pct(ts, 50).toFixed(2).padStart(7)}  p99 ${pct(ts, 99).toFixed(2).padStart(7)}`,
    )
  }
  console.log(`  worst p99 ${worst.toFixed(2)} ms`)
  console.log(
    `\n/api/ws?since= replay of ${REPLAY} events out of ${EVENTS}: ${replayMs.toFixed(0)} ms (goal ≤ 1000)`,
  )
  console.log(`\ncaches of the seeded binary (RSS ${rssMb(full.proc.pid).toFixed(1)} MB):`)
  for (const l of await cacheLines(full)) console.log(`  ${l}`)
} finally {
  for (const s of servers) await s.stop().catch(() => {})
  up.proc.kill()
  if (dbs) for (const d of dbs) await d?.drop()
}
