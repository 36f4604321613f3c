import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { asc, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { LITERAL_VARIANTS, QueryStats, timedSqliteStatements } from '../../src/db/instrument'

// The SQLite statement wrapper runs a bound LIMIT/OFFSET as literal SQL (docs/adr/0017).
// These hold the answers to what the bound statement gives, and show which text SQLite ran.

const items = sqliteTable('items', { id: integer('id').primaryKey(), name: text('name').notNull() })

function setup() {
  const client = new Database(':memory:', { strict: true })
  client.exec('create table items (id integer primary key, name text not null)')
  const insert = client.query('insert into items (id, name) values (?, ?)')
  for (let i = 1; i <= 100; i++) insert.run(i, `item-${String(i).padStart(3, '0')}`)
  const compiled: string[] = []
  const query = client.query.bind(client)
  client.query = ((text: string) => {
    compiled.push(text)
    return query(text)
  }) as typeof client.query
  const stats = new QueryStats()
  const timings: number[] = []
  stats.observe = (s) => timings.push(s)
  client.prepare = timedSqliteStatements(client, stats) as unknown as typeof client.prepare
  return { client, orm: drizzle({ client }), compiled, timings }
}

describe('bound LIMIT and OFFSET on SQLite', () => {
  test('a page runs as literal SQL and gives the rows the bound statement gives', () => {
    const { orm, compiled, timings } = setup()
    const page = orm.select().from(items).orderBy(asc(items.id)).limit(5).offset(10).all()
    expect(page.map((r) => r.id)).toEqual([11, 12, 13, 14, 15])
    expect(compiled.some((t) => t.endsWith(' limit 5 offset 10'))).toBe(true)
    expect(timings.length).toBe(1)
    const first = orm.select().from(items).orderBy(asc(items.id)).limit(3).all()
    expect(first.map((r) => r.id)).toEqual([1, 2, 3])
    expect(compiled.some((t) => /limit 3$/.test(t))).toBe(true)
  })

  test('a prepared query with placeholders before the limit keeps their order', () => {
    const { orm } = setup()
    const q = orm
      .select()
      .from(items)
      .where(sql`${items.id} > ${sql.placeholder('after')} and ${items.name} like ${sql.placeholder('like')}`)
      .orderBy(asc(items.id))
      .limit(sql.placeholder('n') as unknown as number)
      .prepare()
    expect(q.all({ after: 40, like: 'item-05%', n: 4 }).map((r) => r.id)).toEqual([50, 51, 52, 53])
    expect(q.all({ after: 52, like: 'item-05%', n: 2 }).map((r) => r.id)).toEqual([53, 54])
    expect(q.all({ after: 0, like: 'item-1%', n: 0 })).toEqual([])
  })

  test('past the variant cap, and for a limit that is not a count, the bound statement answers', () => {
    const { orm, compiled } = setup()
    for (let n = 1; n <= LITERAL_VARIANTS + 8; n++) {
      const rows = orm.select().from(items).orderBy(asc(items.id)).limit(n).all()
      expect(rows.length).toBe(n)
      expect(rows.at(-1)!.id).toBe(n)
    }
    const literal = compiled.filter((t) => /limit \d+$/.test(t))
    expect(new Set(literal).size).toBe(LITERAL_VARIANTS)
    // A limit SQLite is given as text never becomes part of the SQL.
    const q = orm
      .select()
      .from(items)
      .orderBy(asc(items.id))
      .limit(sql.placeholder('n') as unknown as number)
      .prepare()
    expect(q.all({ n: '2' }).map((r) => r.id)).toEqual([1, 2])
    expect(compiled.some((t) => t.includes("limit '") || t.includes('limit 2;'))).toBe(false)
    // A fraction is refused as SQLite refuses it, not rounded into the text.
    expect(() => q.all({ n: 1.5 })).toThrow('datatype mismatch')
    expect(compiled.some((t) => t.includes('1.5'))).toBe(false)
  })
})
