import { sql } from 'drizzle-orm'
import type { Database } from '../../src/db'

/**
 * Makes the database itself refuse every update of one row (a trigger that raises), until
 * `lift()` (through another handle on the same database, if given): a real write failure for tests of what happens to a write that did not land. On
 * the shared Postgres the trigger names its row, so other suites' rows are untouched.
 */
export async function refuseUpdates(db: Database, table: string, rowId: string) {
  const name = `refuse_${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`
  if (db.dialect === 'sqlite') {
    await db.execute(
      sql.raw(
        `CREATE TRIGGER ${name} BEFORE UPDATE ON ${table} WHEN OLD.id = '${rowId}' BEGIN SELECT RAISE(ABORT, 'refused'); END`,
      ),
    )
    return { lift: async (via = db) => void (await via.execute(sql.raw(`DROP TRIGGER ${name}`))) }
  }
  await db.execute(
    sql.raw(
      `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`,
    ),
  )
  await db.execute(
    sql.raw(
      `CREATE TRIGGER ${name} BEFORE UPDATE ON ${table} FOR EACH ROW WHEN (OLD.id = '${rowId}') EXECUTE FUNCTION ${name}()`,
    ),
  )
  return {
    lift: async (via = db) => {
      await via.execute(sql.raw(`DROP TRIGGER ${name} ON ${table}`))
      await via.execute(sql.raw(`DROP FUNCTION ${name}()`))
    },
  }
}
