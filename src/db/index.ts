import { Database as BunSqlite } from 'bun:sqlite'
import { AsyncLocalStorage } from 'node:async_hooks'
import { accessSync, closeSync, constants, mkdirSync, openSync, statfsSync } from 'node:fs'
import { dirname } from 'node:path'
import type { sql } from 'drizzle-orm'
import { type BunSQLiteDatabase, drizzle as drizzleSqlite } from 'drizzle-orm/bun-sqlite'
import type { Config } from '../config'
import type { Logger } from '../lib/log'
import { Mutex } from '../lib/mutex'
import { DbHealth, type Unavailable } from './health'
import { QueryStats, timedSqliteStatements } from './instrument'
import type { MigrationMeta } from './migrations'
import { sqliteTables, type Tables } from './schema'

/**
 * The query builder services use. Typed as drizzle's SQLite builder; on Postgres the
 * postgres-js builder stands in (the same select/insert/update/delete/returning surface).
 * Only portable calls belong in service code: await the builder, never `.all()`/`.get()`/`.run()`.
 */
export type Orm = BunSQLiteDatabase<Tables>

/** What a drizzle builder offers to `prepared`: SQLite's `prepare()`, Postgres' `prepare(name)`. */
export type Preparable = { prepare(): { all(params?: Record<string, unknown>): unknown } }

/** The database port: one per process, its dialect chosen once at start-up. */
export interface Database {
  readonly dialect: 'sqlite' | 'pg'
  readonly orm: Orm
  readonly t: Tables
  /** The last database fault seen (unreachable, disk full, read-only…) until a write goes through. */
  readonly health: DbHealth
  /** Null when the database can take a write now; else what is wrong (for `/readyz`). */
  readiness(): Promise<Unavailable | null>
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws.
   * A call inside another transaction joins it. Keep network I/O out of `fn`.
   */
  tx<T>(fn: (tx: Orm) => Promise<T>): Promise<T>
  /**
   * Runs a single auto-committed write outside a transaction. On SQLite it waits for the
   * writer like a transaction does, so it never lands inside another request's transaction.
   */
  write<T>(fn: () => Promise<T>): Promise<T>
  /** Runs `fn` once the current transaction commits (at once outside a transaction; never on rollback). */
  onCommit(fn: () => void): void
  /**
   * A query for a hot path, built once (drizzle's SQL building dominates a simple query's
   * cost) and run with `sql.placeholder` values. Runs outside any transaction.
   */
  prepared<B extends Preparable, P extends Record<string, unknown>>(
    name: string,
    build: (orm: Orm) => B,
  ): (params: P) => Promise<Awaited<ReturnType<ReturnType<B['prepare']>['all']>>>
  /**
   * `prepared` for a statement that runs inside a transaction (`tx`): on SQLite built once,
   * since the one connection is the transaction's; on Postgres built on the transaction's
   * connection at each call (the SQL is the same; only the building is not saved there).
   */
  preparedTx<B extends Preparable, P extends Record<string, unknown>>(
    name: string,
    build: (orm: Orm) => B,
  ): (tx: Orm, params: P) => Promise<Awaited<ReturnType<ReturnType<B['prepare']>['all']>>>
  /**
   * Runs `fn`, which starts several reads (prepared queries, not awaited inside), as one read:
   * on SQLite the statements run synchronously inside `fn`, in one read transaction — one
   * WAL read lock taken and released for all of them instead of one per statement, two
   * `fcntl` calls each — and see one snapshot; on Postgres `fn` runs as it is (the reads go
   * out side by side). Inside a write transaction it joins it.
   */
  readTogether<T>(fn: () => T): T
  migrate(migrations?: MigrationMeta[]): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
  /**
   * For `/metrics`: connections (SQLite: the one writer) in use by a transaction or a statement,
   * callers waiting for one, transactions in progress; `queries` times every statement.
   */
  stats(): { poolSize: number; inUse: number; waiting: number; txActive: number }
  readonly queries: QueryStats
  /** Raw SQL for the few dialect-specific statements (advisory locks, pragmas, tests). */
  execute(query: ReturnType<typeof sql>, tx?: Orm): Promise<Record<string, unknown>[]>
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} }

export async function openDatabase(config: Config['database'], log: Logger = quiet): Promise<Database> {
  return config.kind === 'sqlite'
    ? openSqlite(config.path, config.synchronous)
    : (await import('./postgres')).openPostgres(config, log)
}

/** Below this much free space the disk counts as full: SQLite needs room for its WAL and checkpoints. */
const MIN_FREE_BYTES = 1024 * 1024

function openSqlite(path: string, synchronous: 'normal' | 'full' = 'normal'): Database {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    // Created by us, owner-only, whatever the directory and umask allow; SQLite gives the
    // -wal and -shm files it creates the database file's mode.
    closeSync(openSync(path, 'a', 0o600))
  }
  const client = new BunSqlite(path, { create: true, strict: true })
  client.exec('PRAGMA journal_mode = WAL')
  // NORMAL: a commit is durable once the WAL is checkpointed (a power cut can lose the last
  // commits, never corrupt); FULL: every commit is fsynced before it is acknowledged.
  client.exec(`PRAGMA synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  client.exec('PRAGMA foreign_keys = ON')
  client.exec('PRAGMA busy_timeout = 5000')
  // drizzle prepares every statement afresh; bun:sqlite's query() caches compiled
  // statements by SQL text, which saves the compile on every repeated query.
  const queries = new QueryStats()
  client.prepare = timedSqliteStatements(client, queries) as unknown as typeof client.prepare
  const orm = drizzleSqlite({ client, schema: sqliteTables })
  const begin = client.query('BEGIN')
  const commit = client.query('COMMIT')
  // One connection: a transaction must not interleave with another request's statements,
  // so transactions (and therefore every write) are serialised by this mutex.
  const mutex = new Mutex()
  const inTx = new AsyncLocalStorage<Array<() => void>>()
  const health = new DbHealth()
  let active = 0

  return {
    dialect: 'sqlite',
    orm,
    t: sqliteTables,
    health,
    async readiness() {
      try {
        client.query('SELECT 1').get()
      } catch (e) {
        return health.failed(e) ?? { code: 'database_unavailable', cause: String((e as Error).message) }
      }
      if (path !== ':memory:') {
        try {
          accessSync(dirname(path), constants.W_OK)
        } catch (e) {
          return { code: 'storage_unavailable', cause: String((e as { code?: string }).code ?? 'EACCES') }
        }
        try {
          const fs = statfsSync(dirname(path))
          if (fs.bavail * fs.bsize < MIN_FREE_BYTES) return { code: 'storage_unavailable', cause: 'ENOSPC' }
        } catch {}
      }
      return health.current
    },
    async tx(fn) {
      if (inTx.getStore()) return fn(orm)
      const committed: Array<() => void> = []
      const result = await mutex.run(async () => {
        active++
        try {
          client.exec('BEGIN IMMEDIATE')
          const result = await inTx.run(committed, () => fn(orm))
          client.exec('COMMIT')
          health.succeeded()
          return result
        } catch (e) {
          health.failed(e)
          // SQLite may have rolled back on its own (a full disk, an I/O error): a failing
          // ROLLBACK then says nothing, and must not hide the error that caused it.
          if (client.inTransaction) {
            try {
              client.exec('ROLLBACK')
            } catch {}
          }
          throw e
        } finally {
          active--
        }
      })
      runAll(committed)
      return result
    },
    onCommit(fn) {
      const pending = inTx.getStore()
      if (pending) pending.push(fn)
      else fn()
    },
    async write(fn) {
      if (inTx.getStore()) return fn()
      return mutex.run(async () => {
        try {
          const result = await fn()
          health.succeeded()
          return result
        } catch (e) {
          health.failed(e)
          throw e
        }
      })
    },
    prepared(_name, build) {
      const query = build(orm).prepare()
      return async (params) => query.all(params) as never
    },
    readTogether(fn) {
      if (client.inTransaction) return fn()
      begin.run()
      try {
        return fn()
      } finally {
        commit.run()
      }
    },
    preparedTx(_name, build) {
      const query = build(orm).prepare()
      return async (_tx, params) => {
        // Outside a transaction it could land inside another request's.
        if (!inTx.getStore()) throw new Error('preparedTx: run it inside db.tx')
        return query.all(params) as never
      }
    },
    async migrate(migrations) {
      const list = migrations ?? (await import('./migrations/sqlite.gen')).migrations
      await mutex.run(async () => {
        ;(orm as unknown as MigratorHost).dialect.migrate(list, (orm as unknown as MigratorHost).session)
      })
    },
    async ping() {
      client.query('SELECT 1').get()
    },
    async close() {
      await mutex.run(async () => {
        try {
          client.exec('PRAGMA optimize')
        } catch {}
        client.close()
      })
    },
    queries,
    // Statements run synchronously: the connection is held across awaits only by a transaction or a write.
    stats: () => ({
      poolSize: 1,
      inUse: mutex.busy ? 1 : 0,
      waiting: mutex.waiting,
      txActive: active,
    }),
    async execute(query) {
      return orm.all(query) as Record<string, unknown>[]
    },
  }
}

/** drizzle's internal migrator entry point, shared by both dialects' `migrate()` helpers. */
export type MigratorHost = {
  dialect: { migrate(m: MigrationMeta[], session: unknown, config?: unknown): unknown }
  session: unknown
}

/** Runs after-commit callbacks; one that throws does not stop the others. */
export function runAll(callbacks: Array<() => void>) {
  for (const cb of callbacks) {
    try {
      cb()
    } catch (e) {
      console.error('after-commit callback failed', e)
    }
  }
}
