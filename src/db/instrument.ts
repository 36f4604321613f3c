import type { Database as BunSqlite } from 'bun:sqlite'
import type postgres from 'postgres'

/**
 * What the database port counts for `/metrics`: statements in flight and how long each took.
 * `observe` is null until the metrics are registered (and in tools that never register them).
 */
export class QueryStats {
  /** Statements sent and not yet answered, outside transactions (Postgres; SQLite runs them synchronously). */
  inFlight = 0
  observe: ((seconds: number) => void) | null = null
}

type Statement = ReturnType<BunSqlite['query']>
const TIMED = ['all', 'get', 'run', 'values'] as const

/**
 * bun:sqlite's statements, cached by SQL text (bun's `query()`), each wrapped once so its
 * runs are timed. drizzle prepares a statement on every execution; bun's cache and this map
 * make that a lookup. The wrapper has what drizzle calls (all, get, run, values) and nothing else.
 */
export function timedSqliteStatements(client: BunSqlite, stats: QueryStats) {
  const wrapped = new WeakMap<Statement, Statement>()
  return (sql: string): Statement => {
    const st = client.query(sql)
    let w = wrapped.get(st)
    if (!w) {
      w = {} as Statement
      for (const name of TIMED) {
        const run = (st[name] as (...a: unknown[]) => unknown).bind(st)
        ;(w as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
          const observe = stats.observe
          if (!observe) return run(...args)
          const started = performance.now()
          try {
            return run(...args)
          } finally {
            observe((performance.now() - started) / 1000)
          }
        }
      }
      wrapped.set(st, w)
    }
    return w
  }
}

type Sql = postgres.Sql
type Query = { resolve: (v: unknown) => void; reject: (e: unknown) => void }

/**
 * A postgres-js client whose queries are counted while in flight and timed: `unsafe` (what
 * drizzle sends every statement through) on the pool and inside every transaction. postgres-js
 * keeps its own pool state private, so in-use connections are derived from these counts.
 */
export function timedPostgres(client: Sql, stats: QueryStats, inTransaction = false): Sql {
  const unsafe = client.unsafe.bind(client)
  client.unsafe = ((...args: Parameters<Sql['unsafe']>) => {
    const q = unsafe(...args) as unknown as Query
    const started = performance.now()
    if (!inTransaction) stats.inFlight++
    const { resolve, reject } = q
    const done = () => {
      if (!inTransaction) stats.inFlight--
      stats.observe?.((performance.now() - started) / 1000)
    }
    q.resolve = (v) => {
      done()
      resolve(v)
    }
    q.reject = (e) => {
      done()
      reject(e)
    }
    return q
  }) as unknown as Sql['unsafe']
  if (!inTransaction) {
    const begin = client.begin.bind(client) as (...a: unknown[]) => Promise<unknown>
    client.begin = ((...args: unknown[]) => {
      const fn = args.at(-1) as (tx: Sql) => unknown
      args[args.length - 1] = (tx: Sql) => fn(timedPostgres(tx, stats, true))
      return begin(...args)
    }) as Sql['begin']
  }
  return client
}
