import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { openDatabase } from '../../src/db'
import { migrations as pgMigrations } from '../../src/db/migrations/pg.gen'
import { migrations as sqliteMigrations } from '../../src/db/migrations/sqlite.gen'
import { newId, newPermanentId } from '../../src/lib/ids'
import { SCAN_AHEAD } from '../../src/modules/agents/search'
import { displayPrefix, generateSecret, hashSecret } from '../../src/modules/tokens/format'
import { harness, onPostgres, tempDir } from '../helpers'

/**
 * Migrations 0008 and 0009 (ADR 0016, ADR 0020) on a database that already holds agents: their
 * text is found after the upgrade. On Postgres, also where the user may not create the pg_trgm extension.
 */
const adminUrl = process.env.PG_ADMIN_URL
const shipped = onPostgres ? pgMigrations : sqliteMigrations
const made: string[] = []
afterAll(async () => {
  if (!onPostgres || !adminUrl) return
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  for (const name of made) await admin.unsafe(`drop database if exists ${name} with (force)`)
  await admin.end()
})
const suffix = crypto.randomUUID().slice(0, 8)

/** A new empty database's URL (SQLite: a file), with what the admin wants done in it first. */
async function freshUrl(name: string, prepare?: (admin: postgres.Sql) => Promise<unknown>) {
  if (!onPostgres) return `sqlite:${join(tempDir(), `${name}.db`)}`
  const dbName = `sb_${name}_${suffix}`
  const admin = postgres(adminUrl!, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${dbName}`)
  await admin.end()
  made.push(dbName)
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${dbName}`
  if (!prepare) return url.toString()
  const inside = postgres(url.toString(), { max: 1, onnotice: () => {} })
  try {
    await prepare(inside)
    return url.toString()
  } finally {
    await inside.end()
  }
}

const open = (url: string) =>
  url.startsWith('sqlite:')
    ? openDatabase({ kind: 'sqlite', path: url.slice('sqlite:'.length), synchronous: 'normal' })
    : openDatabase({ kind: 'pg', url, poolSize: 2, timeoutMs: 10_000 })

const before0008 = () => {
  const at = shipped.findIndex((m) => m.sql.join('').includes(onPostgres ? 'pg_trgm' : 'agent_search'))
  expect(at).toBeGreaterThan(0)
  return shipped.slice(0, at)
}

/** A workspace, its key and `count` agents, written as the previous release would have. */
async function oldRows(url: string, count: number) {
  const db = await open(url)
  await db.migrate(before0008())
  const t = db.t
  const now = new Date()
  const workspaceId = newId()
  const apiKey = generateSecret('workspace')
  const ids = Array.from({ length: count }, () => newId()).sort()
  await db.tx(async (tx) => {
    await tx.insert(t.workspaces).values({ id: workspaceId, name: `old-${workspaceId}`, createdAt: now })
    await tx.insert(t.workspaceKeys).values({
      id: newId(),
      workspaceId,
      name: 'default',
      prefix: displayPrefix(apiKey),
      hash: hashSecret(apiKey),
      createdAt: now,
    })
    const rows = ids.map((id, i) => ({
      id,
      workspaceId,
      permanentId: newPermanentId(),
      name: i === count - 1 ? 'Last Of The Old Ones' : `old-agent-${i}`,
      description: i === count - 2 ? 'Knows 100% of SQL_stuff' : null,
      languagesSupported: [],
      protocols: {},
      externalInvocation: false,
      status: 'active' as const,
      archived: false,
      presence: 'offline' as const,
      taskCount: 0,
      createdAt: now,
      updatedAt: now,
    }))
    for (let i = 0; i < rows.length; i += 500) await tx.insert(t.agents).values(rows.slice(i, i + 500))
  })
  await db.close()
  return { apiKey, ids }
}

describe.skipIf(onPostgres && !adminUrl)('migrations 0008 and 0009: text search', () => {
  test('agents that were there before the upgrade are found by their name and description', async () => {
    const url = await freshUrl('search_upgrade')
    // Past the id-order read of a page, so that on SQLite the last ones come from the backfilled index.
    const { apiKey, ids } = await oldRows(url, SCAN_AHEAD + 50)
    const h = await harness({ env: { DATABASE_URL: url } })
    const found = async (q: string) =>
      (await h.call('GET', `/api/agents?q=${encodeURIComponent(q)}`, { token: apiKey })).body.agents.map(
        (a: { id: string }) => a.id,
      )
    expect(await found('last of the OLD')).toEqual([ids.at(-1)])
    expect(await found('100% of sql_')).toEqual([ids.at(-2)])
    expect(await found('old-agent-1999')).toEqual([ids[1999]])
    // Written after the upgrade, and deleted: the triggers keep the index in step.
    const renamed = await h.call('PATCH', `/api/agents/${ids.at(-1)}`, {
      token: apiKey,
      body: { name: 'newest' },
    })
    expect(renamed.status).toBe(200)
    expect(await found('last of the')).toEqual([])
    expect(await found('newest')).toEqual([ids.at(-1)])
    expect((await h.call('DELETE', `/api/agents/${ids.at(-2)}`, { token: apiKey })).status).toBeLessThan(300)
    expect(await found('100%')).toEqual([])
    if (!onPostgres) {
      // Nothing left behind in the index of the deleted agent.
      const [left] = await h.deps.db.execute(
        sql`select count(*) as n from agent_search_keys where agent_id = ${ids.at(-2)!}`,
      )
      expect(Number(left!.n)).toBe(0)
      const [fts] = await h.deps.db.execute(
        sql`select count(*) as n from agent_search where agent_search match '"sql_stuff"'`,
      )
      expect(Number(fts!.n)).toBe(0)
    } else {
      // Migration 0009: the indexes are over the stored folds, and every fold is lower() of its text.
      const indexes = await h.deps.db.execute(
        sql`select indexname, indexdef from pg_indexes where tablename = 'agents' and indexname like '%trgm%' order by 1`,
      )
      expect(indexes.map((r) => r.indexname)).toEqual(['agents_description_trgm_idx', 'agents_name_trgm_idx'])
      expect(String(indexes[0]!.indexdef)).toContain('(description_folded ')
      expect(String(indexes[1]!.indexdef)).toContain('(name_folded ')
      // The rewrite left room on each page: a heartbeat's update of an agent written before the
      // upgrade stays on its page and touches no index (HOT), as the backend's own counts say.
      // Read before and after in one transaction: since Postgres 15 these counts may still hold
      // the connection's earlier transactions until its statistics are flushed.
      const hot = await h.deps.db.tx(async (tx) => {
        const counts = async () =>
          (
            await h.deps.db.execute(
              sql`select n_tup_upd::int as upd, n_tup_hot_upd::int as hot from pg_stat_xact_user_tables where relname = 'agents'`,
              tx,
            )
          )[0] as { upd: number; hot: number }
        const before = await counts()
        await h.deps.db.execute(sql`update agents set last_heartbeat_at = now() where id = ${ids[5]!}`, tx)
        const after = await counts()
        return { upd: after.upd - before.upd, hot: after.hot - before.hot }
      })
      expect(hot).toEqual({ upd: 1, hot: 1 })
      await h.call('PATCH', `/api/agents/${ids[0]}`, {
        token: apiKey,
        body: { name: 'ÉCOLE Ünïcode', description: 'ΣΊΣΥΦΟΣ' },
      })
      const [off] = await h.deps.db.execute(sql`select count(*)::int as n, count(*) filter (
          where name_folded is distinct from lower(name)
          or description_folded is distinct from lower(coalesce(description, ''))) ::int as wrong from agents`)
      expect(off).toEqual({ n: SCAN_AHEAD + 49, wrong: 0 })
      expect(await found('école ü')).toEqual([ids[0]])
      expect(await found('σίσυφο')).toEqual([ids[0]])
    }
  })

  // As a managed Postgres refuses an extension off its list, or a server without the contrib
  // package: an event trigger makes CREATE EXTENSION fail with that error.
  for (const code of ['insufficient_privilege', 'undefined_file'])
    test.skipIf(!onPostgres)(
      `Postgres: where pg_trgm cannot be created (${code}), it migrates and q works`,
      async () => {
        const url = await freshUrl(`search_${code}`, async (inside) => {
          await inside.unsafe(`create function refuse_extensions() returns event_trigger language plpgsql as $$
          begin raise exception 'extensions are not allowed here' using errcode = '${code}'; end $$`)
          await inside.unsafe(`create event trigger refuse_extensions on ddl_command_start
          when tag in ('CREATE EXTENSION') execute function refuse_extensions()`)
        })
        const { apiKey, ids } = await oldRows(url, 3)
        const h = await harness({ env: { DATABASE_URL: url } })
        const [ext] = await h.deps.db.execute(
          sql`select count(*)::int as n from pg_extension where extname = 'pg_trgm'`,
        )
        expect(ext!.n).toBe(0)
        const applied = await h.deps.db.execute(
          sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
        )
        expect(applied[0]!.n).toBe(shipped.length)
        const res = await h.call('GET', '/api/agents?q=OLD-AGENT-1', { token: apiKey })
        expect(res.body.agents.map((a: { id: string }) => a.id)).toEqual([ids[1]])
        const short = await h.call('GET', '/api/agents?q=oN', { token: apiKey })
        expect(short.body.agents.map((a: { id: string }) => a.id)).toEqual([ids[2]])
      },
    )
})
