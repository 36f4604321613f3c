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
