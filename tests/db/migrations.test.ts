import { afterAll, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { openDatabase } from '../../src/db'
import type { MigrationMeta } from '../../src/db/migrations'
import { migrations as pgMigrations } from '../../src/db/migrations/pg.gen'
import { migrations as sqliteMigrations } from '../../src/db/migrations/sqlite.gen'
import { onPostgres, testConfig } from '../helpers'

const db = await openDatabase(testConfig().database)
afterAll(() => db.close())
const shipped = onPostgres ? pgMigrations : sqliteMigrations
const table = `v2_probe_${Date.now()}`

const appliedCount = async () => {
  const q = onPostgres
    ? sql`select count(*)::int as n from drizzle.__drizzle_migrations`
    : sql`select count(*) as n from __drizzle_migrations`
  return Number((await db.execute(q))[0]!.n)
}

test('the embedded migrations are the ones in drizzle/, in journal order', () => {
  expect(shipped.length).toBeGreaterThan(0)
  for (let i = 1; i < shipped.length; i++)
    expect(shipped[i]!.folderMillis).toBeGreaterThan(shipped[i - 1]!.folderMillis)
  expect(shipped[0]!.sql.join('')).toContain('CREATE TABLE')
})

test('a newer binary applies only its new migration to an existing database', async () => {
  await db.migrate(shipped)
  const before = await appliedCount()
  await db.migrate(shipped) // idempotent
  expect(await appliedCount()).toBe(before)

  const v2: MigrationMeta = {
    sql: [`CREATE TABLE ${table} (id integer primary key)`],
    bps: true,
    folderMillis: Math.max(Date.now(), shipped.at(-1)!.folderMillis + 1),
    hash: 'v2-probe',
  }
  await db.migrate([...shipped, v2])
  expect(await appliedCount()).toBe(before + 1)
  // The old migrations were not re-run (they would fail on existing tables), and the new table exists.
  const rows = await db.execute(sql.raw(`select count(*) as n from ${table}`))
  expect(Number(rows[0]!.n)).toBe(0)
  await db.execute(sql.raw(`DROP TABLE ${table}`))
  if (onPostgres) await db.execute(sql`delete from drizzle.__drizzle_migrations where hash = 'v2-probe'`)
})

test.skipIf(onPostgres)(
  'SQLite: jobs and callbacks of an older database survive the webhook migration as they were',
  async () => {
    const { join } = await import('node:path')
    const { tempDir } = await import('../helpers')
    const old = await openDatabase({
      kind: 'sqlite',
      path: join(tempDir('sb-upgrade-'), 'old.db'),
      synchronous: 'normal',
    })
    const at = shipped.findIndex((m) => m.sql.join('').includes('CREATE TABLE `agent_webhooks`'))
    expect(at).toBeGreaterThan(0)
    await old.migrate(shipped.slice(0, at))
    const now = Date.now()
    await old.execute(sql.raw(`INSERT INTO workspaces (id, name, created_at) VALUES ('w1', 'old', ${now})`))
    await old.execute(
      sql.raw(
        `INSERT INTO jobs (id, workspace_id, target_workspace_id, caller_agent_id, target_agent_id, handled_by_agent_id,
        status, deadline_at, created_at, updated_at) VALUES ('j1', 'w1', 'w1', 'caller', 'target', 'target', 'running',
        ${now}, ${now}, ${now})`,
      ),
    )
    await old.execute(
      sql.raw(
        `INSERT INTO webhook_deliveries (id, workspace_id, job_id, message_id, event_type, url, payload, status, attempts,
        created_at) VALUES ('d1', 'w1', 'j1', 'msg_j1', 'job.completed', 'http://x', '{}', 'pending', 0, ${now})`,
      ),
    )
    await old.migrate(shipped)
    const [job] = await old.execute(
      sql.raw(`SELECT caller_agent_id, trigger_id, status FROM jobs WHERE id = 'j1'`),
    )
    expect(job).toEqual({ caller_agent_id: 'caller', trigger_id: null, status: 'running' })
    const [d] = await old.execute(
      sql.raw(`SELECT job_id, agent_id, event_id FROM webhook_deliveries WHERE id = 'd1'`),
    )
    expect(d).toEqual({ job_id: 'j1', agent_id: null, event_id: null })
    // An agent's deliveries go with it (the added column keeps ON DELETE CASCADE).
    const fks = await old.execute(sql.raw(`PRAGMA foreign_key_list('webhook_deliveries')`))
    expect(fks.find((f) => f.from === 'agent_id')).toMatchObject({ table: 'agents', on_delete: 'CASCADE' })
    await old.close()
  },
)
