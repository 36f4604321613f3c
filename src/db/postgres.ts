import { AsyncLocalStorage } from 'node:async_hooks'
import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import type { Logger } from '../lib/log'
import { DbHealth } from './health'
import { type Database, type MigratorHost, type Orm, runAll } from './index'
import { QueryStats, timedPostgres } from './instrument'
import { PgGuard } from './pg-guard'
import type { Tables } from './schema'
import * as pgTables from './schema/pg'

/** Advisory lock key held while migrating, so instances starting together migrate once. */
const MIGRATION_LOCK = 7_361_120_001

export function openPostgres(
  config: { url: string; poolSize: number; timeoutMs: number },
  log: Logger,
): Database {
  const queries = new QueryStats()
  const client = timedPostgres(
    postgres(config.url, {
      max: config.poolSize,
      onnotice: () => {},
      connect_timeout: Math.max(1, Math.ceil(config.timeoutMs / 1000)),
      // The driver's default backoff grows to 20 s after a few refused connects, so a database
      // back after a restart would wait that long for its first connection; at most 1 s here.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
      connection: { application_name: 'switchboard' },
    }),
    queries,
  )
  const health = new DbHealth()
  const guard = new PgGuard(client, config.timeoutMs, health, log)
  const db = drizzle({ client: guard.wrap(client), schema: pgTables })
  const orm = db as unknown as Orm
  const inTx = new AsyncLocalStorage<{ tx: Orm; committed: Array<() => void> }>()
  let active = 0

  return {
    dialect: 'pg',
    orm,
    t: pgTables as unknown as Tables,
    health,
    async readiness() {
      return guard.down ?? (await guard.writable())
    },
    async tx(fn) {
      const outer = inTx.getStore()
      if (outer) return fn(outer.tx)
      const committed: Array<() => void> = []
      active++
      try {
        const result = await db.transaction((tx) =>
          inTx.run({ tx: tx as unknown as Orm, committed }, () => fn(tx as unknown as Orm)),
        )
        guard.noteSuccess()
        runAll(committed)
        return result
      } finally {
        active--
      }
    },
    onCommit(fn) {
      const store = inTx.getStore()
      if (store) store.committed.push(fn)
      else fn()
    },
    write: (fn) => fn(),
    prepared(name, build) {
      type PgPrepared = { prepare(name: string): { execute(p: Record<string, unknown>): Promise<unknown> } }
      const query = (build(orm) as unknown as PgPrepared).prepare(name)
      return (params) => query.execute(params) as never
    },
    readTogether: (fn) => fn(),
    preparedTx(name, build) {
      type PgPrepared = { prepare(name: string): { execute(p: Record<string, unknown>): Promise<unknown> } }
      return (tx, params) => (build(tx) as unknown as PgPrepared).prepare(name).execute(params) as never
    },
    async migrate(migrations) {
      const list = migrations ?? (await import('./migrations/pg.gen')).migrations
      // One dedicated connection: the session-level advisory lock and the migration share it.
      const single = postgres(config.url, { max: 1, onnotice: () => {} })
      try {
        await single`SELECT pg_advisory_lock(${MIGRATION_LOCK})`
        const host = drizzle({ client: single }) as unknown as MigratorHost
        await host.dialect.migrate(list, host.session, {})
      } finally {
        await single.end({ timeout: 5 })
      }
    },
    async ping() {
      await db.execute('select 1')
    },
    async close() {
      await client.end({ timeout: 5 })
    },
    queries,
    // A transaction holds a connection for its length; a statement outside one holds one while in flight.
    stats: () => {
      const busy = active + queries.inFlight
      return {
        poolSize: config.poolSize,
        inUse: Math.min(busy, config.poolSize),
        waiting: Math.max(0, busy - config.poolSize),
        txActive: active,
      }
    },
    async execute(query, tx) {
      const runner = (tx ?? db) as unknown as { execute(q: typeof query): Promise<unknown> }
      return (await runner.execute(query)) as Record<string, unknown>[]
    },
  }
}
