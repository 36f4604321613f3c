import { afterAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { openDatabase } from '../../src/db'
import { newId } from '../../src/lib/ids'
import { testConfig } from '../helpers'

const db = await openDatabase(testConfig().database)
await db.migrate()
afterAll(() => db.close())
const { workspaces } = db.t
const ws = (name: string) => ({ id: newId(), name: `${name}-${newId()}`, createdAt: new Date() })
const exists = async (id: string) =>
  (await db.orm.select().from(workspaces).where(eq(workspaces.id, id))).length === 1

describe(`transactions (${db.dialect})`, () => {
  test('commit keeps every write', async () => {
    const a = ws('a')
    const b = ws('b')
    await db.tx(async (tx) => {
      await tx.insert(workspaces).values(a)
      await tx.insert(workspaces).values(b)
    })
    expect(await exists(a.id)).toBe(true)
    expect(await exists(b.id)).toBe(true)
  })

  test('a throw after awaited writes rolls all of them back', async () => {
    const a = ws('a')
    const b = ws('b')
    await expect(
      db.tx(async (tx) => {
        await tx.insert(workspaces).values(a)
        await new Promise((r) => setTimeout(r, 5))
        await tx.insert(workspaces).values(b)
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await exists(a.id)).toBe(false)
    expect(await exists(b.id)).toBe(false)
  })

  test('a nested call joins the outer transaction and rolls back with it', async () => {
    const a = ws('outer')
    const b = ws('inner')
    await expect(
      db.tx(async (tx) => {
        await tx.insert(workspaces).values(a)
        await db.tx(async (inner) => {
          await inner.insert(workspaces).values(b)
        })
        throw new Error('outer fails')
      }),
    ).rejects.toThrow('outer fails')
    expect(await exists(a.id)).toBe(false)
    expect(await exists(b.id)).toBe(false)
  })

  test('concurrent transactions do not swallow each other’s writes', async () => {
    const keep = Array.from({ length: 20 }, (_, i) => ws(`keep${i}`))
    const drop = Array.from({ length: 20 }, (_, i) => ws(`drop${i}`))
    await Promise.allSettled([
      ...keep.map((w) =>
        db.tx(async (tx) => {
          await new Promise((r) => setTimeout(r, Math.random() * 5))
          await tx.insert(workspaces).values(w)
        }),
      ),
      ...drop.map((w) =>
        db.tx(async (tx) => {
          await tx.insert(workspaces).values(w)
          await new Promise((r) => setTimeout(r, Math.random() * 5))
          throw new Error('rollback')
        }),
      ),
    ])
    for (const w of keep) expect(await exists(w.id)).toBe(true)
    for (const w of drop) expect(await exists(w.id)).toBe(false)
  })

  test('a constraint error inside rolls back earlier writes', async () => {
    const a = ws('a')
    await expect(
      db.tx(async (tx) => {
        await tx.insert(workspaces).values(a)
        await tx.insert(workspaces).values({ ...ws('dup'), name: a.name })
      }),
    ).rejects.toThrow()
    expect(await exists(a.id)).toBe(false)
  })
})

describe(`reads run together (${db.dialect})`, () => {
  const byId = db.prepared('test_ws_by_id', (orm) =>
    orm
      .select()
      .from(workspaces)
      .where(eq(workspaces.id, sql.placeholder('id'))),
  )

  test('answer as the same reads one by one', async () => {
    const a = ws('together-a')
    const b = ws('together-b')
    await db.tx(async (tx) => {
      await tx.insert(workspaces).values([a, b])
    })
    const [ra, rb, none] = await Promise.all(
      db.readTogether(() => [byId({ id: a.id }), byId({ id: b.id }), byId({ id: newId() })]),
    )
    expect(ra!.map((r) => r.name)).toEqual([a.name])
    expect(rb!.map((r) => r.name)).toEqual([b.name])
    expect(none).toEqual([])
  })

  test('a read that fails leaves no transaction open behind it', async () => {
    expect(() =>
      db.readTogether(() => {
        throw new Error('boom')
      }),
    ).toThrow('boom')
    const c = ws('after-a-failed-read')
    await db.tx(async (tx) => {
      await tx.insert(workspaces).values(c)
    })
    expect(await exists(c.id)).toBe(true)
  })

  test('inside a write transaction they join it and see its writes', async () => {
    const d = ws('inside')
    await db.tx(async (tx) => {
      await tx.insert(workspaces).values(d)
      const [seen] = await Promise.all(db.readTogether(() => [byId({ id: d.id })]))
      if (db.dialect === 'sqlite') expect(seen!.map((r) => r.id)).toEqual([d.id])
    })
    expect(await exists(d.id)).toBe(true)
  })
})
