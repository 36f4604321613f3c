import { and, eq, isNull, lt, or, type SQL, sql } from 'drizzle-orm'
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core'
import type { Database } from './index'

/** Rows per statement on Postgres (two array parameters each, whatever the count). */
const CHUNK = 500

/**
 * Writes a batch of times noted in memory (heartbeat times, activity) into one timestamp
 * column, keyed by row id. Rows are locked in id order, so two batches (two instances, or
 * heartbeats beside activity) can never deadlock each other; `forwardOnly` never moves a
 * time backwards (a fresher write may have landed). Throws when the batch did not land: the
 * caller keeps it and tries again.
 */
export async function writeTimes(
  db: Database,
  table: SQLiteTable & { id: SQLiteColumn },
  column: SQLiteColumn,
  times: Map<string, Date>,
  forwardOnly: boolean,
): Promise<void> {
  if (times.size === 0) return
  const entries = [...times].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (db.dialect === 'sqlite') {
    // One writer: no lock order to keep; one transaction is one commit for the lot.
    await db.tx(async (tx) => {
      for (const [id, at] of entries) {
        const newer = forwardOnly ? or(isNull(column), lt(column, at)) : undefined
        await tx
          .update(table)
          .set({ [keyOf(table, column)]: at })
          .where(and(eq(table.id, id), newer))
      }
    })
    return
  }
  for (let i = 0; i < entries.length; i += CHUNK) {
    const chunk = entries.slice(i, i + CHUNK)
    // uuids and ISO times need no quoting inside an array literal.
    const ids = `{${chunk.map(([id]) => id).join(',')}}`
    const ats = `{${chunk.map(([, at]) => at.toISOString()).join(',')}}`
    const col = sql.identifier(column.name)
    const newer: SQL = forwardOnly ? sql` and (t.${col} is null or t.${col} < v.at)` : sql``
    await db.tx(async (tx) => {
      await lockInIdOrder(
        db,
        tx,
        table,
        chunk.map(([id]) => id),
      )
      await db.execute(
        sql`update ${table} as t set ${col} = v.at
            from unnest(${ids}::uuid[], ${ats}::timestamptz[]) as v(id, at)
            where t.id = v.id${newer}`,
        tx,
      )
    })
  }
}

/**
 * Postgres: locks the rows of `ids` (uuids) in the transaction, in id order. Every batch that
 * writes many agents takes its locks this way (these times, the presence sweep), so two of
 * them can never deadlock each other. SQLite has one writer and needs none.
 */
export async function lockInIdOrder(
  db: Database,
  tx: Parameters<Database['execute']>[1],
  table: SQLiteTable & { id: SQLiteColumn },
  ids: readonly string[],
): Promise<void> {
  if (db.dialect !== 'pg' || ids.length === 0) return
  // uuids need no quoting inside an array literal.
  await db.execute(
    sql`select id from ${table} where id = any(${`{${ids.join(',')}}`}::uuid[]) order by id for update`,
    tx,
  )
}

/** The property name drizzle knows a column by (what `.set()` takes). */
function keyOf(table: SQLiteTable, column: SQLiteColumn): string {
  for (const [key, c] of Object.entries(table)) if (c === column) return key
  throw new Error(`column ${column.name} is not in its table`)
}

/** Puts a batch that did not land back beside what was noted since, keeping the newer time of each. */
export function restore(into: Map<string, Date>, batch: Map<string, Date>) {
  for (const [id, at] of batch) {
    const since = into.get(id)
    if (!since || since < at) into.set(id, at)
  }
}
