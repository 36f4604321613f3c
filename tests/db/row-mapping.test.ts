import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import * as drizzleUtils from 'drizzle-orm/utils'

// drizzle's row mapper is patched (scripts/patch-deps.mjs, docs/adr/0019): a flat select
// resolves its decoders once per fields array. These hold what every shape of select decodes.

const owners = sqliteTable('owners', { id: text('id').primaryKey(), name: text('name').notNull() })
const things = sqliteTable('things', {
  id: text('id').primaryKey(),
  ownerId: text('owner_id'),
  label: text('label'),
  count: integer('count').notNull(),
  on: integer('on', { mode: 'boolean' }).notNull(),
  at: integer('at', { mode: 'timestamp_ms' }),
  doc: text('doc', { mode: 'json' }).$type<{ n: number; tags: string[] }>(),
})

/** The rows every test starts from: each column mode, and every nullable column null in the second. */
const ROWS: (typeof things.$inferSelect)[] = [
  {
    id: 't1',
    ownerId: 'o1',
    label: 'first',
    count: 3,
    on: true,
    at: new Date(1_700_000_000_123),
    doc: { n: 1, tags: ['a'] },
  },
  { id: 't2', ownerId: null, label: null, count: 0, on: false, at: null, doc: null },
]

function setup() {
  const client = new Database(':memory:', { strict: true })
  client.exec('create table owners (id text primary key, name text not null)')
  client.exec(
    'create table things (id text primary key, owner_id text, label text, count integer not null, "on" integer not null, at integer, doc text)',
  )
  const orm = drizzle({ client })
  orm.insert(owners).values({ id: 'o1', name: 'Ada' }).run()
  orm.insert(things).values(ROWS).run()
  return orm
}

describe('drizzle row mapping', () => {
  test('a flat select decodes every column mode, nulls as null, keys in the order selected', () => {
    const orm = setup()
    const rows = orm.select().from(things).orderBy(things.id).all()
    expect(rows).toEqual(ROWS)
    expect(rows[0]!.at).toBeInstanceOf(Date)
    expect(Object.keys(rows[0]!)).toEqual(['id', 'ownerId', 'label', 'count', 'on', 'at', 'doc'])
  })

  test('a prepared flat select gives each run its own row (the resolved decoders hold no values)', () => {
    const orm = setup()
    const q = orm
      .select({ id: things.id, on: things.on, at: things.at })
      .from(things)
      .where(eq(things.id, sql.placeholder('id')))
      .prepare()
    expect(q.all({ id: 't1' })).toEqual([{ id: 't1', on: true, at: new Date(1_700_000_000_123) }])
    expect(q.all({ id: 't2' })).toEqual([{ id: 't2', on: false, at: null }])
    expect(q.all({ id: 'none' })).toEqual([])
    expect(q.all({ id: 't1' })[0]!.on).toBe(true)
  })

  test('SQL fields decode through their own decoders (mapWith, aliased)', () => {
    const orm = setup()
    const rows = orm
      .select({
        id: things.id,
        twice: sql`${things.count} * 2`.mapWith(String),
        flag: sql<boolean>`${things.on}`.mapWith(things.on).as('flag'),
      })
      .from(things)
      .orderBy(things.id)
      .all()
    expect(rows).toEqual([
      { id: 't1', twice: '6', flag: true },
      { id: 't2', twice: '0', flag: false },
    ])
  })

  test('nested fields and a left join that finds nothing keep their shape (the original mapper)', () => {
    const orm = setup()
    const rows = orm
      .select({ thing: { id: things.id, at: things.at }, owner: owners })
      .from(things)
      .leftJoin(owners, eq(owners.id, things.ownerId))
      .orderBy(things.id)
      .all()
    expect(rows).toEqual([
      { thing: { id: 't1', at: new Date(1_700_000_000_123) }, owner: { id: 'o1', name: 'Ada' } },
      { thing: { id: 't2', at: null }, owner: null },
    ])
  })

  test('the installed drizzle carries the patch', () => {
    // Not in drizzle's published types (internal), but exported by the module.
    const { mapResultRow } = drizzleUtils as unknown as { mapResultRow: (...a: unknown[]) => unknown }
    expect(mapResultRow.toString()).toContain('switchboardFlatPlan')
  })
})
